// Package share reconciles a Share's status: how many users it reaches and
// what in it names nothing (a role the resource type lacks, an unknown
// grantee); and it tells each new User grantee, with an Event on its User
// that quotes the Share's note.
package share

import (
	"context"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=users,verbs=get;list;watch

// Reconciler writes Share.status and notifies new User grantees.
type Reconciler struct {
	Client   client.Client
	Engine   *engine.Engine
	Recorder events.EventRecorder

	notified memory
}

// Reconcile reads the share's report from the engine and applies it.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var s iamv1alpha1.Share
	if err := r.Client.Get(ctx, req.NamespacedName, &s); err != nil {
		if apierrors.IsNotFound(err) {
			r.notified.forget(req.NamespacedName)
		}
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
	report, changed := status.FromReport(s.Generation, status.Report{
		ObservedGeneration: s.Status.ObservedGeneration, Users: s.Status.Users, Conditions: s.Status.Conditions,
	}, rep)
	told, known := r.notified.told(&s, repaired)
	users := map[string]*iamv1alpha1.User{}
	exists := func(name string) bool {
		var u iamv1alpha1.User
		if err := r.Client.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: name}, &u); err != nil {
			return false
		}
		users[name] = &u
		return true
	}
	// A Share being deleted tells no one.
	notify, record := newGrantees(&s.Spec, told, known && s.DeletionTimestamp == nil, exists)
	if !changed && repaired == nil && len(notify) == 0 && s.Status.NotifiedGeneration == s.Generation && slices.Equal(s.Status.NotifiedUsers, record) {
		return ctrl.Result{}, nil
	}
	want := iamv1alpha1.ShareStatus{
		ObservedGeneration: report.ObservedGeneration, Users: report.Users, Conditions: report.Conditions,
		NotifiedUsers: record, NotifiedGeneration: s.Generation,
	}
	if err := status.Apply(ctx, r.Client, &s, &want, FieldManager); err != nil {
		return ctrl.Result{}, err
	}
	// After the write that records them: a write that fails notifies no
	// one, and its retry does (an Event lost with a crash in between is
	// the price of never telling anyone twice).
	r.notified.wrote(&s, s.Generation, record)
	if r.Recorder != nil {
		for _, g := range notify {
			r.Recorder.Eventf(users[g.Name], &s, corev1.EventTypeNormal, EventShared, "Notify", "%s", sharedMessage(&s, g))
		}
	}
	return ctrl.Result{}, nil
}
