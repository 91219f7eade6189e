package manifest

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// A GitOps layout: a base world and overlays of it.
const (
	baseKustomization = "resources: [world.yaml]\n"
	world             = `apiVersion: iam.gatehouse.dev/v1alpha1
kind: User
metadata:
  name: alice
spec:
  login: alice
---
apiVersion: iam.gatehouse.dev/v1alpha1
kind: User
metadata:
  name: bob
spec:
  login: bob
---
apiVersion: iam.gatehouse.dev/v1alpha1
kind: Share
metadata:
  name: sales
spec:
  resource: {type: dataset, name: sales}
  grantees:
    - {kind: User, name: alice, role: Consumer}
    - {kind: User, name: bob, role: Editor}
`
	// Kustomize knows no merge key for a custom resource's list: a
	// strategic merge patch gives the whole list.
	ownerPatch = `apiVersion: iam.gatehouse.dev/v1alpha1
kind: Share
metadata:
  name: sales
spec:
  grantees:
    - {kind: User, name: alice, role: Owner}
    - {kind: User, name: bob, role: Editor}
`
)

// built is what a test compares of a built Document.
type built struct {
	Kind, Namespace, Name string
}

// granteeRoles returns the role of each grantee of the Share named name.
func granteeRoles(t *testing.T, docs []Document, name string) map[string]string {
	t.Helper()
	for _, d := range docs {
		if d.Object.GetKind() != "Share" || d.Object.GetName() != name {
			continue
		}
		grantees, _, err := unstructured.NestedSlice(d.Object.Object, "spec", "grantees")
		if err != nil {
			t.Fatal(err)
		}
		roles := map[string]string{}
		for _, g := range grantees {
			m := g.(map[string]any)
			roles[m["name"].(string)] = m["role"].(string)
		}
		return roles
	}
	t.Fatalf("no Share %s among the documents", name)
	return nil
}

func TestBuild(t *testing.T) {
	tests := map[string]struct {
		files map[string]string
		dir   string // the kustomization to read, relative to the tree
		want  []built
		// roles, when set, are the grantee roles of Share (or prefix+"sales").
		roles map[string]string
		share string
	}{
		"resources": {
			files: map[string]string{"kustomization.yaml": baseKustomization, "world.yaml": world, "ignored.yaml": userAlice},
			want:  []built{{"Share", "", "sales"}, {"User", "", "alice"}, {"User", "", "bob"}},
			roles: map[string]string{"alice": "Consumer", "bob": "Editor"},
			share: "sales",
		},
		"overlay with a namespace and a strategic merge patch": {
			files: map[string]string{
				"base/kustomization.yaml":         baseKustomization,
				"base/world.yaml":                 world,
				"overlays/prod/kustomization.yml": "namespace: prod\nresources: [../../base]\npatches:\n  - path: owner.yaml\n",
				"overlays/prod/owner.yaml":        ownerPatch,
			},
			dir:   "overlays/prod",
			want:  []built{{"Share", "prod", "sales"}, {"User", "prod", "alice"}, {"User", "prod", "bob"}},
			roles: map[string]string{"alice": "Owner", "bob": "Editor"},
			share: "sales",
		},
		"a JSON 6902 patch": {
			files: map[string]string{
				"base/kustomization.yaml": baseKustomization,
				"base/world.yaml":         world,
				"prod/Kustomization": `resources: [../base]
patches:
  - target: {group: iam.gatehouse.dev, kind: Share, name: sales}
    patch: |-
      - op: replace
        path: /spec/grantees/1/role
        value: Owner
`,
			},
			dir:   "prod",
			want:  []built{{"Share", "", "sales"}, {"User", "", "alice"}, {"User", "", "bob"}},
			roles: map[string]string{"alice": "Consumer", "bob": "Owner"},
			share: "sales",
		},
		"namePrefix and nameSuffix": {
			files: map[string]string{
				"base/kustomization.yaml": baseKustomization,
				"base/world.yaml":         world,
				"kustomization.yaml":      "namePrefix: eu-\nnameSuffix: -eu\nresources: [base]\n",
			},
			want: []built{{"Share", "", "eu-sales-eu"}, {"User", "", "eu-alice-eu"}, {"User", "", "eu-bob-eu"}},
		},
		"a configMapGenerator makes an object of another group": {
			files: map[string]string{
				"kustomization.yaml": "namespace: prod\nresources: [users.yaml]\nconfigMapGenerator:\n  - name: settings\n    literals: [mode=strict]\n    options: {disableNameSuffixHash: true}\n",
				"users.yaml":         userAlice,
			},
			want: []built{{"ConfigMap", "prod", "settings"}, {"User", "prod", "alice"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			root := writeTree(t, tc.files)
			dir := filepath.Join(root, tc.dir)
			docs, err := ReadPaths(dir)
			if err != nil {
				t.Fatalf("ReadPaths: %v", err)
			}
			var got []built
			for i, d := range docs {
				if d.File != dir || !d.Built || d.Index != i+1 {
					t.Errorf("document %d: File %q, Built %t, Index %d; want %q, true, %d", i, d.File, d.Built, d.Index, dir, i+1)
				}
				got = append(got, built{d.Object.GetKind(), d.Object.GetNamespace(), d.Object.GetName()})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("built objects (-want +got):\n%s", diff)
			}
			if tc.roles != nil {
				if diff := cmp.Diff(tc.roles, granteeRoles(t, docs, tc.share)); diff != "" {
					t.Errorf("grantee roles (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestBuildSource(t *testing.T) {
	root := writeTree(t, map[string]string{"kustomization.yaml": "namespace: prod\nresources: [world.yaml]\n", "world.yaml": world})
	docs, err := ReadPaths(root)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := docs[0].Source(), root+" (kustomize build, Share prod/sales)"; got != want {
		t.Errorf("Source = %q, want %q", got, want)
	}
}

func TestBuildErrors(t *testing.T) {
	tests := map[string]struct {
		files map[string]string
		dir   string
		want  []string // "DIR" stands for the kustomization's directory
	}{
		"a resource that does not exist": {
			files: map[string]string{"kustomization.yaml": "resources: [missing.yaml]\n"},
			want:  []string{`DIR/kustomization.yaml: "missing.yaml" is not a file or directory in the repository: kustomize would fetch it`},
		},
		"an unknown field": {
			files: map[string]string{"kustomization.yaml": "resourcez: [world.yaml]\n", "world.yaml": world},
			want:  []string{"kustomize cannot build the kustomization in DIR: ", "resourcez"},
		},
		"a patch of an object the build does not have": {
			files: map[string]string{
				"kustomization.yaml": "resources: [world.yaml]\npatches:\n  - path: patch.yaml\n",
				"world.yaml":         world,
				"patch.yaml":         strings.Replace(ownerPatch, "name: sales", "name: salez", 1),
			},
			want: []string{"kustomize cannot build the kustomization in DIR: ", "salez"},
		},
		"a base outside the kustomization's tree that is missing": {
			files: map[string]string{"prod/kustomization.yaml": "resources: [../base]\n"},
			dir:   "prod",
			want:  []string{`DIR/kustomization.yaml: "../base" is not a file or directory in the repository`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(writeTree(t, tc.files), tc.dir)
			docs, err := ReadPaths(dir)
			if err == nil {
				t.Fatalf("ReadPaths returned %d documents and no error", len(docs))
			}
			for _, w := range tc.want {
				if w = strings.ReplaceAll(w, "DIR", dir); !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestKustomizationTree: a directory that is no kustomization but holds
// some is refused, with the kustomizations that are entry points.
func TestKustomizationTree(t *testing.T) {
	tests := map[string]struct {
		files map[string]string
		want  string // "ROOT" stands for the tree
	}{
		"a base and an overlay": {
			files: map[string]string{
				"README.md":                       "# GitOps\n",
				"base/kustomization.yaml":         baseKustomization,
				"base/world.yaml":                 world,
				"overlays/prod/kustomization.yml": "namespace: prod\nresources: [../../base]\npatches:\n  - path: owner.yaml\n",
				"overlays/prod/owner.yaml":        ownerPatch,
			},
			want: "the directory ROOT holds kustomizations (ROOT/base, ROOT/overlays/prod): give the one to build with -f, e.g. -f ROOT/overlays/prod",
		},
		"two overlays, one through bases and a component": {
			files: map[string]string{
				"base/kustomization.yaml":         baseKustomization,
				"base/world.yaml":                 world,
				"extra/kustomization.yaml":        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n",
				"overlays/dev/Kustomization":      "bases: [../../base]\ncomponents: [../../extra]\n",
				"overlays/prod/kustomization.yml": "resources: [../../base/]\n",
			},
			want: "the directory ROOT holds kustomizations (ROOT/base, ROOT/extra, ROOT/overlays/dev, ROOT/overlays/prod): give the one to build with -f, e.g. -f ROOT/overlays/dev or -f ROOT/overlays/prod",
		},
		"plain manifests beside a kustomization": {
			files: map[string]string{"users.yaml": userAlice, "apps/kustomization.yaml": kustomize, "apps/users.yaml": userBob},
			want:  "the directory ROOT holds kustomizations (ROOT/apps): give the one to build with -f, e.g. -f ROOT/apps",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			root := writeTree(t, tc.files)
			docs, err := Read(Options{Root: root, Recursive: true}, root)
			if err == nil {
				t.Fatalf("Read -R returned %d documents and no error", len(docs))
			}
			if want := strings.ReplaceAll(tc.want, "ROOT", root); err.Error() != want {
				t.Errorf("error:\n%s\nwant:\n%s", err, want)
			}
		})
	}
}

func TestReadStdin(t *testing.T) {
	dir := writeTree(t, map[string]string{"users.yaml": userAlice})
	stdin := strings.NewReader("# Source: chart/templates/users.yaml\n---\n" + userBob + "---\n" + groupData)
	docs, err := Read(Options{Root: dir, Stdin: stdin}, filepath.Join(dir, "users.yaml"), Stdin)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range docs {
		got = append(got, strings.TrimPrefix(d.Source(), dir+string(filepath.Separator)))
	}
	want := []string{
		"users.yaml (document 1, User alice)",
		"standard input (document 2, User bob)",
		"standard input (document 3, Group data-team)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("documents (-want +got):\n%s", diff)
	}

	json := strings.NewReader(`{"apiVersion": "iam.gatehouse.dev/v1alpha1", "kind": "User", "metadata": {"name": "alice"}}` + "\n" +
		`{"apiVersion": "iam.gatehouse.dev/v1alpha1", "kind": "User", "metadata": {"name": "bob"}}`)
	if docs, err := Read(Options{Stdin: json}, Stdin); err != nil || len(docs) != 2 || docs[1].Object.GetName() != "bob" {
		t.Errorf("Read(JSON stream on stdin) = %d documents, %v; want alice and bob", len(docs), err)
	}

	_, err = Read(Options{Stdin: strings.NewReader(userAlice)}, Stdin, Stdin)
	if want := "- (standard input) is given twice: it can be read only once"; err == nil || err.Error() != want {
		t.Errorf("Read(-, -) error = %v, want %q", err, want)
	}
	_, err = Read(Options{Stdin: strings.NewReader("kind: User\n  name: :bad\n\tindent\n")}, Stdin)
	if want := "standard input (document 1) is not valid YAML"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Read(bad YAML on stdin) error = %v, want %q", err, want)
	}
}
