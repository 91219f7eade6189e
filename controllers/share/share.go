// Package share reconciles a Share's status: how many users it reaches and
// what in it names nothing (a role the resource type lacks, an unknown
// grantee).
package share

import (
	"context"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/controllers/internal/status"
	"github.com/gatehouse-dev/gatehouse/internal/engine"
)

// FieldManager owns the fields of Share.status this controller writes.
const FieldManager = "gatehouse-share"

// RBAC of this controller (a package-level marker block, so controller-gen reads it).
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=shares,verbs=get;list;watch
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=shares/status,verbs=get;patch

// Reconciler writes Share.status.
type Reconciler struct {
	Client   client.Client
	Engine   *engine.Engine
	Recorder events.EventRecorder
}

// Reconcile reads the share's report from the engine and applies it.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var s iamv1alpha1.Share
	if err := r.Client.Get(ctx, req.NamespacedName, &s); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	ix := r.Engine.Index(req.Namespace)
	if ix == nil {
		return ctrl.Result{}, nil
	}
	rep := ix.ShareReport(req.Name)
	if rep == nil {
		return ctrl.Result{}, nil
	}
	repaired, err := status.RepairForeign(ctx, r.Client, r.Recorder, &s, "Share")
	if err != nil {
		return ctrl.Result{}, err
	}
	want, changed := status.FromReport(s.Generation, status.Report{
		ObservedGeneration: s.Status.ObservedGeneration, Users: s.Status.Users, Conditions: s.Status.Conditions,
	}, rep)
	if !changed && repaired == nil {
		return ctrl.Result{}, nil
	}
	return ctrl.Result{}, status.Apply(ctx, r.Client, &s, &want, FieldManager)
}
