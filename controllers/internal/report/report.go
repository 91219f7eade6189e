// Package report is the one reconciler of the kinds whose status is their
// engine report (access.ObjectReport: the users reached and what in the
// object names nothing): Share and ResourceGrant. A kind plugs in what
// differs — where its report is, and, for Share, a part of its own.
package report

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatehouse-dev/gatehouse/controllers/internal/status"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/engine"
)

// Object is a pointer to a kind's struct (*iamv1alpha1.Share).
type Object[T any] interface {
	*T
	client.Object
}

// Kind is what the reconciler needs to know of one kind, whose status
// struct is S.
type Kind[T any, P Object[T], S any] struct {
	// Writer writes the kind's status (made at package level with
	// status.NewWriter, which registers its field manager).
	Writer *status.Writer
	// Report is the engine's report of the object name of ix (nil until
	// the engine holds it).
	Report func(ix *access.Index, name string) *access.ObjectReport
	// Status is the address of obj's status.
	Status func(obj P) *S
	// Part is the report part of the status st.
	Part func(st *S) Part
	// Extend, when not nil, adds the kind's own part to want, the status
	// from the report, once foreign fields were repaired (repaired names
	// them).
	Extend func(ctx context.Context, obj P, want S, repaired []string) Extension
	// Gone, when not nil, is called when the object no longer exists.
	Gone func(key types.NamespacedName)
}

// Part points at the fields of a status that its engine report sets.
type Part struct {
	// ObservedGeneration is status.observedGeneration.
	ObservedGeneration *int64
	// Users is status.users.
	Users *int32
	// Conditions is status.conditions.
	Conditions *[]metav1.Condition
}

// Extension is a kind's own part of a status write.
type Extension struct {
	// Status is the whole status to apply.
	Status any
	// Changed: the kind's own part differs from what is written.
	Changed bool
	// Applied, when not nil, runs after the status was written.
	Applied func()
}

// Reconciler writes the status of one kind from its engine report.
type Reconciler[T any, P Object[T], S any] struct {
	Client   client.Client
	Engine   *engine.Engine
	Recorder events.EventRecorder
	Kind     Kind[T, P, S]
}

// Reconcile reads the object's report from the engine and applies the
// status when it differs from what is written. An error reaches the Ready
// condition (the writer's deferred End) before it is returned.
func (r *Reconciler[T, P, S]) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, err error) {
	k := r.Kind
	obj := P(new(T))
	if err := r.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) && k.Gone != nil {
			k.Gone(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	ix := r.Engine.Index(req.Namespace)
	if ix == nil {
		return ctrl.Result{}, nil
	}
	rep := k.Report(ix, req.Name)
	if rep == nil {
		return ctrl.Result{}, nil
	}
	written := *k.Status(obj)
	x, err := k.Writer.Begin(ctx, r.Client, r.Recorder, obj, func(err error) any {
		failed := *k.Status(obj) // as it is when the reconcile fails
		*k.Part(&failed).Conditions = status.Failed(*k.Part(&written).Conditions, obj.GetGeneration(), err)
		return &failed
	})
	defer x.End(ctx, &err)
	if err != nil {
		return ctrl.Result{}, err
	}
	// want is the written status with the report's part: the kind's own
	// part stays as written until Extend sets it.
	want := written
	part := k.Part(&want)
	*part.ObservedGeneration = obj.GetGeneration()
	*part.Users, *part.Conditions = status.FromReport(obj.GetGeneration(), *k.Part(&written).Conditions, rep)
	unchanged := status.Unchanged(written, want, func(st *S) *[]metav1.Condition { return k.Part(st).Conditions })
	ext := Extension{Status: &want}
	if k.Extend != nil {
		ext = k.Extend(ctx, obj, want, x.Repaired())
	}
	wrote, err := x.Apply(ctx, ext.Status, unchanged && !ext.Changed)
	if !wrote || err != nil {
		return ctrl.Result{}, err
	}
	if ext.Applied != nil {
		ext.Applied()
	}
	return ctrl.Result{}, nil
}
