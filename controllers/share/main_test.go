package share_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/gatehouse-dev/gatehouse/controllers"
	"github.com/gatehouse-dev/gatehouse/internal/engine"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

var (
	env *testenv.Env
	// manager and eng are the test manager and its engine, for tests that
	// call the reconciler themselves (as a restarted operator would).
	manager ctrl.Manager
	eng     *engine.Engine
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Run(m, &env, startManager))
}

// startManager runs the manager with every controller against the test
// control plane, as cmd/manager does: the Share controller's notifications
// depend on the User and engine machinery around it.
func startManager(ctx context.Context, e *testenv.Env) error {
	mgr, err := ctrl.NewManager(e.Config, ctrl.Options{
		Scheme:                 e.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  cache.Options{DefaultTransform: cache.TransformStripManagedFields(), ByObject: controllers.CacheByObject()},
	})
	if err != nil {
		return err
	}
	eng, err = controllers.Setup(ctx, mgr, controllers.Options{MaxConcurrentReconciles: 2})
	if err != nil {
		return err
	}
	manager = mgr
	go func() {
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "the manager stopped: %v\n", err)
		}
	}()
	return nil
}
