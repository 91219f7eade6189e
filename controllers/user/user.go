// Package user reconciles a User's status: its groups, seat, global
// permissions and every resource it reaches, as internal/access computes
// them, with an Event and an audit line for every change; and
// User.status.credentials, what the user's per-user Connections say of its
// credential Secrets (credentials.go).
package user

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/controllers/internal/status"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/engine"
	"github.com/gatehouse-dev/gatehouse/internal/words"
)

// FieldManager owns the fields of User.status this controller writes.
const FieldManager = "gatehouse-user"

// writer writes User.status as FieldManager, and repairs only the fields it
// owns (the credentials are the Connection controller's to repair).
var writer = status.NewWriter(FieldManager, "User", ownFields...)

// Event reasons on a User.
const (
	EventPermissionsChanged = "PermissionsChanged"
	EventSeatGranted        = "SeatGranted"
	EventSeatLost           = "SeatLost"
)

// RBAC of this controller (a package-level marker block, so controller-gen reads it).
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=users,verbs=get;list;watch
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=users/status,verbs=get;patch

// Reconciler writes User.status.
type Reconciler struct {
	Client   client.Client
	Engine   *engine.Engine
	Recorder events.EventRecorder
	Audit    *audit.Logger
	// Written holds what the cache leaves out of the Users' status (their
	// resources); CacheTransform's store when nil.
	Written *WrittenResources

	repaired status.Repaired
}

// Reconcile computes the user from the engine's Index and applies the status
// when it differs from what is written. An error reaches the Ready
// condition (the writer's deferred End) before it is returned.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, err error) {
	written := r.Written
	if written == nil {
		written = defaultWritten
	}
	var u iamv1alpha1.User
	if err := r.Client.Get(ctx, req.NamespacedName, &u); err != nil {
		if apierrors.IsNotFound(err) {
			r.Engine.Causes().Forget(req.NamespacedName)
			written.Forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	// What led here, taken before the computation: the engine records a
	// cause after applying it to the Index, so the result below includes
	// the effect of every cause taken. They belong to the first write of
	// this result, or to none when nothing changes, and are never carried
	// over to a later, unrelated change; kept while the write fails.
	causes := r.Engine.Causes().Take(req.NamespacedName)
	settled := false
	defer func() {
		if !settled {
			r.Engine.Causes().Keep(req.NamespacedName, causes)
		}
	}()
	res := r.Engine.ComputeUser(req.Namespace, req.Name)
	if res == nil || u.DeletionTimestamp != nil {
		// Not indexed yet (its own event will bring it) or going away.
		settled = true
		return ctrl.Result{}, nil
	}
	want, licensed, err := r.desired(&u, res)
	if err != nil {
		return ctrl.Result{}, err
	}
	// What someone other than the operator wrote goes first (the
	// credentials are the Connection controller's to repair).
	x, err := writer.Begin(ctx, r.Client, r.Recorder, &u, failed(&u, &want))
	defer x.End(ctx, &err)
	if err != nil {
		return ctrl.Result{}, err
	}
	r.repaired.Add(req.NamespacedName, x.Repaired())

	cur := u.Status
	sameResources, err := written.Same(&u, want.Resources)
	if errors.Is(err, errNotStored) {
		// The cache is a version behind the store: look again shortly
		// (the newer version's event brings it back anyway).
		return ctrl.Result{RequeueAfter: storeWait}, nil
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	if x.Skip(sameResources && status.Unchanged(owned(cur), owned(want), userConditions)) {
		r.repaired.Done(req.NamespacedName)
		settled = true
		return ctrl.Result{}, nil
	}
	// What was written, for the Event and the audit line.
	if cur.Resources, err = written.Previous(&u); err != nil {
		return ctrl.Result{}, err
	}
	granting := want.Seat == iamv1alpha1.SeatGranted && cur.Seat != iamv1alpha1.SeatGranted
	if granting && !r.Engine.MayGrant(u.Namespace, u.Spec.Profile, u.Name, seatsOf(r.Engine, u.Namespace, u.Spec.Profile)) {
		// The seat is still written on a user losing it: wait for that
		// write, so that no more statuses say Granted than there are seats.
		return ctrl.Result{RequeueAfter: seatWait}, nil
	}
	// Skip said no above: it writes.
	if _, err := x.Apply(ctx, &want, false); err != nil {
		if granting {
			r.Engine.GrantFailed(u.Namespace, u.Spec.Profile, u.Name)
		}
		return ctrl.Result{}, err
	}
	settled = true
	r.record(ctx, &u, &cur, &want, licensed, causes)
	return ctrl.Result{}, nil
}

// desired is the status of u computed as res, and its Licensed condition.
func (r *Reconciler) desired(u *iamv1alpha1.User, res *access.UserResult) (iamv1alpha1.UserStatus, metav1.Condition, error) {
	want := res.Status()
	want.ObservedGeneration = u.Generation
	ready := r.ready(u, res, &want)
	licensed := meta.FindStatusCondition(want.Conditions, iamv1alpha1.ConditionLicensed)
	if licensed == nil {
		return want, metav1.Condition{}, fmt.Errorf("the computation of User %s/%s has no %s condition", u.Namespace, u.Name, iamv1alpha1.ConditionLicensed)
	}
	lic := *licensed
	want.Conditions = status.Conditions(u.Status.Conditions, u.Generation, ready, lic)
	return want, lic, nil
}

// failed is the status the deferred write of a failed reconcile of u
// applies: want with Failed conditions, or nothing when want would grant a
// seat (a seat is granted through MayGrant only, never by an error).
func failed(u *iamv1alpha1.User, want *iamv1alpha1.UserStatus) func(error) any {
	return func(err error) any {
		if want.Seat == iamv1alpha1.SeatGranted && u.Status.Seat != iamv1alpha1.SeatGranted {
			return nil
		}
		failed := *want
		failed.Conditions = status.Failed(want.Conditions, u.Generation, err)
		return &failed
	}
}

// ready is the Ready condition of u, computed as res.
func (r *Reconciler) ready(u *iamv1alpha1.User, res *access.UserResult, want *iamv1alpha1.UserStatus) metav1.Condition {
	if others := r.Engine.IdentityConflicts(u.Namespace, u.Name); len(others) > 0 {
		return status.Condition(iamv1alpha1.ConditionReady, false, iamv1alpha1.ReasonIdentityConflict,
			fmt.Sprintf("Kubernetes identity %q is also claimed by User %s, so requests as %q are judged as neither; "+
				"set a distinct spec.kubernetesUsername on one of them, or delete the one that should not exist.",
				u.Spec.KubernetesIdentity(), strings.Join(others, ", "), u.Spec.KubernetesIdentity()))
	}
	if len(res.UnknownGroups) > 0 {
		return status.Condition(iamv1alpha1.ConditionReady, false, iamv1alpha1.ReasonUnknownGroup,
			fmt.Sprintf("spec.groups names groups that do not exist: %s. Create them or remove them from spec.groups; the user's other groups apply.",
				strings.Join(res.UnknownGroups, ", ")))
	}
	return status.Condition(iamv1alpha1.ConditionReady, true, iamv1alpha1.ReasonReconciled,
		fmt.Sprintf("Effective permissions computed: %s, seat %s.", words.Count(want.ResourceCount, "resource", "resources"), want.Seat))
}

// record records the Event and the audit line of a status write from cur
// to want.
func (r *Reconciler) record(ctx context.Context, u *iamv1alpha1.User, cur, want *iamv1alpha1.UserStatus, licensed metav1.Condition, causes []string) {
	// A field someone else wrote is no history: the Event and the audit
	// line compare only what the operator wrote.
	unforged(cur, want, r.repaired.Get(client.ObjectKeyFromObject(u)))
	change := audit.Diff(cur, want)
	if change.Empty() {
		return
	}
	if change.PermissionsChanged() {
		r.Recorder.Eventf(u, nil, corev1.EventTypeNormal, EventPermissionsChanged, "Recompute", "%s", change.Message())
	}
	if change.SeatChanged() {
		switch {
		case change.SeatAfter == iamv1alpha1.SeatGranted:
			r.Recorder.Eventf(u, nil, corev1.EventTypeNormal, EventSeatGranted, "Recompute", "%s", licensed.Message)
		case change.SeatBefore == iamv1alpha1.SeatGranted:
			r.Recorder.Eventf(u, nil, corev1.EventTypeWarning, EventSeatLost, "Recompute", "%s", licensed.Message)
		}
	}
	r.Audit.PermissionsChanged(ctx, audit.Record{
		Namespace: u.Namespace, User: u.Name, Login: u.Spec.Login, Cause: causes, Change: change,
	})
}

// owned is s without the fields compared elsewhere or written by someone
// else: resources (the cache holds only their digest, WrittenResources)
// and credentials (the Connection controller's).
func owned(s iamv1alpha1.UserStatus) iamv1alpha1.UserStatus {
	s.Resources, s.Credentials = nil, nil
	return s
}

func userConditions(s *iamv1alpha1.UserStatus) *[]metav1.Condition { return &s.Conditions }

// ownFields are the fields of User.status this controller writes (all but
// credentials).
var ownFields = []string{"observedGeneration", "groups", "seat", "globalPermissions", "resources",
	"resourceCount", "resourcesTruncated", "conditions"}

// unforged sets the fields of before that were just repaired (written by
// someone else, now removed) to their new value, so that no change is
// reported for them.
func unforged(before, after *iamv1alpha1.UserStatus, repaired []string) {
	for _, f := range repaired {
		switch f {
		case "groups":
			before.Groups = after.Groups
		case "seat":
			before.Seat = after.Seat
		case "globalPermissions":
			before.GlobalPermissions = after.GlobalPermissions
		case "resources":
			before.Resources = after.Resources
		case "resourceCount":
			before.ResourceCount = after.ResourceCount
		case "resourcesTruncated":
			before.ResourcesTruncated = after.ResourcesTruncated
		case "conditions":
			before.Conditions = after.Conditions
		}
	}
}

// seatWait is how long a grant waits before it asks again; normally the
// engine wakes it sooner, when the seat is written free.
const seatWait = time.Second

// storeWait is how long a reconcile that found the cache a version behind
// WrittenResources waits.
const storeWait = 100 * time.Millisecond

// seatsOf returns the seats of a profile of the namespace's License.
func seatsOf(e *engine.Engine, namespace, profile string) int32 {
	if ix := e.Index(namespace); ix != nil {
		for _, p := range ix.Profiles() {
			if p.Name == profile {
				return p.Seats
			}
		}
	}
	return 0
}
