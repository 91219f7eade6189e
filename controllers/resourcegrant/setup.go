package resourcegrant

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/gatehouse-dev/gatehouse/controllers/internal/wiring"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// Setup creates the ResourceGrant controller on the manager, fed by the
// engine and behind the User backlog (wiring.Deps.AfterUsers).
func Setup(_ context.Context, mgr ctrl.Manager, d wiring.Deps) error {
	r := &Reconciler{Client: mgr.GetClient(), Engine: d.Engine, Recorder: mgr.GetEventRecorder("gatehouse-resourcegrant")}
	if err := d.EngineFed(mgr, "resourcegrant", access.KindResourceGrant).Complete(d.AfterUsers("resourcegrant", r)); err != nil {
		return fmt.Errorf("cannot create the resourcegrant controller: %w", err)
	}
	return nil
}
