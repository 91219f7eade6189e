// Package operator runs Gatehouse's controllers (and, with them, the
// permission engine) against a test package's control plane (Operator, a
// setup for testenv.Run), and holds the log sink the tests read
// (LogBuffer). It is for tests only; the object builders are in
// internal/testenv/builders, which unit tests import too.
package operator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"sync"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/gatehouse-dev/gatehouse/controllers"
	"github.com/gatehouse-dev/gatehouse/internal/engine"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// Operator runs a manager with every controller against the test control
// plane, as cmd/manager does. Its Start is a setup for testenv.Run:
//
//	var op = &operator.Operator{Options: controllers.Options{MaxConcurrentReconciles: 2}}
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Run(m, &env, op.Start)) }
type Operator struct {
	// Options configure controllers.Setup.
	Options controllers.Options
	// Logger is the manager's logger (none when zero).
	Logger logr.Logger
	// ByObject is the cache's per-object configuration
	// (controllers.CacheByObject() when nil).
	ByObject map[client.Object]cache.ByObject
	// QPS and Burst raise the client's rate limits when not zero.
	QPS   float32
	Burst int

	// Manager and Engine are the running manager and its engine, once
	// Start returned: for tests that call a reconciler themselves (as a
	// restarted operator would) or read the engine's Indexes.
	Manager ctrl.Manager
	Engine  *engine.Engine

	// writes counts the manager's status applies by namespace and kind.
	writes statusWrites
}

// statusWrites counts status applies by namespace and kind. Unlike the
// gatehouse_status_writes_total metric, which counts every namespace, it
// lets a test assert that nothing wrote into its own namespace while the
// other tests' objects go on being reconciled.
type statusWrites struct {
	mu sync.Mutex
	n  map[string]map[string]int
}

func (w *statusWrites) add(namespace, kind string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n == nil {
		w.n = map[string]map[string]int{}
	}
	if w.n[namespace] == nil {
		w.n[namespace] = map[string]int{}
	}
	w.n[namespace][kind]++
}

// StatusWrites returns the status applies the manager's client made in a
// namespace so far, by kind (the reconcilers a test builds from
// Manager.GetClient() are counted too).
func (o *Operator) StatusWrites(namespace string) map[string]int {
	o.writes.mu.Lock()
	defer o.writes.mu.Unlock()
	return maps.Clone(o.writes.n[namespace])
}

// countStatusApplies wraps the manager's client so that every apply of a
// status subresource is counted by namespace and kind.
func (o *Operator) countStatusApplies(c client.WithWatch) client.Client {
	return interceptor.NewClient(c, interceptor.Funcs{
		SubResourceApply: func(ctx context.Context, c client.Client, sub string, ac runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
			err := c.SubResource(sub).Apply(ctx, ac, opts...)
			if err == nil && sub == "status" {
				var meta struct {
					Kind     string `json:"kind"`
					Metadata struct {
						Namespace string `json:"namespace"`
					} `json:"metadata"`
				}
				if b, jerr := json.Marshal(ac); jerr == nil && json.Unmarshal(b, &meta) == nil {
					o.writes.add(meta.Metadata.Namespace, meta.Kind)
				}
			}
			return err
		},
	})
}

// Start creates the manager and the controllers and starts the manager in
// the background, until ctx ends.
func (o *Operator) Start(ctx context.Context, e *testenv.Env) error {
	cfg := rest.CopyConfig(e.Config)
	if o.QPS != 0 {
		cfg.QPS, cfg.Burst = o.QPS, o.Burst
	}
	by := o.ByObject
	if by == nil {
		by = controllers.CacheByObject()
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Logger:                 o.Logger,
		Scheme:                 e.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  cache.Options{DefaultTransform: cache.TransformStripManagedFields(), ByObject: by},
		NewClient: func(cfg *rest.Config, opts client.Options) (client.Client, error) {
			c, err := client.NewWithWatch(cfg, opts)
			if err != nil {
				return nil, err
			}
			return o.countStatusApplies(c), nil
		},
	})
	if err != nil {
		return err
	}
	eng, err := controllers.Setup(ctx, mgr, o.Options)
	if err != nil {
		return err
	}
	o.Manager, o.Engine = mgr, eng
	go func() {
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "the manager stopped: %v\n", err)
		}
	}()
	return nil
}

// LogBuffer is a log sink (an io.Writer, or funcr's output function Line)
// that the tests read while the manager writes it.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *LogBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// Line appends a line of funcr's output.
func (s *LogBuffer) Line(prefix, args string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.WriteString(prefix + " " + args + "\n")
}

// String returns everything written so far.
func (s *LogBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
