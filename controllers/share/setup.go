package share

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/gatehouse-dev/gatehouse/controllers/internal/wiring"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// Setup creates the Share controller on the manager, fed by the engine and
// behind the User backlog (wiring.Deps.AfterUsers).
func Setup(_ context.Context, mgr ctrl.Manager, d wiring.Deps) error {
	r := &Reconciler{Client: mgr.GetClient(), Engine: d.Engine, Recorder: mgr.GetEventRecorder("gatehouse-share")}
	if err := d.EngineFed(mgr, "share", access.KindShare).Complete(d.AfterUsers("share", r)); err != nil {
		return fmt.Errorf("cannot create the share controller: %w", err)
	}
	return nil
}
