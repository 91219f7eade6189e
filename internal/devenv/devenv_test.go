package devenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/manifest"
	"github.com/gatehouse-dev/gatehouse/internal/scheme"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

const samplesDir = "../../config/samples"

// env serves TestApplyDocumentsSamples; TestRun starts a control plane of
// its own, as `gatehouse dev` does.
var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Run(m, &env)) }

// sampleCounts is how many objects of each Gatehouse kind the samples
// declare (config/samples/*.yaml).
var sampleCounts = map[string]int{
	"User": 6, "Group": 3, "License": 1, "Connection": 2, "Directory": 1, "ResourceGrant": 3, "Share": 3,
}

func readSamples(t *testing.T) []manifest.Document {
	t.Helper()
	docs, err := manifest.ReadPaths(samplesDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if d.Object.GetKind() != "Namespace" && d.Object.GetNamespace() != "demo" {
			t.Fatalf("%s: the samples' kustomization puts it in namespace %q, want demo", d.Source(), d.Object.GetNamespace())
		}
		// Each test applies the samples into a namespace of its own.
		d.Object.SetNamespace("")
	}
	return docs
}

// objectKey is where doc ends up when applied with ApplyDocuments into ns.
func objectKey(t *testing.T, c client.Client, doc manifest.Document, ns string) client.ObjectKey {
	t.Helper()
	namespaced, err := c.IsObjectNamespaced(doc.Object)
	if err != nil {
		t.Fatalf("%s: %v", doc.Source(), err)
	}
	key := client.ObjectKey{Name: doc.Object.GetName()}
	if namespaced {
		key.Namespace = doc.Object.GetNamespace()
		if key.Namespace == "" {
			key.Namespace = ns
		}
	}
	return key
}

func TestApplyDocumentsSamples(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := env.Namespace(t)
	c := env.Client
	docs := readSamples(t)

	declared := map[string]int{}
	for _, d := range docs {
		if d.Object.GroupVersionKind().Group == iamv1alpha1.GroupVersion.Group {
			declared[d.Object.GetKind()]++
		}
	}
	if diff := cmp.Diff(sampleCounts, declared); diff != "" {
		t.Fatalf("Gatehouse objects per kind in %s (-want +got):\n%s", samplesDir, diff)
	}

	if err := ApplyDocuments(ctx, c, docs, ns); err != nil {
		t.Fatalf("the samples do not apply: %v", err)
	}

	// Every object reads back with the typed client, and holds what the
	// sample says: a field the schema does not know would have been pruned.
	type version struct {
		generation      int64
		resourceVersion string
	}
	versions := map[string]version{}
	for _, d := range docs {
		key := objectKey(t, c, d, ns)
		gvk := d.Object.GroupVersionKind()
		typed, err := env.Scheme.New(gvk)
		if err != nil {
			t.Fatalf("%s: the scheme does not know %s: %v", d.Source(), gvk, err)
		}
		obj := typed.(client.Object)
		if err := c.Get(ctx, key, obj); err != nil {
			t.Errorf("%s: cannot read it back as %T: %v", d.Source(), obj, err)
			continue
		}
		versions[d.Source()] = version{obj.GetGeneration(), obj.GetResourceVersion()}

		switch o := obj.(type) {
		case *corev1.Secret:
			want, _, _ := unstructured.NestedStringMap(d.Object.Object, "stringData")
			got := map[string]string{}
			for k, v := range o.Data {
				got[k] = string(v)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: Secret data (-sample +stored):\n%s", d.Source(), diff)
			}
		default:
			stored := &unstructured.Unstructured{}
			stored.SetGroupVersionKind(gvk)
			if err := c.Get(ctx, key, stored); err != nil {
				t.Fatalf("%s: %v", d.Source(), err)
			}
			if spec, ok := d.Object.Object["spec"]; ok {
				for _, p := range missingFrom(spec, stored.Object["spec"], "spec") {
					t.Errorf("%s: %s", d.Source(), p)
				}
			}
		}
	}

	for kind, want := range sampleCounts {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(iamv1alpha1.GroupVersion.WithKind(kind + "List"))
		if err := c.List(ctx, list, client.InNamespace(ns)); err != nil {
			t.Fatalf("cannot list %s: %v", kind, err)
		}
		if len(list.Items) != want {
			t.Errorf("%d %ss in %s, want %d", len(list.Items), kind, ns, want)
		}
	}

	// The reader profile's `globalPermissions: []` (no global permission)
	// survives server-side apply, distinct from the designer's omitted list
	// (every permission).
	lic := &iamv1alpha1.License{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "default"}, lic); err != nil {
		t.Fatal(err)
	}
	if p := lic.Spec.Profiles; len(p) != 2 || p[0].GlobalPermissions != nil || p[1].GlobalPermissions == nil || len(p[1].GlobalPermissions) != 0 {
		t.Errorf("License profiles = %+v, want designer with globalPermissions omitted (nil) and reader with [] (empty, non-nil)", p)
	}

	// Applying again changes nothing.
	if err := ApplyDocuments(ctx, c, docs, ns); err != nil {
		t.Fatalf("the samples do not apply a second time: %v", err)
	}
	for _, d := range docs {
		obj, _ := env.Scheme.New(d.Object.GroupVersionKind())
		o := obj.(client.Object)
		if err := c.Get(ctx, objectKey(t, c, d, ns), o); err != nil {
			t.Fatalf("%s: %v", d.Source(), err)
		}
		before := versions[d.Source()]
		if o.GetGeneration() != before.generation {
			t.Errorf("%s: generation %d after the second apply, want %d", d.Source(), o.GetGeneration(), before.generation)
		}
		// An applied Namespace sets no field but its name, so the first apply
		// records no field owner and the second records the server's own
		// fields once ("before-first-apply"): it may write, harmlessly.
		if d.Object.GetKind() != "Namespace" && o.GetResourceVersion() != before.resourceVersion {
			t.Errorf("%s: the second apply wrote the object (resourceVersion %s, was %s)", d.Source(), o.GetResourceVersion(), before.resourceVersion)
		}
	}
}

// missingFrom lists the leaves of want that got does not hold with the same
// value.
func missingFrom(want, got any, path string) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s is %#v, want an object", path, got)}
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []string
		for _, k := range keys {
			gv, ok := g[k]
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s was dropped by the API server", path, k))
				continue
			}
			out = append(out, missingFrom(w[k], gv, path+"."+k)...)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s is %#v, want %#v", path, got, want)}
		}
		var out []string
		for i := range w {
			out = append(out, missingFrom(w[i], g[i], fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	default:
		if !reflect.DeepEqual(want, got) {
			return []string{fmt.Sprintf("%s is %#v, want %#v", path, got, want)}
		}
		return nil
	}
}

// syncBuffer is a bytes.Buffer that Run may write while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRun runs a whole `gatehouse dev` session without a manager: a local
// control plane comes up with the samples applied, is usable through the
// kubeconfig it announces, and is gone, kubeconfig included, after
// cancellation.
func TestRun(t *testing.T) {
	stateDir := t.TempDir()
	kubeconfig := filepath.Join(stateDir, "kubeconfig")
	out := &syncBuffer{}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	var runErr error
	go func() {
		defer close(done)
		runErr = Run(ctx, Options{Out: out, StateDir: stateDir, SamplesDir: samplesDir, SamplesNamespace: "demo"})
	}()
	t.Cleanup(func() {
		cancel()
		<-done // never leave a control plane behind
		if t.Failed() {
			t.Logf("output of Run:\n%s", out.String())
		}
	})
	// returned fails the test at once when Run returned before what it
	// waits for.
	returned := func() {
		t.Helper()
		select {
		case <-done:
			t.Fatalf("Run returned early: %v", runErr)
		default:
		}
	}

	testenv.Eventually(t, 3*time.Minute, "the kubeconfig written", func() (bool, string) {
		returned()
		_, err := os.Stat(kubeconfig)
		return err == nil, fmt.Sprint(err)
	})

	var cfg *rest.Config
	testenv.Eventually(t, time.Minute, "the 6 sample Users readable through the kubeconfig", func() (bool, string) {
		returned()
		var err error
		if cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig); err != nil {
			return false, err.Error()
		}
		c, err := client.New(cfg, client.Options{Scheme: scheme.New()})
		if err != nil {
			return false, err.Error()
		}
		users := &iamv1alpha1.UserList{}
		if err := c.List(ctx, users, client.InNamespace("demo")); err != nil {
			return false, err.Error()
		}
		return len(users.Items) == 6, fmt.Sprintf("%d Users", len(users.Items))
	})

	// Ready is when Run says so, after the last sample; the kubeconfig and
	// the first Users come earlier.
	testenv.Eventually(t, time.Minute, "Run says it is ready", func() (bool, string) {
		returned()
		return strings.Contains(out.String(), "Press Ctrl-C to stop"), out.String()
	})

	if !strings.Contains(out.String(), "export KUBECONFIG="+kubeconfig) {
		t.Errorf("Run does not tell how to use its kubeconfig %s:\n%s", kubeconfig, out.String())
	}

	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("Run did not return within 2 minutes of cancellation")
	}
	if runErr != nil {
		t.Fatalf("Run returned %v, want nil after cancellation", runErr)
	}
	if _, err := os.Stat(kubeconfig); !os.IsNotExist(err) {
		t.Errorf("kubeconfig %s still exists after Run returned (stat: %v)", kubeconfig, err)
	}

	// The API server is gone: nothing answers on its address any more.
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hc.Timeout = 5 * time.Second
	resp, err := hc.Get(cfg.Host + "/readyz")
	if err == nil {
		resp.Body.Close()
		t.Errorf("the API server at %s still answers (%s) after Run returned", cfg.Host, resp.Status)
	}
}

// Ctrl-C while Run is still setting up (here: before the samples are
// applied) is a clean stop: no error, and nothing left behind.
func TestRunInterruptedDuringSetup(t *testing.T) {
	stateDir := t.TempDir()
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Run(ctx, Options{Out: out, StateDir: stateDir, SamplesDir: samplesDir, SamplesNamespace: "demo"})
	if err != nil {
		t.Fatalf("Run interrupted during setup returned %v, want nil; output:\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), ">> interrupted") {
		t.Errorf("Run does not say it was interrupted:\n%s", out.String())
	}
	if strings.Contains(out.String(), "Gatehouse is running") {
		t.Errorf("Run says it is running although it was interrupted before:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Join(stateDir, "kubeconfig")); !os.IsNotExist(err) {
		t.Errorf("the kubeconfig was left behind (stat: %v)", err)
	}
}
