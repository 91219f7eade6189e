// Package testenv gives a test package one shared local control plane (real
// kube-apiserver and etcd, CRDs installed) and a fresh namespace per test.
//
// Use from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Run(m, &env)) }
//
// A missing kube-apiserver or etcd fails the tests with a message that says
// how to build them; it never skips them.
package testenv

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/gatehouse-dev/gatehouse/config/crd"
	"github.com/gatehouse-dev/gatehouse/config/webhook"
	"github.com/gatehouse-dev/gatehouse/internal/controlplane"
	"github.com/gatehouse-dev/gatehouse/internal/scheme"
)

// Env is a running control plane shared by the tests of one package.
type Env struct {
	// ControlPlane is the running kube-apiserver and etcd.
	ControlPlane *controlplane.ControlPlane
	// Config reaches the API server as a cluster administrator.
	Config *rest.Config
	// Client is an uncached client with the Gatehouse scheme.
	Client client.Client
	// Scheme knows the built-in and Gatehouse kinds.
	Scheme *runtime.Scheme
}

// Options choose what the control plane has besides the CRDs.
type Options struct {
	// Webhooks installs Gatehouse's ValidatingWebhookConfiguration, pointing
	// at the local server ControlPlane.Webhook describes; the tests must
	// serve it (a manager with the webhooks).
	Webhooks bool
}

// Start starts a control plane with the Gatehouse CRDs.
func Start() (*Env, error) { return StartWith(Options{}) }

// StartWith starts a control plane with the Gatehouse CRDs and what opts
// asks for.
func StartWith(opts Options) (*Env, error) {
	ctrllog.SetLogger(logr.Discard())
	crds, err := crd.Load()
	if err != nil {
		return nil, err
	}
	cpOpts := controlplane.Options{CRDs: crds}
	if opts.Webhooks {
		wh, err := webhook.Load(webhook.DefaultBreakGlassGroup)
		if err != nil {
			return nil, err
		}
		cpOpts.Webhooks = append(cpOpts.Webhooks, wh)
	}
	cp, err := controlplane.Start(cpOpts)
	if err != nil {
		return nil, err
	}
	s := scheme.New()
	c, err := client.New(cp.Config, client.Options{Scheme: s})
	if err != nil {
		_ = cp.Stop()
		return nil, fmt.Errorf("cannot create a client: %w", err)
	}
	return &Env{ControlPlane: cp, Config: cp.Config, Client: c, Scheme: s}, nil
}

// Stop stops the control plane.
func (e *Env) Stop() error { return e.ControlPlane.Stop() }

// Run starts the control plane into *env, runs each setup (such as starting
// a manager) with a context that ends before the control plane stops, runs
// the tests and stops it. It returns the exit code for os.Exit.
func Run(m *testing.M, env **Env, setup ...func(context.Context, *Env) error) int {
	return RunWith(m, env, Options{}, setup...)
}

// RunWith is Run with a control plane started with opts.
func RunWith(m *testing.M, env **Env, opts Options, setup ...func(context.Context, *Env) error) int {
	e, err := StartWith(opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: cannot start the test control plane: %v\n", err)
		return 1
	}
	*env = e
	defer func() {
		if err := e.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "cannot stop the test control plane: %v\n", err)
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer func() {
		cancel()
		// Let what the setups started see the end before the API server
		// goes away.
		time.Sleep(200 * time.Millisecond)
	}()
	for _, fn := range setup {
		if err := fn(ctx, e); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: test setup: %v\n", err)
			return 1
		}
	}
	return m.Run()
}

var nsCounter atomic.Int64

// Namespace creates a namespace for one test, named after it, and deletes it
// when the test ends.
func (e *Env) Namespace(t testing.TB) string {
	t.Helper()
	name := strings.ToLower(t.Name())
	name = strings.Map(func(r rune) rune {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			return r
		}
		return '-'
	}, name)
	if len(name) > 40 {
		name = name[:40]
	}
	name = fmt.Sprintf("%s-%d", strings.Trim(name, "-"), nsCounter.Add(1))
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.Client.Create(ctx, ns); err != nil {
		t.Fatalf("cannot create namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = e.Client.Delete(ctx, ns)
	})
	return name
}
