// Package kubectl holds the test of issue 23: each fixture of manifests is
// applied by the real kubectl (on the PATH) to a real API server with the
// Gatehouse CRDs, and the objects kubectl created are compared with the
// objects the CLI reads from the same paths (manifest.Read): the same set
// of objects, and each one as kubectl sent it.
package kubectl

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/gatehouse-dev/gatehouse/internal/manifest"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Run(m, &env)) }

// nsVar in a fixture's files stands for the test's namespace.
const nsVar = "${NAMESPACE}"

// fixture is one `kubectl apply` and the CLI's reading of the same input.
type fixture struct {
	name string
	// files are written into a fresh directory (relative path → content,
	// nsVar replaced).
	files map[string]string
	// args follow `kubectl apply -n NS`; a path argument is relative to the
	// fixture's directory (made absolute for kubectl and for the CLI).
	args []string
	// paths and recursive are what the CLI reads: its -f values and -R.
	paths     []string
	recursive bool
	// stdin is given to both for "-".
	stdin string
	// present and absent are objects ("Kind name") the fixture is about:
	// the decoys kubectl skips and the objects it unpacks from lists.
	present, absent []string
}

const (
	user = `apiVersion: iam.gatehouse.dev/v1alpha1
kind: User
metadata:
  name: %s
spec:
  login: %s
`
	group = `apiVersion: iam.gatehouse.dev/v1alpha1
kind: Group
metadata:
  name: %s
spec:
  displayName: %s
`
)

// fill replaces each %s of format by name.
func fill(format, name string) string { return strings.ReplaceAll(format, "%s", name) }

// tree is a directory as kubectl reads it: a.yaml only without -R, sub/c.yaml
// too with it; never b.YAML (kubectl's extensions are case-sensitive) nor
// notes.txt, though both hold a valid User.
var tree = map[string]string{
	"manifests/a.yaml":     fill(user, "alice"),
	"manifests/b.YAML":     fill(user, "mallory"),
	"manifests/sub/c.yaml": fill(user, "carol"),
	"manifests/notes.txt":  fill(user, "noted"),
}

var fixtures = []fixture{
	{
		name:    "directory",
		files:   tree,
		args:    []string{"-f", "manifests"},
		paths:   []string{"manifests"},
		present: []string{"User alice"},
		absent:  []string{"User mallory", "User carol", "User noted"},
	},
	{
		name:      "directory-recursive",
		files:     tree,
		args:      []string{"-R", "-f", "manifests"},
		paths:     []string{"manifests"},
		recursive: true,
		present:   []string{"User alice", "User carol"},
		absent:    []string{"User mallory", "User noted"},
	},
	{
		// A List is unpacked; so is any document carrying items, whatever
		// its kind: the ConfigMap is never created, the Group it carries is.
		name: "lists",
		files: map[string]string{"lists.yaml": `apiVersion: v1
kind: List
items:
- apiVersion: iam.gatehouse.dev/v1alpha1
  kind: Group
  metadata:
    name: listed-group
  spec:
    displayName: Listed
- apiVersion: iam.gatehouse.dev/v1alpha1
  kind: User
  metadata:
    name: listed-user
  spec:
    login: listed-user
    groups: [listed-group]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: innocent-settings
data:
  color: blue
items:
- apiVersion: iam.gatehouse.dev/v1alpha1
  kind: Group
  metadata:
    name: hidden-admins
  spec:
    displayName: Hidden admins
    globalPermissions: [admin]
`},
		args:    []string{"-f", "lists.yaml"},
		paths:   []string{"lists.yaml"},
		present: []string{"Group listed-group", "User listed-user", "Group hidden-admins"},
		absent:  []string{"ConfigMap innocent-settings"},
	},
	{
		// kubectl apply -k: a base and an overlay with a namespace, a name
		// prefix, a patch and a generated ConfigMap (its name hashed).
		name: "kustomize",
		files: map[string]string{
			"base/kustomization.yaml": "resources: [users.yaml, groups.yaml]\n",
			"base/users.yaml":         fill(user, "eve"),
			"base/groups.yaml":        fill(group, "readers"),
			"overlay/kustomization.yaml": `namespace: ` + nsVar + `
namePrefix: prod-
resources: [../base]
patches:
- path: eve.yaml
configMapGenerator:
- name: settings
  literals: [tier=prod]
`,
			"overlay/eve.yaml": `apiVersion: iam.gatehouse.dev/v1alpha1
kind: User
metadata:
  name: eve
spec:
  displayName: Eve in production
  active: false
`,
		},
		args:    []string{"-k", "overlay"},
		paths:   []string{"overlay"},
		present: []string{"User prod-eve", "Group prod-readers"},
		absent:  []string{"User eve", "Group readers"},
	},
	{
		// Standard input: YAML documents, an empty one, and a GroupList.
		name: "stdin",
		stdin: fill(user, "sam") + "---\n---\n" + `apiVersion: iam.gatehouse.dev/v1alpha1
kind: GroupList
items:
- apiVersion: iam.gatehouse.dev/v1alpha1
  kind: Group
  metadata:
    name: piped
  spec:
    globalPermissions: [createProjects]
`,
		args:    []string{"-f", "-"},
		paths:   []string{manifest.Stdin},
		present: []string{"User sam", "Group piped"},
	},
}

// TestApplyMatchesRead applies each fixture with kubectl into a fresh
// namespace, lists every namespaced object there, and requires the CLI to
// read exactly those objects from the same input, each as kubectl applied
// it (its last-applied configuration).
func TestApplyMatchesRead(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Fatal("kubectl is not on the PATH; this test compares the CLI with it")
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := env.ControlPlane.WriteKubeconfig(kubeconfig); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(t.Context(), "kubectl", "--kubeconfig", kubeconfig, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl version: %v\n%s", err, out)
	}
	t.Logf("kubectl version:\n%s", out)
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			ns := env.Namespace(t)
			dir := t.TempDir()
			for name, content := range f.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(strings.ReplaceAll(content, nsVar, ns)), 0o600); err != nil {
					t.Fatal(err)
				}
			}

			applyWithKubectl(t, kubeconfig, ns, dir, f)
			created := objectsIn(t, ns)

			var paths []string
			for _, p := range f.paths {
				if p != manifest.Stdin {
					p = filepath.Join(dir, p)
				}
				paths = append(paths, p)
			}
			// As the CLI reads them (cmd/gatehouse/internal/input), the
			// fixture's directory the input root; limits and warnings aside.
			docs, err := manifest.Read(manifest.Options{Root: dir, Recursive: f.recursive, Stdin: strings.NewReader(f.stdin)}, paths...)
			if err != nil {
				t.Fatalf("the CLI cannot read what kubectl applied: %v", err)
			}
			got := map[string]map[string]any{}
			for _, d := range docs {
				obj := normalize(t, d.Object.Object)
				if d.Object.GetNamespace() == "" {
					_ = unstructured.SetNestedField(obj, ns, "metadata", "namespace")
				}
				u := unstructured.Unstructured{Object: obj}
				if u.GetNamespace() != ns {
					t.Errorf("the CLI reads %s in namespace %q; kubectl applied everything to %s", d.Source(), u.GetNamespace(), ns)
				}
				got[key(u.GroupVersionKind().GroupKind(), u.GetName())] = obj
			}

			if diff := cmp.Diff(slices.Sorted(maps.Keys(created)), slices.Sorted(maps.Keys(got))); diff != "" {
				t.Errorf("the objects kubectl created (-) and the ones the CLI reads (+) differ:\n%s", diff)
			}
			for k, applied := range created {
				if obj, ok := got[k]; ok {
					if diff := cmp.Diff(applied, obj); diff != "" {
						t.Errorf("%s as kubectl applied it (-) and as the CLI reads it (+) differ:\n%s", k, diff)
					}
				}
			}
			for _, want := range f.present {
				k := shortKey(want)
				if _, ok := created[k]; !ok {
					t.Errorf("kubectl did not create %s, which the fixture expects it to", want)
				}
				if _, ok := got[k]; !ok {
					t.Errorf("the CLI does not read %s, which kubectl creates", want)
				}
			}
			for _, decoy := range f.absent {
				k := shortKey(decoy)
				if _, ok := created[k]; ok {
					t.Errorf("kubectl created %s, which the fixture expects it to skip", decoy)
				}
				if _, ok := got[k]; ok {
					t.Errorf("the CLI reads %s, which kubectl does not create", decoy)
				}
			}
		})
	}
}

// applyWithKubectl runs `kubectl apply -n ns` with the fixture's arguments,
// its paths made absolute under dir.
func applyWithKubectl(t *testing.T, kubeconfig, ns, dir string, f fixture) {
	t.Helper()
	args := []string{"--kubeconfig", kubeconfig, "--cache-dir", filepath.Join(t.TempDir(), "cache"), "apply", "-n", ns}
	for i, a := range f.args {
		if i > 0 && (f.args[i-1] == "-f" || f.args[i-1] == "-k") && a != "-" {
			a = filepath.Join(dir, a)
		}
		args = append(args, a)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(f.stdin)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("kubectl %s (%v):\n%s", strings.Join(f.args, " "), time.Since(start).Round(time.Millisecond), out)
}

// notApplied are the objects of a namespace that Kubernetes makes itself
// (kube-controller-manager, when it runs): never kubectl's.
var notApplied = map[string]bool{
	"ConfigMap kube-root-ca.crt": true,
	"ServiceAccount default":     true,
}

// objectsIn lists every object of every namespaced resource the API server
// serves in ns (events aside) and returns each as kubectl applied it: its
// last-applied configuration, by key.
func objectsIn(t *testing.T, ns string) map[string]map[string]any {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	cfg.WarningHandler = rest.NoWarnings{} // v1 Endpoints is deprecated: listed all the same
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lists, err := dc.ServerPreferredNamespacedResources()
	if err != nil {
		t.Fatalf("cannot discover the API server's resources: %v", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string]map[string]any{}
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range list.APIResources {
			if r.Kind == "Event" || strings.Contains(r.Name, "/") || !slices.Contains(r.Verbs, "list") {
				continue
			}
			items, err := dyn.Resource(gv.WithResource(r.Name)).Namespace(ns).List(t.Context(), metav1.ListOptions{})
			if err != nil {
				t.Fatalf("cannot list %s in %s: %v", r.Name, ns, err)
			}
			for _, u := range items.Items {
				k := key(u.GroupVersionKind().GroupKind(), u.GetName())
				if u.GroupVersionKind().Group == "" && notApplied[u.GetKind()+" "+u.GetName()] {
					continue
				}
				last, ok := u.GetAnnotations()[corev1LastApplied]
				if !ok {
					t.Errorf("%s in %s has no %s annotation: kubectl apply did not create it", k, ns, corev1LastApplied)
					continue
				}
				var applied map[string]any
				if err := json.Unmarshal([]byte(last), &applied); err != nil {
					t.Fatalf("%s: the last-applied configuration is not JSON: %v", k, err)
				}
				objs[k] = normalize(t, applied)
			}
		}
	}
	return objs
}

// corev1LastApplied is where kubectl apply records the object it sent
// (corev1.LastAppliedConfigAnnotation).
const corev1LastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// normalize returns obj as JSON decodes it (numbers as float64), without
// the annotations map kubectl leaves empty once it takes out its own.
func normalize(t *testing.T, obj map[string]any) map[string]any {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if a, ok, _ := unstructured.NestedMap(out, "metadata", "annotations"); ok && len(a) == 0 {
		unstructured.RemoveNestedField(out, "metadata", "annotations")
	}
	return out
}

// key names an object of the namespace: "User.iam.gatehouse.dev alice",
// "ConfigMap settings".
func key(gk schema.GroupKind, name string) string { return gk.String() + " " + name }

// shortKey is the key of a fixture's "Kind name": a Gatehouse kind unless
// it is a ConfigMap.
func shortKey(s string) string {
	kind, name, _ := strings.Cut(s, " ")
	gk := schema.GroupKind{Group: "iam.gatehouse.dev", Kind: kind}
	if kind == "ConfigMap" {
		gk.Group = ""
	}
	return key(gk, name)
}
