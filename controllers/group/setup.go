package group

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/gatehouse-dev/gatehouse/controllers/internal/wiring"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// Setup creates the Group controller on the manager, fed by the engine.
func Setup(_ context.Context, mgr ctrl.Manager, d wiring.Deps) error {
	r := &Reconciler{Client: mgr.GetClient(), Engine: d.Engine, Recorder: mgr.GetEventRecorder("gatehouse-group"), AdminGroups: d.AdminGroups}
	if err := d.EngineFed(mgr, "group", access.KindGroup).Complete(r); err != nil {
		return fmt.Errorf("cannot create the group controller: %w", err)
	}
	return nil
}
