// Package resourcegrant reconciles a ResourceGrant's status: how many users it reaches and
// what in it names nothing (a permission the resource type lacks, an
// unknown subject): such a grant gives nothing until fixed.
package resourcegrant

import (
	"context"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/controllers/internal/status"
	"github.com/gatehouse-dev/gatehouse/internal/engine"
)

// FieldManager owns the fields of ResourceGrant.status this controller writes.
const FieldManager = "gatehouse-resourcegrant"

// RBAC of this controller (a package-level marker block, so controller-gen reads it).
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=resourcegrants,verbs=get;list;watch
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=resourcegrants/status,verbs=get;patch

// Reconciler writes ResourceGrant.status.
type Reconciler struct {
	Client   client.Client
	Engine   *engine.Engine
	Recorder events.EventRecorder
}

// Reconcile reads the grant's report from the engine and applies it.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var s iamv1alpha1.ResourceGrant
	if err := r.Client.Get(ctx, req.NamespacedName, &s); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	ix := r.Engine.Index(req.Namespace)
	if ix == nil {
		return ctrl.Result{}, nil
	}
	rep := ix.GrantReport(req.Name)
	if rep == nil {
		return ctrl.Result{}, nil
	}
	repaired, err := status.RepairForeign(ctx, r.Client, r.Recorder, &s, "ResourceGrant")
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
