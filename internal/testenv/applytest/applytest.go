// Package applytest records the server-side applies a controller-runtime
// client sends, as the API server receives them (method, path, field
// manager, force and body), and holds them to a golden file. A golden test
// of an apply proves that a change of how the apply configuration is built
// (an untyped map, a typed apply configuration) sends the same thing: what
// a field manager stops applying, the API server removes.
package applytest

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/scheme"
)

// update rewrites the golden files instead of comparing with them:
// go test ./controllers/directory -run Golden -args -update-applies.
var update = flag.Bool("update-applies", false, "rewrite the golden files of the applies")

// Request is one request the API server received.
type Request struct {
	// Method is the HTTP method (PATCH for an apply).
	Method string `json:"method"`
	// Path is the URL path, with the subresource.
	Path string `json:"path"`
	// FieldManager is the fieldManager query parameter.
	FieldManager string `json:"fieldManager"`
	// Force is the force query parameter.
	Force string `json:"force,omitempty"`
	// ContentType is the patch type.
	ContentType string `json:"contentType"`
	// Body is the JSON body, with its object keys sorted.
	Body json.RawMessage `json:"body"`
}

// Recorder is an API server that answers every request by echoing its
// body and records the requests.
type Recorder struct {
	mu       sync.Mutex
	requests []Request
	errs     []error
}

// New starts a Recorder for the duration of t and returns a client of it
// that knows the Gatehouse kinds (namespaced) without discovery.
func New(t testing.TB) (client.Client, *Recorder) {
	t.Helper()
	r := &Recorder{}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	mapper := meta.NewDefaultRESTMapper(nil)
	s := scheme.New()
	for gvk := range s.AllKnownTypes() {
		if gvk.GroupVersion() == iamv1alpha1.GroupVersion {
			mapper.Add(gvk, meta.RESTScopeNamespace)
		}
	}
	c, err := client.New(&rest.Config{Host: srv.URL}, client.Options{Scheme: s, Mapper: mapper})
	if err != nil {
		t.Fatalf("cannot make a client of the recorder: %v", err)
	}
	return c, r
}

func (r *Recorder) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err == nil {
		body, err = canonical(body)
	}
	r.mu.Lock()
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err))
	}
	r.requests = append(r.requests, Request{
		Method:       req.Method,
		Path:         req.URL.Path,
		FieldManager: req.URL.Query().Get("fieldManager"),
		Force:        req.URL.Query().Get("force"),
		ContentType:  req.Header.Get("Content-Type"),
		Body:         body,
	})
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// canonical is the JSON b with its object keys sorted (encoding/json sorts
// map keys; a struct's follow its fields), so that a golden file compares
// what is sent, not the order in which it was built.
func canonical(b []byte) ([]byte, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("the body is not JSON: %w", err)
	}
	return json.Marshal(v)
}

// Requests returns the requests received so far, and resets the record.
func (r *Recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.requests
	r.requests = nil
	return out
}

// Golden compares the requests received since the last call with the
// golden file path (JSON, indented), or rewrites it when the test runs
// with -update-applies.
func (r *Recorder) Golden(t testing.TB, path string) {
	t.Helper()
	r.mu.Lock()
	for _, err := range r.errs {
		t.Error(err)
	}
	r.mu.Unlock()
	got, err := json.MarshalIndent(r.Requests(), "", "  ")
	if err != nil {
		t.Fatalf("cannot encode the requests: %v", err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("cannot read the golden file (run the test with -args -update-applies to write it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the applies differ from %s (-args -update-applies rewrites it after a wanted change):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
