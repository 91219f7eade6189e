// Package license reconciles a License's status: seats, used and pending per
// profile, whether it is in force, and a warning when a profile is full or
// over-committed.
package license

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/controllers/internal/status"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/engine"
	"github.com/gatehouse-dev/gatehouse/internal/words"
)

// FieldManager owns the fields of License.status this controller writes.
const FieldManager = "gatehouse-license"

// writer writes License.status as FieldManager.
var writer = status.NewWriter(FieldManager, "License")

// RBAC of this controller (a package-level marker block, so controller-gen reads it).
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=licenses,verbs=get;list;watch
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=licenses/status,verbs=get;patch

// Reconciler writes License.status.
type Reconciler struct {
	Client   client.Client
	Engine   *engine.Engine
	Recorder events.EventRecorder
	// Clock is the controller's time (the real clock when nil).
	Clock clock.PassiveClock
}

// Reconcile reads the seat use from the engine and applies it.
// An error reaches the Ready condition (the writer's deferred End) before
// it is returned.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, err error) {
	var l iamv1alpha1.License
	if err := r.Client.Get(ctx, req.NamespacedName, &l); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	ix := r.Engine.Index(req.Namespace)
	if ix == nil {
		return ctrl.Result{}, nil
	}
	var clk clock.PassiveClock = clock.RealClock{}
	if r.Clock != nil {
		clk = r.Clock
	}
	x, err := writer.Begin(ctx, r.Client, r.Recorder, &l, func(err error) any {
		failed := l.Status.DeepCopy()
		failed.Conditions = status.Failed(l.Status.Conditions, l.Generation, err)
		return failed
	})
	defer x.End(ctx, &err)
	if err != nil {
		return ctrl.Result{}, err
	}
	var all iamv1alpha1.LicenseList
	if err := r.Client.List(ctx, &all, client.InNamespace(req.Namespace)); err != nil {
		return ctrl.Result{}, fmt.Errorf("cannot list the namespace's Licenses: %w", err)
	}
	want := iamv1alpha1.LicenseStatus{ObservedGeneration: l.Generation}
	var conds []metav1.Condition
	switch inForce := access.LicenseInForce(all.Items); {
	case inForce != nil && inForce.Name != l.Name:
		conds = append(conds, status.Condition(iamv1alpha1.ConditionReady, false, iamv1alpha1.ReasonDuplicateLicense,
			fmt.Sprintf("License %s is the one in force in this namespace (the oldest); a namespace has one License. Delete this one or merge its profiles into %s.",
				inForce.Name, inForce.Name)))
	case l.Spec.ExpiresAt != nil && !clk.Now().Before(l.Spec.ExpiresAt.Time):
		want.Profiles = ix.Profiles()
		conds = append(conds, status.Condition(iamv1alpha1.ConditionReady, false, iamv1alpha1.ReasonLicenseExpired,
			fmt.Sprintf("The License expired at %s and no user holds a seat; move spec.expiresAt into the future to renew it.",
				l.Spec.ExpiresAt.UTC().Format(time.RFC3339))))
	default:
		want.Profiles = ix.Profiles()
		msg := "The License is in force."
		if l.Spec.ExpiresAt != nil {
			msg = fmt.Sprintf("The License is in force until %s.", l.Spec.ExpiresAt.UTC().Format(time.RFC3339))
		}
		conds = append(conds, status.Condition(iamv1alpha1.ConditionReady, true, iamv1alpha1.ReasonReconciled, msg),
			seats(want.Profiles))
	}
	want.Conditions = status.Conditions(l.Status.Conditions, l.Generation, conds...)
	wrote, err := x.Apply(ctx, &want, status.Unchanged(l.Status, want, licenseConditions, iamv1alpha1.ConditionSeatsAvailable))
	if !wrote || err != nil {
		return ctrl.Result{}, err
	}
	// Warn once per new shortage, not on every recount.
	before := findCondition(l.Status.Conditions, iamv1alpha1.ConditionSeatsAvailable)
	after := findCondition(want.Conditions, iamv1alpha1.ConditionSeatsAvailable)
	if after != nil && after.Status == metav1.ConditionFalse && (before == nil || before.Message != after.Message) {
		r.Recorder.Eventf(&l, nil, corev1.EventTypeWarning, after.Reason, "CountSeats", "%s", after.Message)
	}
	return ctrl.Result{}, nil
}

func licenseConditions(s *iamv1alpha1.LicenseStatus) *[]metav1.Condition { return &s.Conditions }

func findCondition(cs []metav1.Condition, typ string) *metav1.Condition {
	i := slices.IndexFunc(cs, func(c metav1.Condition) bool { return c.Type == typ })
	if i < 0 {
		return nil
	}
	return &cs[i]
}

// seats is the SeatsAvailable condition: False when a profile has every seat
// taken (ProfileFull) or more active users than seats (OverCommitted).
func seats(profiles []iamv1alpha1.ProfileStatus) metav1.Condition {
	var full, over []string
	for _, p := range profiles {
		switch {
		case p.Pending > 0:
			over = append(over, fmt.Sprintf("profile %s has %s for %s, %d %s Pending",
				p.Name, words.Count(p.Used+p.Pending, "active user", "active users"), words.Count(p.Seats, "seat", "seats"), p.Pending, words.Plural(p.Pending, "waits", "wait")))
		case p.Seats > 0 && p.Used >= p.Seats:
			full = append(full, fmt.Sprintf("profile %s has %d of %s in use", p.Name, p.Used, words.Count(p.Seats, "seat", "seats")))
		}
	}
	switch {
	case len(over) > 0:
		return status.Condition(iamv1alpha1.ConditionSeatsAvailable, false, iamv1alpha1.ReasonOverCommitted,
			strings.Join(append(over, full...), "; ")+". Raise the profile's seats in spec.profiles or deactivate users of it.")
	case len(full) > 0:
		return status.Condition(iamv1alpha1.ConditionSeatsAvailable, false, iamv1alpha1.ReasonProfileFull,
			strings.Join(full, "; ")+". A new user of a full profile waits Pending; raise the profile's seats in spec.profiles to add one.")
	}
	return status.Condition(iamv1alpha1.ConditionSeatsAvailable, true, iamv1alpha1.ReasonSeatsAvailable, "Every profile has a free seat.")
}
