package builders

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/gatehouse-dev/gatehouse/controllers"
	"github.com/gatehouse-dev/gatehouse/internal/engine"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// Operator runs a manager with every controller against the test control
// plane, as cmd/manager does. Its Start is a setup for testenv.Run:
//
//	var op = &builders.Operator{Options: controllers.Options{MaxConcurrentReconciles: 2}}
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
