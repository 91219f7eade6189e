package controllers_test

// The perimeter as the controllers hold it, without the webhooks (this
// suite installs none, as if they were down or bypassed): a status someone
// else wrote is removed, and two Users claiming one identity are both
// reported and judged as nobody.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// forge writes status fields of obj as another field manager would, by a
// merge patch (an Update) or a server-side apply.
func forge(t *testing.T, obj client.Object, manager string, ssa bool, fields map[string]any) {
	t.Helper()
	gvk, err := env.Client.GroupVersionKindFor(obj)
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"status": fields}
	patch := client.RawPatch(types.MergePatchType, mustJSON(t, body))
	opts := []client.SubResourcePatchOption{client.FieldOwner(manager)}
	if ssa {
		body["apiVersion"], body["kind"] = gvk.GroupVersion().String(), gvk.Kind
		body["metadata"] = map[string]any{"name": obj.GetName(), "namespace": obj.GetNamespace()}
		patch = client.RawPatch(types.ApplyPatchType, mustJSON(t, body))
		opts = append(opts, client.ForceOwnership)
	}
	if err := env.Client.Status().Patch(ctx(t), obj, patch, opts...); err != nil {
		t.Fatalf("cannot forge the status of %s %s: %v", gvk.Kind, obj.GetName(), err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestForgedStatusRepaired writes, as someone other than the operator,
// status fields of a User (one the operator never writes for this user, and
// one it does), a Group and a Share; each is gone within seconds, with one
// StatusRepaired Warning and no permission Event or audit line.
func TestForgedStatusRepaired(t *testing.T) {
	ns := env.Namespace(t)
	create(t, license(ns, profile("full", 5)), group(ns, "analysts"),
		user(ns, "carol", "full", "analysts"), user(ns, "dave", "full"),
		share(ns, "sales", "dataset/sales", to(iamv1alpha1.GranteeUser, "dave", iamv1alpha1.RoleOwner),
			to(iamv1alpha1.GranteeGroup, "analysts", iamv1alpha1.RoleConsumer)))
	consistent(t, ns)
	carol := waitUser(t, ns, "carol", "Consumer on sales", roleOn("dataset/sales", iamv1alpha1.RoleConsumer))
	// The Event and audit line of that write come after it.
	waitEvent(t, ns, "User", "carol", "PermissionsChanged", "dataset/sales")
	eventually(t, "carol's audit line", func() (bool, string) {
		for _, r := range auditRecords(ns) {
			if r["user"] == "carol" {
				return true, ""
			}
		}
		return false, "none"
	})
	permsBefore := len(events(t, ns, "User", "carol", "PermissionsChanged"))
	auditBefore := len(auditRecords(ns))

	for _, tc := range []struct {
		name string
		ssa  bool
	}{{"merge patch", false}, {"server-side apply", true}} {
		t.Run(tc.name, func(t *testing.T) {
			forged := fmt.Sprintf("forger-%t", tc.ssa)
			forge(t, carol, forged, tc.ssa, map[string]any{
				// Never written for carol (she holds no global permission).
				"globalPermissions": []string{"admin"},
				// Written by the operator, and overwritten.
				"resources": []map[string]any{{"type": "dataset", "name": "sales", "role": "Owner", "permissions": []string{"delete"}}},
				"seat":      "Granted",
			})
			waitUser(t, ns, "carol", "the forgery removed", func(u *iamv1alpha1.User) bool {
				a := access1(u, "dataset/sales")
				return len(u.Status.GlobalPermissions) == 0 && a != nil && a.Role == iamv1alpha1.RoleConsumer &&
					!slices.Contains(a.Permissions, "delete") && u.Status.Seat == iamv1alpha1.SeatGranted
			})
			waitEvent(t, ns, "User", "carol", iamv1alpha1.EventStatusRepaired, forged)
			if got := events(t, ns, "User", "carol", iamv1alpha1.EventStatusRepaired); !strings.Contains(strings.Join(got, "\n"), "status.globalPermissions") {
				t.Errorf("StatusRepaired Events %q do not name status.globalPermissions", got)
			}
			// The managedFields say nobody but the operator holds a field.
			var u iamv1alpha1.User
			if err := env.Client.Get(ctx(t), client.ObjectKeyFromObject(carol), &u); err != nil {
				t.Fatal(err)
			}
			for _, e := range u.ManagedFields {
				if e.Manager == forged {
					t.Errorf("%s still owns %s", forged, e.FieldsV1.GetRawString())
				}
			}
			carol = &u
		})
	}
	consistent(t, ns)
	// A real change after the repairs: once its Event and audit line are
	// there, every reconcile of carol before it has written its own (one
	// User is never reconciled twice at once), so a wrong one would show.
	create(t, share(ns, "sentinel", "dataset/sentinel", to(iamv1alpha1.GranteeUser, "carol", iamv1alpha1.RoleConsumer)))
	waitEvent(t, ns, "User", "carol", "PermissionsChanged", "dataset/sentinel")
	var after []map[string]any
	eventually(t, "carol's audit line of the sentinel Share", func() (bool, string) {
		after = auditRecords(ns)[auditBefore:]
		b, _ := json.Marshal(after)
		return strings.Contains(string(b), "dataset/sentinel"), string(b)
	})
	if got := events(t, ns, "User", "carol", "PermissionsChanged"); len(got) != permsBefore+1 {
		t.Errorf("%d PermissionsChanged Events after repairs and the sentinel Share, want %d: %q", len(got), permsBefore+1, got)
	}
	for _, reason := range []string{"SeatGranted", "SeatLost"} {
		if got := events(t, ns, "User", "carol", reason); len(got) > 1 {
			t.Errorf("%s Events after a forged seat: %q", reason, got)
		}
	}
	if len(after) != 1 {
		t.Errorf("audit lines after the repairs, the last for the sentinel Share: %v", after)
	}

	// A Group's member count and a condition type the operator never
	// writes; a Share's reach.
	g := getGroup(t, ns, "analysts")
	forge(t, g, "forger", false, map[string]any{"members": 99, "conditions": []map[string]any{
		{"type": "Admin", "status": "True", "reason": "Forged", "message": "x", "lastTransitionTime": time.Now().UTC().Format(time.RFC3339)}}})
	eventually(t, "group status repaired", func() (bool, string) {
		g := getGroup(t, ns, "analysts")
		return g.Status.Members == 1 && meta.FindStatusCondition(g.Status.Conditions, "Admin") == nil &&
			meta.IsStatusConditionTrue(g.Status.Conditions, iamv1alpha1.ConditionReady), fmt.Sprintf("%+v", g.Status)
	})
	waitEvent(t, ns, "Group", "analysts", iamv1alpha1.EventStatusRepaired, "status.conditions, status.members were written by forger")
	var s iamv1alpha1.Share
	if err := env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: "sales"}, &s); err != nil {
		t.Fatal(err)
	}
	forge(t, &s, "forger", true, map[string]any{"users": 42})
	eventually(t, "share status repaired", func() (bool, string) {
		if err := env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: "sales"}, &s); err != nil {
			return false, err.Error()
		}
		return s.Status.Users == 2, fmt.Sprintf("users %d", s.Status.Users)
	})
	waitEvent(t, ns, "Share", "sales", iamv1alpha1.EventStatusRepaired, "forger")
}

// TestIdentityConflict creates two Users standing for one Kubernetes
// identity (the webhook that refuses it is not installed here): both are
// Ready=False naming the other, the identity maps to neither, and fixing
// one clears both.
func TestIdentityConflict(t *testing.T) {
	ns := env.Namespace(t)
	thief := user(ns, "mallory", "full")
	thief.Spec.KubernetesUsername = "bob"
	create(t, license(ns, profile("full", 5)), user(ns, "bob", "full"), thief)
	for name, other := range map[string]string{"bob": "mallory", "mallory": "bob"} {
		waitUser(t, ns, name, "Ready=False IdentityConflict", func(u *iamv1alpha1.User) bool {
			c := meta.FindStatusCondition(u.Status.Conditions, iamv1alpha1.ConditionReady)
			return c != nil && c.Status == metav1.ConditionFalse && c.Reason == iamv1alpha1.ReasonIdentityConflict &&
				strings.Contains(c.Message, "User "+other)
		})
	}
	ix := op.Engine.Index(ns)
	if who, ok := ix.UserForKubernetesName("bob"); ok {
		t.Errorf("the identity bob maps to %s while two Users claim it", who)
	}
	update(t, thief, func(u *iamv1alpha1.User) { u.Spec.KubernetesUsername = "mallory@corp" })
	for _, name := range []string{"bob", "mallory"} {
		waitUser(t, ns, name, "Ready again", func(u *iamv1alpha1.User) bool {
			return meta.IsStatusConditionTrue(u.Status.Conditions, iamv1alpha1.ConditionReady)
		})
	}
	if who, ok := ix.UserForKubernetesName("bob"); !ok || who != "bob" {
		t.Errorf("after the fix the identity bob maps to %q, %v", who, ok)
	}
}

// TestForbiddenKubernetesGroup: a Group mapped onto an administrator group
// (made past the webhook) is Ready=False, and fixing it clears that.
func TestForbiddenKubernetesGroup(t *testing.T) {
	ns := env.Namespace(t)
	g := group(ns, "sneaky")
	g.Spec.KubernetesGroup = adminGroup
	create(t, license(ns, profile("full", 5)), g, user(ns, "erin", "full", "sneaky"))
	eventually(t, "Ready=False ForbiddenKubernetesGroup", func() (bool, string) {
		g := getGroup(t, ns, "sneaky")
		c := meta.FindStatusCondition(g.Status.Conditions, iamv1alpha1.ConditionReady)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == iamv1alpha1.ReasonForbiddenKubernetesGroup &&
			strings.Contains(c.Message, adminGroup), fmt.Sprintf("%+v", g.Status.Conditions)
	})
	update(t, g, func(g *iamv1alpha1.Group) { g.Spec.KubernetesGroup = "sneaky-team" })
	eventually(t, "Ready again", func() (bool, string) {
		g := getGroup(t, ns, "sneaky")
		return meta.IsStatusConditionTrue(g.Status.Conditions, iamv1alpha1.ConditionReady), fmt.Sprintf("%+v", g.Status.Conditions)
	})
}

// TestTerminatingShareGrantsNothing: a Share held by a finalizer after its
// deletion gives nothing while it waits (the trial kept a revoked user's
// access while the Share stayed Terminating).
func TestTerminatingShareGrantsNothing(t *testing.T) {
	ns := env.Namespace(t)
	s := share(ns, "sales", "dataset/sales", to(iamv1alpha1.GranteeUser, "dave", iamv1alpha1.RoleOwner), to(iamv1alpha1.GranteeUser, "carol", iamv1alpha1.RoleEditor))
	s.Finalizers = []string{"example.com/hold"}
	create(t, license(ns, profile("full", 5)), user(ns, "carol", "full"), user(ns, "dave", "full"), s)
	waitUser(t, ns, "carol", "Editor on sales", roleOn("dataset/sales", iamv1alpha1.RoleEditor))
	if err := env.Client.Delete(ctx(t), s); err != nil {
		t.Fatal(err)
	}
	waitUser(t, ns, "carol", "no access to sales", func(u *iamv1alpha1.User) bool { return access1(u, "dataset/sales") == nil })
	var still iamv1alpha1.Share
	if err := env.Client.Get(ctx(t), client.ObjectKeyFromObject(s), &still); err != nil || still.DeletionTimestamp == nil {
		t.Fatalf("the Share should still be there, Terminating: %v %+v", err, still.ObjectMeta)
	}
	update(t, &still, func(s *iamv1alpha1.Share) { s.Finalizers = nil })
}
