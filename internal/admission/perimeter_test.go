package admission_test

// The attacks of the perimeter issue, each made through the API server as
// an impersonated person holding every verb on every Gatehouse kind (the
// platform-users ClusterRole), or as an administrator where even they must
// be refused.

import (
	"slices"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	webhookconfig "github.com/gatehouse-dev/gatehouse/config/webhook"
)

// admin is an administrator identity (in an --admin-groups group) that is
// not the operator.
func admin(t *testing.T) person {
	t.Helper()
	return impersonate(t, "root@acme.example", "system:masters")
}

// TestStatusOnlyByOperator: nobody but the operator writes a status, not
// even an administrator; a user cannot give itself admin through its own
// User's status, nor change a Group's member count or the License's use.
func TestStatusOnlyByOperator(t *testing.T) {
	ns := world(t)
	for _, p := range []struct {
		who    string
		person person
	}{{"bob", as(t, "bob@acme.example")}, {"an administrator", admin(t)}} {
		for _, o := range []struct {
			obj   client.Object
			patch string
		}{
			{&iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bob"}}, `{"status":{"globalPermissions":["admin"]}}`},
			{&iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "data"}}, `{"status":{"members":40}}`},
			{&iamv1alpha1.License{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default"}}, `{"status":{"profiles":[]}}`},
			{&iamv1alpha1.Share{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sales"}}, `{"status":{"users":0}}`},
		} {
			err := p.person.Status().Patch(bg(), o.obj, client.RawPatch(types.MergePatchType, []byte(o.patch)))
			denied(t, err, "only the Gatehouse operator writes the status")
		}
	}
	var bob iamv1alpha1.User
	if err := env.Client.Get(bg(), client.ObjectKey{Namespace: ns, Name: "bob"}, &bob); err != nil {
		t.Fatal(err)
	}
	if len(bob.Status.GlobalPermissions) != 0 {
		t.Errorf("bob's status holds %v", bob.Status.GlobalPermissions)
	}
}

// TestIdentityUnique: no User may stand for an identity another User
// holds, through kubernetesUsername or through a login with none; not even
// an administrator may create one. A system: identity is refused too.
func TestIdentityUnique(t *testing.T) {
	ns := world(t)
	thief := user(ns, "mallory", "designer")
	thief.Spec.KubernetesUsername = "bob@acme.example" // bob's
	denied(t, admin(t).Create(bg(), thief), `the Kubernetes identity "bob@acme.example" is already User bob's`)

	// A login equal to another's kubernetesUsername, with none of its own.
	byLogin := user(ns, "x", "designer")
	byLogin.Name, byLogin.Spec.Login, byLogin.Spec.KubernetesUsername = "alice-login", "alice@acme.example", ""
	denied(t, admin(t).Create(bg(), byLogin), `already User alice's`)

	// Taking one over by changing one's own kubernetesUsername.
	mine := user(ns, "frank", "designer")
	allowed(t, admin(t).Create(bg(), mine))
	err := updateUser(t, admin(t), ns, "frank", func(u *iamv1alpha1.User) { u.Spec.KubernetesUsername = "carl@acme.example" })
	denied(t, err, `already User carl's`)

	// system: identities belong to Kubernetes (the CRD refuses them, so
	// this holds with the webhook down too).
	sys := user(ns, "sys", "designer")
	sys.Spec.KubernetesUsername = "system:kube-controller-manager"
	if err := admin(t).Create(bg(), sys); err == nil || !strings.Contains(err.Error(), "kubernetesUsername cannot be a system: name") {
		t.Errorf("a system: kubernetesUsername: %v", err)
	}
	sys.Spec.KubernetesUsername, sys.Spec.Login = "", "system:admin"
	if err := admin(t).Create(bg(), sys); err == nil || !strings.Contains(err.Error(), "a login that begins with system:") {
		t.Errorf("a system: login without kubernetesUsername: %v", err)
	}
	// Look-alike logins: a right-to-left override, a control character.
	for _, login := range []string{"bob\u202e", "bo\x01b", "bob\u00a0"} {
		u := user(ns, "lookalike", "designer")
		u.Spec.Login, u.Spec.KubernetesUsername = login, ""
		if err := admin(t).Create(bg(), u); err == nil || !strings.Contains(err.Error(), "login must be one word of printable characters") {
			t.Errorf("login %q: %v", login, err)
		}
	}
}

// TestKubernetesGroupNotPrivileged: a Group cannot be mapped onto
// system:authenticated (everyone) or an administrator group.
func TestKubernetesGroupNotPrivileged(t *testing.T) {
	ns := world(t)
	for kg, want := range map[string]string{
		"system:authenticated": "kubernetesGroup cannot be a system: group",
		adminGroup:             `spec.kubernetesGroup "` + adminGroup + `" is an administrator or break-glass group of Gatehouse`,
	} {
		g := &iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "everyone"}, Spec: iamv1alpha1.GroupSpec{KubernetesGroup: kg}}
		err := admin(t).Create(bg(), g)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("kubernetesGroup %q: %v; want %q", kg, err, want)
		}
		// Nor by changing an existing Group.
		var data iamv1alpha1.Group
		if err := env.Client.Get(bg(), client.ObjectKey{Namespace: ns, Name: "data"}, &data); err != nil {
			t.Fatal(err)
		}
		data.Spec.KubernetesGroup = kg
		if err := as(t, "bob@acme.example").Update(bg(), &data); err == nil || !strings.Contains(err.Error(), want) && !apierrors.IsForbidden(err) {
			t.Errorf("kubernetesGroup %q on update: %v", kg, err)
		}
	}
}

// TestOwnUserOnly: carol may change her display name and e-mail, and
// nothing else of her User (not her groups: joining administrators would
// make her Owner of everything; not source: LDAP to Local would escape the
// directory), and nobody else's User; creating and deleting Users is
// administrators' work, and an administrator User (hr) may do it.
func TestOwnUserOnly(t *testing.T) {
	ns := world(t)
	carl := as(t, "carl@acme.example")
	allowed(t, updateUser(t, carl, ns, "carl", func(u *iamv1alpha1.User) {
		u.Spec.DisplayName, u.Spec.Email = "Carl C.", "carl@new.example"
	}))
	const own = "may change only spec.displayName and spec.email of its own User"
	for what, edit := range map[string]func(*iamv1alpha1.User){
		"join administrators": func(u *iamv1alpha1.User) { u.Spec.Groups = append(u.Spec.Groups, "admins") },
		"change profile":      func(u *iamv1alpha1.User) { u.Spec.Profile = "staff" },
		"leave the directory": func(u *iamv1alpha1.User) { u.Spec.Source, u.Spec.Directory = iamv1alpha1.UserSourceLDAP, "corp" },
		"change identity":     func(u *iamv1alpha1.User) { u.Spec.KubernetesUsername = "carl2@acme.example" },
		"organization":        func(u *iamv1alpha1.User) { u.Spec.Organization = "other" },
		"authMethod":          func(u *iamv1alpha1.User) { u.Spec.AuthMethod = iamv1alpha1.AuthMethodSSO },
		"a label":             func(u *iamv1alpha1.User) { u.Labels = map[string]string{"tier": "gold"} },
	} {
		t.Run(what, func(t *testing.T) { denied(t, updateUser(t, carl, ns, "carl", edit), own) })
	}
	denied(t, updateUser(t, carl, ns, "dan", func(u *iamv1alpha1.User) { u.Spec.DisplayName = "Dan the Man" }),
		"carl@acme.example cannot change User "+ns+"/dan: only administrators")
	denied(t, carl.Create(bg(), user(ns, "carl-twin", "designer")), "carl@acme.example cannot create User "+ns+"/carl-twin")
	denied(t, carl.Delete(bg(), &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "dan"}}), "cannot delete User")

	// An administrator User may.
	hr := as(t, "hr@acme.example")
	allowed(t, updateUser(t, hr, ns, "carl", func(u *iamv1alpha1.User) { u.Spec.Organization = "other" }))
	allowed(t, hr.Create(bg(), user(ns, "newbie", "designer")))
	allowed(t, hr.Delete(bg(), &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "newbie"}}))
}

// TestAdministratorsOnly: Groups and Directories are administrators'; the
// License is the configured identities' alone, not even a User holding
// admin may raise its seats.
func TestAdministratorsOnly(t *testing.T) {
	ns := world(t)
	carl, hr := as(t, "carl@acme.example"), as(t, "hr@acme.example")
	admins := &iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "mine"},
		Spec: iamv1alpha1.GroupSpec{GlobalPermissions: []iamv1alpha1.GlobalPermission{"admin"}}}
	denied(t, carl.Create(bg(), admins), "carl@acme.example cannot create Group "+ns+"/mine")
	var data iamv1alpha1.Group
	if err := env.Client.Get(bg(), client.ObjectKey{Namespace: ns, Name: "data"}, &data); err != nil {
		t.Fatal(err)
	}
	data.Spec.GlobalPermissions = []iamv1alpha1.GlobalPermission{"admin"}
	denied(t, carl.Update(bg(), data.DeepCopy()), "cannot change Group "+ns+"/data")
	denied(t, carl.Delete(bg(), &data), "cannot delete Group")
	dir := &iamv1alpha1.Directory{ObjectMeta: metav1.ObjectMeta{Name: "corp", Namespace: ns}, Spec: iamv1alpha1.DirectorySpec{
		URL: "ldaps://ldap.example", Users: iamv1alpha1.DirectoryUsers{BaseDN: "ou=people"}}}
	denied(t, carl.Create(bg(), dir), "cannot create Directory")
	allowed(t, hr.Create(bg(), admins))

	raise := func(p person) error {
		for {
			var l iamv1alpha1.License
			if err := env.Client.Get(bg(), client.ObjectKey{Namespace: ns, Name: "default"}, &l); err != nil {
				t.Fatal(err)
			}
			l.Spec.Profiles[1].Seats = 1000
			if err := p.Update(bg(), &l); !apierrors.IsConflict(err) {
				return err
			}
		}
	}
	for _, p := range []person{carl, hr} {
		denied(t, raise(p), "only the configured administrator identities (--admin-groups, --admin-users) change it, not a User holding admin")
	}
	allowed(t, raise(admin(t)))
}

// TestSystemCollectors: the namespace controller and the garbage collector
// delete and remove finalizers whatever the rules say, and nothing more.
func TestSystemCollectors(t *testing.T) {
	ns := world(t)
	gc := func(name string) person {
		return impersonate(t, name, "system:serviceaccounts", "system:serviceaccounts:kube-system", platformUsers)
	}
	collector := gc("system:serviceaccount:kube-system:generic-garbage-collector")
	nsctl := gc("system:serviceaccount:kube-system:namespace-controller")
	// It may not change the sharing.
	denied(t, change(t, collector, ns, "sales", addGrantee(to("User", "eve", "Owner"))), "")
	// A finalizer someone left (as an administrator may) is removed, and
	// the Share deleted, though bob would refuse (rule 4).
	if err := change(t, person{Client: env.Client}, ns, "orphanish", func(s *iamv1alpha1.Share) { s.Finalizers = []string{"example.com/hold"} }); err != nil {
		t.Fatal(err)
	}
	allowed(t, nsctl.Delete(bg(), share(ns, "orphanish", "dataset/orphanish")))
	allowed(t, change(t, collector, ns, "orphanish", func(s *iamv1alpha1.Share) { s.Finalizers = nil }))
	for _, obj := range []client.Object{
		&iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pat"}},
		&iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "data"}},
		&iamv1alpha1.License{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default"}},
	} {
		allowed(t, nsctl.Delete(bg(), obj))
	}
}

// TestBreakGlass: a member of the break-glass group passes the Share and
// ResourceGrant webhooks (the matchConditions skip them), so access can be
// revoked while the operator is down; it passes no other rule.
func TestBreakGlass(t *testing.T) {
	ns := world(t)
	oncall := impersonate(t, "oncall@acme.example", webhookconfig.DefaultBreakGlassGroup, platformUsers)
	// Revoking dan's access: bob would be asked, the webhook is not.
	allowed(t, change(t, oncall, ns, "sales", without("dan")))
	denied(t, oncall.Status().Patch(bg(), &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "dan"}},
		client.RawPatch(types.MergePatchType, []byte(`{"status":{"seat":"Granted"}}`))), "only the Gatehouse operator writes the status")
	denied(t, oncall.Create(bg(), user(ns, "glass", "designer")), "cannot create User")
	g := &iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "glass"}, Spec: iamv1alpha1.GroupSpec{KubernetesGroup: webhookconfig.DefaultBreakGlassGroup}}
	if err := admin(t).Create(bg(), g); err == nil || !strings.Contains(err.Error(), "break-glass") {
		t.Errorf("a Group mapped onto the break-glass group: %v", err)
	}
}

// TestShareCompleteness: the attacks on Shares the trial found, each
// refused: pinning a Share with a finalizer, rewriting its note or labels,
// creating a first Share with no seat or a look-alike name, and raising an
// inactive grantee already listed.
func TestShareCompleteness(t *testing.T) {
	ns := world(t)
	bob, carl, dan, pat := as(t, "bob@acme.example"), as(t, "carl@acme.example"), as(t, "dan@acme.example"), as(t, "pat@acme.example")
	pin := func(s *iamv1alpha1.Share) { s.Finalizers = append(s.Finalizers, "example.com/pin") }
	denied(t, change(t, carl, ns, "sales", pin), "cannot change the finalizers of Share sales")
	denied(t, change(t, bob, ns, "sales", pin), "only administrators set or remove them")
	denied(t, change(t, dan, ns, "sales", func(s *iamv1alpha1.Share) { s.Spec.Note = "dan was here" }),
		"dan cannot change the note of Share sales: a note needs the right to change its grantees, and that needs Owner or allowSharing") // dan: Editor without allowSharing
	allowed(t, change(t, as(t, "alice@acme.example"), ns, "sales", func(s *iamv1alpha1.Share) { s.Spec.Note = "Quarterly." }))
	denied(t, change(t, carl, ns, "sales", func(s *iamv1alpha1.Share) { s.Labels = map[string]string{"argocd.argoproj.io/instance": "prune-me"} }),
		"cannot change the labels or annotations of Share sales: that needs the right to delete it")

	// A first Share by a user who waits for a seat.
	denied(t, pat.Create(bg(), share(ns, "pats", "dataset/pats", to("User", "pat", "Owner"))), "holds no seat")
	// Look-alike names.
	denied(t, bob.Create(bg(), share(ns, "sales2", "dataset/Sales", to("User", "bob", "Owner"))), "its name is ambiguous: it reads as dataset/sales")
	if err := bob.Create(bg(), share(ns, "sales3", "dataset/sales ", to("User", "bob", "Owner"))); err == nil || !strings.Contains(err.Error(), "a resource name must be printable") {
		t.Errorf("a resource name with a trailing space: %v", err)
	}
	// A first Share of a connection that does not exist.
	denied(t, bob.Create(bg(), share(ns, "lake", "connection/lake", to("User", "bob", "Owner"))), "There is no Connection lake")

	// Raising an inactive grantee already listed (rule 1 for every grantee
	// a change adds or raises).
	if err := env.Client.Create(bg(), share(ns, "legacy", "dataset/legacy", to("User", "bob", "Owner"), to("User", "eve", "Consumer"))); err != nil {
		t.Fatal(err)
	}
	waitShareIndexed(t, ns, "legacy")
	denied(t, change(t, bob, ns, "legacy", setGrantee(1, to("User", "eve", "Editor"))), "User eve is inactive")
}

// TestGrantMetadata: a ResourceGrant's finalizers are administrators', its
// labels need the right to delete it.
func TestGrantMetadata(t *testing.T) {
	ns := world(t)
	g := &iamv1alpha1.ResourceGrant{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "churn"}, Spec: iamv1alpha1.ResourceGrantSpec{
		Resource: iamv1alpha1.ResourceRef{Type: "project", Name: "churn"},
		Subjects: []iamv1alpha1.Subject{{Kind: "User", Name: "dan"}}, Permissions: []iamv1alpha1.Permission{"readProjectContent"}}}
	if err := env.Client.Create(bg(), g); err != nil {
		t.Fatal(err)
	}
	waitGrant(t, ns, "churn")
	edit := func(p person, fn func(*iamv1alpha1.ResourceGrant)) error {
		for {
			var cur iamv1alpha1.ResourceGrant
			if err := env.Client.Get(bg(), client.ObjectKeyFromObject(g), &cur); err != nil {
				t.Fatal(err)
			}
			fn(&cur)
			if err := p.Update(bg(), &cur); !apierrors.IsConflict(err) {
				return err
			}
		}
	}
	dan := as(t, "dan@acme.example")
	denied(t, edit(dan, func(g *iamv1alpha1.ResourceGrant) { g.Finalizers = []string{"example.com/pin"} }), "cannot change the finalizers of ResourceGrant churn")
	denied(t, edit(dan, func(g *iamv1alpha1.ResourceGrant) { g.Labels = map[string]string{"x": "y"} }), "cannot change the labels or annotations of ResourceGrant churn")
	allowed(t, edit(admin(t), func(g *iamv1alpha1.ResourceGrant) { g.Labels = map[string]string{"x": "y"} }))
}

// TestRuleBreakersMayBeFixed: Users that collide (made while the User
// webhook was away, here by taking it out of the configuration for a
// moment) are judged as nobody, and may be edited, deactivated and deleted.
func TestRuleBreakersMayBeFixed(t *testing.T) {
	ns := world(t)
	var vwc admissionregistrationv1.ValidatingWebhookConfiguration
	if err := env.Client.Get(bg(), client.ObjectKey{Name: webhookconfig.Name}, &vwc); err != nil {
		t.Fatal(err)
	}
	saved := vwc.DeepCopy()
	vwc.Webhooks = slices.DeleteFunc(vwc.Webhooks, func(w admissionregistrationv1.ValidatingWebhook) bool { return w.Name == "users.iam.gatehouse.dev" })
	if err := env.Client.Update(bg(), &vwc); err != nil {
		t.Fatal(err)
	}
	thief := user(ns, "mallory", "designer")
	thief.Spec.KubernetesUsername = "bob@acme.example"
	// The API server takes a moment to see the configuration change.
	var err error
	for range 100 {
		if err = env.Client.Create(bg(), thief.DeepCopy()); err == nil {
			break
		}
		sleep()
	}
	restore := func() {
		var cur admissionregistrationv1.ValidatingWebhookConfiguration
		if err := env.Client.Get(bg(), client.ObjectKey{Name: webhookconfig.Name}, &cur); err != nil {
			t.Fatal(err)
		}
		cur.Webhooks = saved.Webhooks
		if err := env.Client.Update(bg(), &cur); err != nil {
			t.Fatal(err)
		}
	}
	restore()
	if err != nil {
		t.Fatal(err)
	}
	waitIndexed(t, ns, "mallory")
	// Neither is bob any more: bob cannot share what he owns.
	denied(t, change(t, as(t, "bob@acme.example"), ns, "sales", addGrantee(to("User", "hr", "Consumer"))), "is not a Gatehouse User", "claim the identity \"bob@acme.example\" together")
	hr := as(t, "hr@acme.example")
	allowed(t, updateUser(t, hr, ns, "mallory", func(u *iamv1alpha1.User) { u.Spec.DisplayName = "Mallory" }))
	// Once the User webhook is back (a dry run tells), taking another
	// identity is refused.
	for range 100 {
		if err := as(t, "carl@acme.example").Create(bg(), user(ns, "probe", "designer"), client.DryRunAll); err != nil {
			break
		}
		sleep()
	}
	denied(t, updateUser(t, hr, ns, "mallory", func(u *iamv1alpha1.User) { u.Spec.KubernetesUsername = "alice@acme.example" }), "already User alice's")
	allowed(t, updateUser(t, hr, ns, "mallory", func(u *iamv1alpha1.User) { u.Spec.Active = ptr.To(false) }))
	allowed(t, hr.Delete(bg(), &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "mallory"}}))
}
