package access

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

func TestLicenseInForce(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	t1 := metav1.NewTime(t0.Add(time.Minute))
	lic := func(name string, created metav1.Time, deleting bool) iamv1alpha1.License {
		l := iamv1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: created}}
		if deleting {
			l.DeletionTimestamp = &t1
		}
		return l
	}
	for name, tc := range map[string]struct {
		in   []iamv1alpha1.License
		want string
	}{
		"none":                      {nil, ""},
		"one":                       {[]iamv1alpha1.License{lic("a", t0, false)}, "a"},
		"the oldest counts":         {[]iamv1alpha1.License{lic("a", t1, false), lic("b", t0, false)}, "b"},
		"same age: first by name":   {[]iamv1alpha1.License{lic("b", t0, false), lic("a", t0, false)}, "a"},
		"one being deleted is left": {[]iamv1alpha1.License{lic("a", t0, true), lic("b", t1, false)}, "b"},
		"only one being deleted":    {[]iamv1alpha1.License{lic("a", t0, true)}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			got := ""
			if l := LicenseInForce(tc.in); l != nil {
				got = l.Name
			}
			if got != tc.want {
				t.Errorf("LicenseInForce = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestUserChanges(t *testing.T) {
	base := func() *iamv1alpha1.User {
		return &iamv1alpha1.User{Spec: iamv1alpha1.UserSpec{
			Login: "erin", Profile: "reader", Groups: []string{"analysts"},
			DirectoryGroups: []string{"cn=staff,dc=example"}, Organization: "acme",
		}}
	}
	type verdicts struct{ seats, membership, reach, admission bool }
	for name, tc := range map[string]struct {
		edit func(*iamv1alpha1.User)
		want verdicts
	}{
		"nothing":           {func(*iamv1alpha1.User) {}, verdicts{}},
		"display name":      {func(u *iamv1alpha1.User) { u.Spec.DisplayName = "Erin" }, verdicts{}},
		"deactivated":       {func(u *iamv1alpha1.User) { u.Spec.Active = ptr.To(false) }, verdicts{seats: true, reach: true, admission: true}},
		"profile":           {func(u *iamv1alpha1.User) { u.Spec.Profile = "designer" }, verdicts{seats: true}},
		"groups":            {func(u *iamv1alpha1.User) { u.Spec.Groups = nil }, verdicts{membership: true, reach: true, admission: true}},
		"directory groups":  {func(u *iamv1alpha1.User) { u.Spec.DirectoryGroups = nil }, verdicts{membership: true, reach: true}},
		"organization":      {func(u *iamv1alpha1.User) { u.Spec.Organization = "other" }, verdicts{reach: true}},
		"computed groups":   {func(u *iamv1alpha1.User) { u.Status.Groups = []string{"x"} }, verdicts{admission: true}},
		"seat":              {func(u *iamv1alpha1.User) { u.Status.Seat = iamv1alpha1.SeatGranted }, verdicts{admission: true}},
		"global (admin)":    {func(u *iamv1alpha1.User) { u.Status.GlobalPermissions = []iamv1alpha1.GlobalPermission{"admin"} }, verdicts{admission: true}},
		"being deleted":     {func(u *iamv1alpha1.User) { u.DeletionTimestamp = &metav1.Time{} }, verdicts{admission: true}},
		"resources (noise)": {func(u *iamv1alpha1.User) { u.Status.Resources = []iamv1alpha1.ResourceAccess{{}} }, verdicts{}},
	} {
		t.Run(name, func(t *testing.T) {
			o, n := base(), base()
			tc.edit(n)
			got := verdicts{SeatCountChanged(o, n), MembershipChanged(o, n), ReachChanged(o, n), AdmissionChanged(o, n)}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	t.Run("created or deleted", func(t *testing.T) {
		for _, pair := range [][2]*iamv1alpha1.User{{nil, base()}, {base(), nil}} {
			if !SeatCountChanged(pair[0], pair[1]) || !MembershipChanged(pair[0], pair[1]) || !AdmissionChanged(pair[0], pair[1]) {
				t.Error("a created or deleted User must count as a change of seats, membership and admission")
			}
		}
	})
}

func TestGroupMembersChanged(t *testing.T) {
	g := func(members int32, ldap ...string) *iamv1alpha1.Group {
		return &iamv1alpha1.Group{Spec: iamv1alpha1.GroupSpec{LDAPGroups: ldap}, Status: iamv1alpha1.GroupStatus{Members: members}}
	}
	for name, tc := range map[string]struct {
		o, n *iamv1alpha1.Group
		want bool
	}{
		"same":             {g(2, "cn=a"), g(2, "cn=a"), false},
		"members":          {g(2), g(3), true},
		"directory groups": {g(2, "cn=a"), g(2, "cn=b"), true},
		"created":          {nil, g(0), true},
	} {
		if got := GroupMembersChanged(tc.o, tc.n); got != tc.want {
			t.Errorf("%s: got %v, want %v", name, got, tc.want)
		}
	}
}
