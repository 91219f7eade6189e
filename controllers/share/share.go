// Package share reconciles a Share's status: how many users it reaches and
// what in it names nothing (a role the resource type lacks, an unknown
// grantee); and it tells each new User grantee, with an Event on its User
// that quotes the Share's note.
package share

import (
	"context"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/controllers/internal/report"
	"github.com/gatehouse-dev/gatehouse/controllers/internal/status"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/engine"
)

// FieldManager owns the fields of Share.status this controller writes.
const FieldManager = "gatehouse-share"

// writer writes Share.status as FieldManager.
var writer = status.NewWriter(FieldManager, "Share")

// RBAC of this controller (a package-level marker block, so controller-gen reads it).
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=shares,verbs=get;list;watch
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=shares/status,verbs=get;patch
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=users,verbs=get;list;watch

// Reconciler writes Share.status (the report reconciler of
// controllers/internal/report, with the notification record as the Share's
// own part) and notifies new User grantees.
type Reconciler struct {
	Client   client.Client
	Engine   *engine.Engine
	Recorder events.EventRecorder

	notified memory
}

// Reconcile reads the share's report from the engine and applies it with
// the notification record, then notifies the new User grantees.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	rec := report.Reconciler[iamv1alpha1.Share, *iamv1alpha1.Share, iamv1alpha1.ShareStatus]{
		Client: r.Client, Engine: r.Engine, Recorder: r.Recorder,
		Kind: report.Kind[iamv1alpha1.Share, *iamv1alpha1.Share, iamv1alpha1.ShareStatus]{
			Writer: writer,
			Report: (*access.Index).ShareReport,
			Status: func(s *iamv1alpha1.Share) *iamv1alpha1.ShareStatus { return &s.Status },
			Part: func(st *iamv1alpha1.ShareStatus) report.Part {
				return report.Part{ObservedGeneration: &st.ObservedGeneration, Users: &st.Users, Conditions: &st.Conditions}
			},
			Extend: r.notifications,
			Gone:   r.notified.forget,
		},
	}
	return rec.Reconcile(ctx, req)
}

// notifications adds the notification record to the report status want:
// the User grantees told before or now; the new ones are told by an Event
// after the write that records them.
func (r *Reconciler) notifications(ctx context.Context, s *iamv1alpha1.Share, want iamv1alpha1.ShareStatus, repaired []string) report.Extension {
	told, known := r.notified.told(s, repaired)
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
	st := &want
	st.NotifiedUsers, st.NotifiedGeneration = record, s.Generation
	return report.Extension{
		Status:  st,
		Changed: len(notify) > 0 || s.Status.NotifiedGeneration != s.Generation || !slices.Equal(s.Status.NotifiedUsers, record),
		// After the write that records them: a write that fails notifies
		// no one, and its retry does (an Event lost with a crash in
		// between is the price of never telling anyone twice).
		Applied: func() {
			r.notified.wrote(s, s.Generation, record)
			if r.Recorder == nil {
				return
			}
			for _, g := range notify {
				r.Recorder.Eventf(users[g.Name], s, corev1.EventTypeNormal, EventShared, "Notify", "%s", sharedMessage(s, g))
			}
		},
	}
}
