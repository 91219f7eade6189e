package admission_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

func sleep() { time.Sleep(50 * time.Millisecond) }

// A new active Local user into a full profile is rejected with the counts;
// so are a re-activation and a move into it. Directory users are not.
func TestUserSeats(t *testing.T) {
	ns := world(t)
	hr := as(t, "hr@acme.example")
	allowed(t, hr.Create(bg(), user(ns, "first", "small")))
	waitIndexed(t, ns, "first")
	full := "profile small has 1 of 1 seat in use; free a seat (deactivate a user of the profile) or raise spec.profiles[small].seats in License " + ns + "/default."
	denied(t, hr.Create(bg(), user(ns, "second", "small")), full)

	// Inactive it may be created; activating it is then refused.
	second := user(ns, "second", "small")
	second.Spec.Active = ptr.To(false)
	allowed(t, hr.Create(bg(), second))
	waitIndexed(t, ns, "second")
	denied(t, updateUser(t, hr, ns, "second", func(u *iamv1alpha1.User) { u.Spec.Active = nil }), full)

	// A move into the full profile is refused too.
	denied(t, updateUser(t, hr, ns, "bob", func(u *iamv1alpha1.User) { u.Spec.Profile = "small" }), full)

	// A directory-managed user waits Pending instead.
	ldap := user(ns, "ldapuser", "small")
	ldap.Spec.Source = iamv1alpha1.UserSourceLDAP
	ldap.Spec.Directory = "corp"
	allowed(t, hr.Create(bg(), ldap))

	// Unknown profile, duplicate login.
	denied(t, hr.Create(bg(), user(ns, "typo", "architect")), `profile "architect" is not in License `+ns+"/default; set spec.profile to one of designer, small, waiting, staff")
	dup := user(ns, "bob2", "designer")
	dup.Spec.Login = "bob"
	denied(t, hr.Create(bg(), dup), `login "bob" is already User bob's in namespace `+ns)
	denied(t, env.Client.Create(bg(), dup), `login "bob" is already User bob's`) // administrators too
}

// One License per namespace; a shrink is allowed with a warning naming who
// loses a seat.
func TestLicense(t *testing.T) {
	ns := world(t)
	hr := admin(t) // the License is the configured administrators' alone
	second := &iamv1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: "second", Namespace: ns},
		Spec: iamv1alpha1.LicenseSpec{Profiles: []iamv1alpha1.Profile{{Name: "x", Seats: 1}}}}
	denied(t, hr.Create(bg(), second), "namespace "+ns+" already has License default, and a namespace has one License; edit License default instead")

	// designer: bob, alice, carl, dan are active.
	for {
		var l iamv1alpha1.License
		if err := env.Client.Get(bg(), client.ObjectKey{Namespace: ns, Name: "default"}, &l); err != nil {
			t.Fatal(err)
		}
		l.Spec.Profiles[0].Seats = 2
		err := hr.Update(bg(), &l)
		if !apierrors.IsConflict(err) {
			allowed(t, err)
			break
		}
	}
	want := "profile designer shrinks to 2 seats for 4 active users: dan and carl will lose their seats (the newest first) and wait Pending"
	if !slices.ContainsFunc(*hr.warnings, func(w string) bool { return strings.Contains(w, want) }) {
		t.Errorf("warnings %q, want one saying %q", *hr.warnings, want)
	}
}

// updateUser edits a User as a person, retrying on conflict with the
// operator's status writes.
func updateUser(t *testing.T, p person, ns, name string, edit func(*iamv1alpha1.User)) error {
	t.Helper()
	for {
		var u iamv1alpha1.User
		if err := env.Client.Get(bg(), client.ObjectKey{Namespace: ns, Name: name}, &u); err != nil {
			t.Fatal(err)
		}
		edit(&u)
		if err := p.Update(bg(), &u); !apierrors.IsConflict(err) {
			return err
		}
	}
}

// Cross-object checks warn and never reject: the other object may come
// later in a GitOps apply.
func TestWarnings(t *testing.T) {
	ns := world(t)
	hr := admin(t) // may read every Secret it names
	has := func(want string) {
		t.Helper()
		if !slices.ContainsFunc(*hr.warnings, func(w string) bool { return strings.Contains(w, want) }) {
			t.Errorf("warnings %q, want one saying %q", *hr.warnings, want)
		}
	}
	conn := &iamv1alpha1.Connection{ObjectMeta: metav1.ObjectMeta{Name: "warehouse", Namespace: ns}, Spec: iamv1alpha1.ConnectionSpec{
		Type:        "PostgreSQL",
		Credentials: iamv1alpha1.ConnectionCredentials{Mode: "Global", SecretRef: &iamv1alpha1.LocalSecretReference{Name: "not-yet"}},
		UsableBy:    &iamv1alpha1.Audience{Mode: "Groups", Groups: []string{"data", "ghosts"}},
	}}
	allowed(t, hr.Create(bg(), conn))
	has("spec.usableBy names groups that do not exist (yet): ghosts")
	has("spec.credentials.secretRef: Secret not-yet does not exist (yet) in namespace " + ns)

	dir := &iamv1alpha1.Directory{ObjectMeta: metav1.ObjectMeta{Name: "corp", Namespace: ns}, Spec: iamv1alpha1.DirectorySpec{
		URL: "ldaps://ldap.example", BindDN: "cn=gatehouse", BindPasswordSecretRef: &iamv1alpha1.SecretKeySelector{Name: "bind", Key: "password"},
		Users:          iamv1alpha1.DirectoryUsers{BaseDN: "ou=people"},
		DefaultProfile: "nobody",
	}}
	allowed(t, hr.Create(bg(), dir))
	has("spec.bindPasswordSecretRef: Secret bind does not exist (yet)")
	has("profiles nobody are not in License default")

	share := &iamv1alpha1.Share{ObjectMeta: metav1.ObjectMeta{Name: "to-data", Namespace: ns}, Spec: iamv1alpha1.ShareSpec{
		Resource: iamv1alpha1.ResourceRef{Type: "dataset", Name: "d"}, Grantees: []iamv1alpha1.Grantee{to("User", "bob", "Owner"), to("Group", "data", "Consumer")}}}
	if err := env.Client.Create(bg(), share); err != nil {
		t.Fatal(err)
	}
	waitShareIndexed(t, ns, "to-data")
	allowed(t, hr.Delete(bg(), &iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: ns}}))
	has("group data is still named by Share to-data")
}

func waitShareIndexed(t *testing.T, ns, name string) {
	t.Helper()
	for range 600 {
		var s iamv1alpha1.Share
		if env.Client.Get(bg(), client.ObjectKey{Namespace: ns, Name: name}, &s) == nil && s.Status.ObservedGeneration > 0 {
			return
		}
		sleep()
	}
	t.Fatalf("share %s was not reconciled", name)
}
