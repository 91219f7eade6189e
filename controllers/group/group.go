// Package group reconciles a Group's status: how many users it has, and
// which of its directory groups match nobody.
package group

import (
	"context"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/controllers/internal/status"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/engine"
	"github.com/gatehouse-dev/gatehouse/internal/words"
)

// FieldManager owns the fields of Group.status this controller writes.
const FieldManager = "gatehouse-group"

// writer writes Group.status as FieldManager.
var writer = status.NewWriter(FieldManager, "Group")

// RBAC of this controller (a package-level marker block, so controller-gen reads it).
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=groups,verbs=get;list;watch
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=groups/status,verbs=get;patch

// Reconciler writes Group.status.
type Reconciler struct {
	Client   client.Client
	Engine   *engine.Engine
	Recorder events.EventRecorder
	// AdminGroups are the administrator groups, which no Group may map onto.
	AdminGroups []string
}

// Reconcile reads the group's report from the engine and applies it. An
// error reaches the Ready condition (the writer's deferred End) before it
// is returned.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, err error) {
	var g iamv1alpha1.Group
	if err := r.Client.Get(ctx, req.NamespacedName, &g); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	ix := r.Engine.Index(req.Namespace)
	if ix == nil {
		return ctrl.Result{}, nil
	}
	rep := ix.GroupReport(req.Name)
	if rep == nil {
		return ctrl.Result{}, nil
	}
	conds := []metav1.Condition{status.Condition(iamv1alpha1.ConditionReady, true, iamv1alpha1.ReasonReconciled,
		fmt.Sprintf("The group has %s%s.", words.Count(rep.Members, "member", "members"), inactiveNote(rep.Inactive)))}
	if why := access.ForbiddenKubernetesGroup(g.Spec.KubernetesGroup, r.AdminGroups); why != "" {
		conds[0] = status.Condition(iamv1alpha1.ConditionReady, false, iamv1alpha1.ReasonForbiddenKubernetesGroup,
			fmt.Sprintf("The group has %s, but spec.kubernetesGroup %q %s, so Gatehouse binds nothing to it: set the group its own members carry, or leave it empty.",
				words.Count(rep.Members, "member", "members"), g.Spec.KubernetesGroup, why))
	}
	if len(g.Spec.LDAPGroups) > 0 {
		matched := status.Condition(iamv1alpha1.ConditionDirectoryGroupsMatched, true, iamv1alpha1.ReasonMatched,
			"Every ldapGroups entry matches at least one user's directory groups.")
		if len(rep.UnmatchedLDAPGroups) > 0 {
			matched = status.Condition(iamv1alpha1.ConditionDirectoryGroupsMatched, false, iamv1alpha1.ReasonNoMatchingUsers,
				fmt.Sprintf("No user's spec.directoryGroups names %s. Check the entries against the Directory's groups (a DN or a group name), or wait for the directory's next sync; the other entries apply.",
					strings.Join(rep.UnmatchedLDAPGroups, "; ")))
		}
		conds = append(conds, matched)
	}
	x, err := writer.Begin(ctx, r.Client, r.Recorder, &g, func(err error) any {
		failed := g.Status.DeepCopy()
		failed.Conditions = status.Failed(g.Status.Conditions, g.Generation, err)
		return failed
	})
	defer x.End(ctx, &err)
	if err != nil {
		return ctrl.Result{}, err
	}
	want := iamv1alpha1.GroupStatus{
		ObservedGeneration: g.Generation,
		Members:            rep.Members,
		Conditions:         status.Conditions(g.Status.Conditions, g.Generation, conds...),
	}
	_, err = x.Apply(ctx, &want, status.Unchanged(g.Status, want, groupConditions, iamv1alpha1.ConditionDirectoryGroupsMatched))
	return ctrl.Result{}, err
}

// inactiveNote says how many inactive users the member count leaves out.
func inactiveNote(n int32) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%s not counted: inactive users are not members)", words.Count(n, "inactive user", "inactive users"))
}

func groupConditions(s *iamv1alpha1.GroupStatus) *[]metav1.Condition { return &s.Conditions }
