package controllers

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/engine"
)

// EventChangedWhileDown is the Warning Event, at start, on a Share or
// ResourceGrant whose spec changed while the operator was down.
const EventChangedWhileDown = "ChangedWhileDown"

// startReportWindow bounds how long after its start a replica that becomes
// leader still reports: a standby that leads hours later would report from
// a view as old as its start, while the replica it replaces (and its own
// webhook server, which runs on every replica) was judging every change.
const startReportWindow = time.Minute

// startReport reports, once the engine is ready and this replica leads,
// every Share and ResourceGrant whose generation had moved past the one the
// operator last wrote status for: changes made while no operator ran (by
// the break-glass group, which the webhooks skip, or by anyone while the
// webhook configuration was gone). An Event on each, one audit line each,
// and a log line with the count. Who made them is in the API server's
// audit log.
type startReport struct {
	engine   *engine.Engine
	recorder events.EventRecorder
	audit    *audit.Logger
}

// NeedLeaderElection: one replica reports.
func (r *startReport) NeedLeaderElection() bool { return true }

// Start reports and returns.
func (r *startReport) Start(ctx context.Context) error {
	select {
	case <-r.engine.Ready():
	case <-ctx.Done():
		return nil
	}
	log := ctrl.LoggerFrom(ctx).WithName("start-report")
	objs, builtAt := r.engine.Unjudged()
	if time.Since(builtAt) > startReportWindow {
		log.Info("not reporting changes made while the operator was down: this replica started long before it led, while another judged every change")
		return nil
	}
	for _, obj := range objs {
		kind, observed := "Share", int64(0)
		switch o := obj.(type) {
		case *iamv1alpha1.Share:
			observed = o.Status.ObservedGeneration
		case *iamv1alpha1.ResourceGrant:
			kind, observed = "ResourceGrant", o.Status.ObservedGeneration
		}
		r.recorder.Eventf(obj, nil, corev1.EventTypeWarning, EventChangedWhileDown, "StartReport",
			"The spec changed while the operator was down (generation %d, last seen %d), so no webhook judged it; the API server's audit log says who changed it.",
			obj.GetGeneration(), observed)
		r.audit.ChangedWhileDown(ctx, audit.Unjudged{Namespace: obj.GetNamespace(), Kind: kind, Name: obj.GetName(),
			Generation: obj.GetGeneration(), ObservedGeneration: observed})
	}
	log.Info("reported the Shares and ResourceGrants changed while the operator was down", "count", len(objs))
	return nil
}
