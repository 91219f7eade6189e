package access

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// TestClaimsSeat: a change asks the License for a seat when an active
// Local User is created, re-activated or moved to another profile; a
// directory-managed or inactive User never asks, and other changes keep
// what the User had.
func TestClaimsSeat(t *testing.T) {
	inactive := func(u *iamv1alpha1.User) { u.Spec.Active = ptr.To(false) }
	ldap := func(u *iamv1alpha1.User) { u.Spec.Source = iamv1alpha1.UserSourceLDAP }
	for name, tc := range map[string]struct {
		before, after []func(*iamv1alpha1.User) // nil before: created
		created       bool
		want          bool
	}{
		"created active":                {created: true, want: true},
		"created inactive":              {created: true, after: []func(*iamv1alpha1.User){inactive}},
		"created from a directory":      {created: true, after: []func(*iamv1alpha1.User){ldap}},
		"re-activated":                  {before: []func(*iamv1alpha1.User){inactive}, want: true},
		"deactivated":                   {after: []func(*iamv1alpha1.User){inactive}},
		"moved to another profile":      {after: []func(*iamv1alpha1.User){func(u *iamv1alpha1.User) { u.Spec.Profile = "full" }}, want: true},
		"moved while inactive":          {before: []func(*iamv1alpha1.User){inactive}, after: []func(*iamv1alpha1.User){inactive, func(u *iamv1alpha1.User) { u.Spec.Profile = "full" }}},
		"directory user re-activated":   {before: []func(*iamv1alpha1.User){ldap, inactive}, after: []func(*iamv1alpha1.User){ldap}},
		"directory user moved":          {before: []func(*iamv1alpha1.User){ldap}, after: []func(*iamv1alpha1.User){ldap, func(u *iamv1alpha1.User) { u.Spec.Profile = "full" }}},
		"groups changed":                {after: []func(*iamv1alpha1.User){func(u *iamv1alpha1.User) { u.Spec.Groups = []string{"data"} }}},
		"left its directory, same seat": {before: []func(*iamv1alpha1.User){ldap}},
	} {
		t.Run(name, func(t *testing.T) {
			b, a := user("bob", "small"), user("bob", "small")
			for _, f := range tc.before {
				f(&b)
			}
			for _, f := range tc.after {
				f(&a)
			}
			before := &b
			if tc.created {
				before = nil
			}
			if got := ClaimsSeat(before, &a); got != tc.want {
				t.Errorf("ClaimsSeat = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestWhyNoSeat: a seat is refused when every seat of the profile is in
// use or promised to a user waiting Pending, and for a profile the
// License does not have; the sentence says how to make room.
func TestWhyNoSeat(t *testing.T) {
	profiles := []iamv1alpha1.ProfileStatus{
		{Name: "designer", Seats: 3, Used: 1},
		{Name: "small", Seats: 1, Used: 1},
		{Name: "waiting", Seats: 2, Used: 1, Pending: 1},
		{Name: "crowded", Seats: 3, Used: 3, Pending: 2},
		{Name: "closed", Seats: 0},
	}
	for name, tc := range map[string]struct {
		profiles []iamv1alpha1.ProfileStatus
		profile  string
		want     string
	}{
		"a free seat": {profiles, "designer", ""},
		"every seat used": {profiles, "small",
			"profile small has 1 of 1 seat in use; free a seat (deactivate a user of the profile) or raise spec.profiles[small].seats in License ns/default."},
		"the last seat promised to a user waiting": {profiles, "waiting",
			"profile waiting has all 2 seats in use and 1 more user waiting for one; free a seat (deactivate a user of the profile) or raise spec.profiles[waiting].seats in License ns/default."},
		"users waiting already": {profiles, "crowded",
			"profile crowded has all 3 seats in use and 2 more users waiting for one; free a seat (deactivate a user of the profile) or raise spec.profiles[crowded].seats in License ns/default."},
		"no seats at all": {profiles, "closed",
			"profile closed has 0 of 0 seats in use; free a seat (deactivate a user of the profile) or raise spec.profiles[closed].seats in License ns/default."},
		"a profile the License lacks": {profiles, "architect",
			`profile "architect" is not in License ns/default; set spec.profile to one of designer, small, waiting, crowded, closed, or add the profile to the License.`},
	} {
		t.Run(name, func(t *testing.T) {
			if got := WhyNoSeat(tc.profiles, tc.profile, "ns/default"); got != tc.want {
				t.Errorf("WhyNoSeat(%q) =\n %q\nwant\n %q", tc.profile, got, tc.want)
			}
		})
	}
}

// TestUnlicensedProfiles: the profiles a Directory maps users to that the
// License lacks, each once, mappings first, then the default profile.
func TestUnlicensedProfiles(t *testing.T) {
	license := &iamv1alpha1.License{Spec: iamv1alpha1.LicenseSpec{Profiles: []iamv1alpha1.Profile{{Name: "full", Seats: 3}, {Name: "small", Seats: 1}}}}
	mapping := func(profiles ...string) []iamv1alpha1.ProfileMapping {
		var out []iamv1alpha1.ProfileMapping
		for i, p := range profiles {
			out = append(out, iamv1alpha1.ProfileMapping{Group: fmt.Sprintf("cn=g%d", i), Profile: p})
		}
		return out
	}
	for name, tc := range map[string]struct {
		mappings []iamv1alpha1.ProfileMapping
		def      string
		want     []string
	}{
		"no profile named":          {},
		"every profile licensed":    {mapping("full", "small"), "small", nil},
		"a mapping to none":         {mapping("full", "architect"), "", []string{"architect"}},
		"the default to none":       {mapping("full"), "nobody", []string{"nobody"}},
		"each once, mappings first": {mapping("ghost", "full", "ghost", "nobody"), "ghost", []string{"ghost", "nobody"}},
		"the default after them":    {mapping("ghost"), "nobody", []string{"ghost", "nobody"}},
	} {
		t.Run(name, func(t *testing.T) {
			d := &iamv1alpha1.Directory{Spec: iamv1alpha1.DirectorySpec{ProfileMappings: tc.mappings, DefaultProfile: tc.def}}
			if diff := cmp.Diff(tc.want, UnlicensedProfiles(d, license)); diff != "" {
				t.Errorf("UnlicensedProfiles (-want +got):\n%s", diff)
			}
		})
	}
}
