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
	"github.com/gatehouse-dev/gatehouse/controllers/internal/report"
	"github.com/gatehouse-dev/gatehouse/controllers/internal/status"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/engine"
)

// FieldManager owns the fields of ResourceGrant.status this controller writes.
const FieldManager = "gatehouse-resourcegrant"

// writer writes ResourceGrant.status as FieldManager.
var writer = status.NewWriter(FieldManager, "ResourceGrant")

// RBAC of this controller (a package-level marker block, so controller-gen reads it).
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=resourcegrants,verbs=get;list;watch
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=resourcegrants/status,verbs=get;patch

// Reconciler writes ResourceGrant.status: the report reconciler
// (controllers/internal/report) with nothing of its own.
type Reconciler struct {
	Client   client.Client
	Engine   *engine.Engine
	Recorder events.EventRecorder
}

// Reconcile reads the grant's report from the engine and applies it.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	rec := report.Reconciler[iamv1alpha1.ResourceGrant, *iamv1alpha1.ResourceGrant, iamv1alpha1.ResourceGrantStatus]{
		Client: r.Client, Engine: r.Engine, Recorder: r.Recorder, Kind: kind,
	}
	return rec.Reconcile(ctx, req)
}

var kind = report.Kind[iamv1alpha1.ResourceGrant, *iamv1alpha1.ResourceGrant, iamv1alpha1.ResourceGrantStatus]{
	Writer: writer,
	Report: (*access.Index).GrantReport,
	Status: func(g *iamv1alpha1.ResourceGrant) *iamv1alpha1.ResourceGrantStatus { return &g.Status },
	Part: func(st *iamv1alpha1.ResourceGrantStatus) report.Part {
		return report.Part{ObservedGeneration: &st.ObservedGeneration, Users: &st.Users, Conditions: &st.Conditions}
	},
}
