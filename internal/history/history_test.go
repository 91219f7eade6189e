package history

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// self are the paths a person may change of its own User.
var self = []fieldpath.Path{fieldpath.MakePathOrDie("spec", "displayName"), fieldpath.MakePathOrDie("spec", "email")}

func entry(manager string, op metav1.ManagedFieldsOperationType, fields string) metav1.ManagedFieldsEntry {
	return metav1.ManagedFieldsEntry{Manager: manager, Operation: op, APIVersion: "iam.gatehouse.dev/v1alpha1", FieldsType: "FieldsV1",
		FieldsV1: metav1.NewFieldsV1(fields)}
}

const gitopsFields = `{"f:spec":{".":{},"f:active":{},"f:login":{},"f:profile":{}}}`

// zed is a User an administrator applied (manager gitops) with active:
// false; each case changes it as zed would.
func zed() *iamv1alpha1.User {
	return &iamv1alpha1.User{
		ObjectMeta: metav1.ObjectMeta{Name: "zed", Namespace: "demo",
			ManagedFields: []metav1.ManagedFieldsEntry{entry("gitops", metav1.ManagedFieldsOperationApply, gitopsFields)}},
		Spec: iamv1alpha1.UserSpec{Login: "zed", Profile: "designer", Active: ptr.To(false)},
	}
}

func TestJudge(t *testing.T) {
	tests := map[string]struct {
		change func(u *iamv1alpha1.User)
		want   string // "" admitted, else a part of the refusal
	}{
		"nothing": {change: func(*iamv1alpha1.User) {}},
		"kubectl edit of the display name (the server's bookkeeping)": {change: func(u *iamv1alpha1.User) {
			u.Spec.DisplayName = "Zed"
			u.ManagedFields = append(u.ManagedFields, entry("kubectl-edit", metav1.ManagedFieldsOperationUpdate, `{"f:spec":{"f:displayName":{}}}`))
		}},
		"server-side apply of the e-mail under the manager gitops": {change: func(u *iamv1alpha1.User) {
			u.Spec.Email = "zed@example.com"
			u.ManagedFields[0] = entry("gitops", metav1.ManagedFieldsOperationApply, `{"f:spec":{".":{},"f:active":{},"f:email":{},"f:login":{},"f:profile":{}}}`)
		}},
		"finding 2: a forged gitops entry that no longer owns active": {change: func(u *iamv1alpha1.User) {
			u.ManagedFields[0] = entry("gitops", metav1.ManagedFieldsOperationApply, `{"f:spec":{".":{},"f:login":{},"f:profile":{}}}`)
		}, want: `no longer record manager "gitops" (Apply, iam.gatehouse.dev/v1alpha1) as .spec.active`},
		"a forged entry of another manager owning active": {change: func(u *iamv1alpha1.User) {
			u.ManagedFields = append(u.ManagedFields, entry("gatehouse-directory", metav1.ManagedFieldsOperationApply, `{"f:spec":{"f:active":{}}}`))
		}, want: `record manager "gatehouse-directory" (Apply, iam.gatehouse.dev/v1alpha1) as .spec.active`},
		"a user's own server-side apply of its whole User (same values)": {change: func(u *iamv1alpha1.User) {
			u.ManagedFields = append(u.ManagedFields, entry("zed", metav1.ManagedFieldsOperationApply, `{"f:spec":{"f:active":{},"f:displayName":{},"f:login":{}}}`))
		}, want: "as .spec.active"},
		"a reset (managedFields: [{}])": {change: func(u *iamv1alpha1.User) {
			u.ManagedFields = nil
		}, want: "would no longer record"},
		"a forged status entry": {change: func(u *iamv1alpha1.User) {
			e := entry("gatehouse-user", metav1.ManagedFieldsOperationApply, `{"f:status":{"f:globalPermissions":{}}}`)
			e.Subresource = "status"
			u.ManagedFields = append(u.ManagedFields, e)
		}, want: "subresource status"},
		"kubectl's record of the display name": {change: func(u *iamv1alpha1.User) {
			u.Spec.DisplayName = "Zed"
			u.Annotations = map[string]string{LastApplied: `{"apiVersion":"iam.gatehouse.dev/v1alpha1","kind":"User","metadata":{"name":"zed","namespace":"demo"},"spec":{"displayName":"Zed"}}`}
			u.ManagedFields = append(u.ManagedFields, entry("kubectl-client-side-apply", metav1.ManagedFieldsOperationUpdate,
				`{"f:metadata":{"f:annotations":{".":{},"f:kubectl.kubernetes.io/last-applied-configuration":{}}},"f:spec":{"f:displayName":{}}}`))
		}},
		"finding 2: a poisoned record holding active": {change: func(u *iamv1alpha1.User) {
			u.Annotations = map[string]string{LastApplied: `{"apiVersion":"iam.gatehouse.dev/v1alpha1","kind":"User","metadata":{"name":"zed"},"spec":{"active":false,"login":"zed"}}`}
		}, want: "(spec.active, spec.login)"},
		"a record that is no object": {change: func(u *iamv1alpha1.User) {
			u.Annotations = map[string]string{LastApplied: `[1]`}
		}, want: "is not the JSON of an object"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			before, after := zed(), zed()
			tc.change(after)
			got := Judge(before, after, self)
			switch {
			case tc.want == "" && got != "":
				t.Errorf("refused: %s", got)
			case tc.want != "" && !strings.Contains(got, tc.want):
				t.Errorf("Judge = %q; want it to say %q", got, tc.want)
			}
		})
	}
}

// TestJudgeAdmitsWhatAllows: with every path allowed (an administrator's
// class), any history passes but an unreadable one.
func TestJudgeAdmitsWhatAllows(t *testing.T) {
	before, after := zed(), zed()
	after.ManagedFields = append(after.ManagedFields, entry("x", metav1.ManagedFieldsOperationApply, `{"f:spec":{"f:active":{}},"f:metadata":{"f:labels":{"f:a":{}}}}`))
	after.Annotations = map[string]string{LastApplied: `{"spec":{"active":true}}`}
	if got := Judge(before, after, []fieldpath.Path{fieldpath.MakePathOrDie("spec"), fieldpath.MakePathOrDie("metadata")}); got != "" {
		t.Errorf("refused: %s", got)
	}
}

// TestJudgeProperty: for random histories, one path added to or taken from
// one entry (any manager, any operation, the values unchanged) is refused
// exactly when it is a path the requester may not change.
func TestJudgeProperty(t *testing.T) {
	type path struct {
		json    string // the path as FieldsV1 nests it, around a leaf {}
		allowed bool
	}
	paths := []path{
		{`{"f:spec":{"f:displayName":{}}}`, true}, {`{"f:spec":{"f:email":{}}}`, true},
		{`{"f:spec":{"f:active":{}}}`, false}, {`{"f:spec":{"f:login":{}}}`, false}, {`{"f:spec":{"f:profile":{}}}`, false},
		{`{"f:spec":{"f:groups":{}}}`, false}, {`{"f:metadata":{"f:labels":{"f:tier":{}}}}`, false}, {`{"f:status":{"f:globalPermissions":{}}}`, false},
	}
	union := func(members []int) string {
		s := &fieldpath.Set{}
		for _, m := range members {
			var one fieldpath.Set
			if err := one.FromJSON(strings.NewReader(paths[m].json)); err != nil {
				t.Fatal(err)
			}
			s = s.Union(&one)
		}
		b, err := s.ToJSON()
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	r := rand.New(rand.NewPCG(24, 2))
	managers := []string{"gitops", "gatehouse-directory", "kubectl-edit", "zed"}
	for i := range 2000 {
		before, after := zed(), zed()
		before.ManagedFields, after.ManagedFields = nil, nil
		sets := make([][]int, len(managers))
		for m := range managers {
			for p := range paths {
				if r.IntN(3) == 0 {
					sets[m] = append(sets[m], p)
				}
			}
		}
		m, p := r.IntN(len(managers)), r.IntN(len(paths))
		changed := slices.Clone(sets[m])
		if j := slices.Index(changed, p); j >= 0 {
			changed = slices.Delete(changed, j, j+1)
		} else {
			changed = append(changed, p)
		}
		for k, name := range managers {
			before.ManagedFields = append(before.ManagedFields, entry(name, metav1.ManagedFieldsOperationApply, union(sets[k])))
			now := sets[k]
			if k == m {
				now = changed
			}
			after.ManagedFields = append(after.ManagedFields, entry(name, metav1.ManagedFieldsOperationApply, union(now)))
		}
		got := Judge(before, after, self)
		if (got == "") != paths[p].allowed {
			t.Fatalf("case %d: %s's entry %s %s: Judge = %q; want admitted %t", i, managers[m],
				map[bool]string{true: "loses", false: "gains"}[slices.Contains(sets[m], p)], paths[p].json, got, paths[p].allowed)
		}
	}
}
