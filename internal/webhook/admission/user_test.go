package admission_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	webhookconfig "github.com/gatehouse-dev/gatehouse/config/webhook"
)

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

// TestApplyHistory: issue 24, finding 2. A person may claim in its own
// User's apply history only what it may change (display name, e-mail):
// a forged entry of the administrators' manager, a server-side apply of a
// field it cannot change (under any manager name), a reset, and a poisoned
// last-applied record are refused, so that the next routine apply by an
// administrator cannot change what the person could not. An inactive or
// unseated person edits nothing of its own User.
func TestApplyHistory(t *testing.T) {
	ns := world(t)
	carl := as(t, "carl@acme.example")
	key := client.ObjectKey{Namespace: ns, Name: "carl"}
	patch := func(p person, typ types.PatchType, body string, opts ...client.PatchOption) error {
		return p.Patch(bg(), &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}, client.RawPatch(typ, []byte(body)), opts...)
	}
	const own = "cannot make this change of its own User"
	// A display name by server-side apply, under any manager name: admitted.
	allowed(t, patch(carl, types.ApplyPatchType, `{"apiVersion":"iam.gatehouse.dev/v1alpha1","kind":"User","metadata":{"name":"carl"},"spec":{"displayName":"Carl"}}`,
		client.FieldOwner("gitops")))
	// The same apply that also claims spec.login (unchanged): refused.
	denied(t, patch(carl, types.ApplyPatchType, `{"apiVersion":"iam.gatehouse.dev/v1alpha1","kind":"User","metadata":{"name":"carl"},"spec":{"displayName":"Carl C.","login":"carl"}}`,
		client.FieldOwner("gitops")), own, "as .spec.login")
	// A forged entry of the directory's manager owning spec.active.
	var cur iamv1alpha1.User
	if err := env.Client.Get(bg(), key, &cur); err != nil {
		t.Fatal(err)
	}
	forged := append(slices.Clone(cur.ManagedFields), metav1.ManagedFieldsEntry{Manager: "gatehouse-directory", Operation: metav1.ManagedFieldsOperationApply,
		APIVersion: "iam.gatehouse.dev/v1alpha1", FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:active":{},"f:profile":{}}}`)})
	body, err := json.Marshal([]map[string]any{{"op": "replace", "path": "/metadata/managedFields", "value": forged}})
	if err != nil {
		t.Fatal(err)
	}
	denied(t, patch(carl, types.JSONPatchType, string(body)), own, `manager "gatehouse-directory"`)
	// A reset.
	denied(t, patch(carl, types.MergePatchType, `{"metadata":{"managedFields":[{}]}}`), own)
	// A poisoned last-applied record.
	denied(t, patch(carl, types.MergePatchType, `{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"spec\":{\"active\":false,\"login\":\"carl\"}}"}}}`),
		own, "kubectl.kubernetes.io/last-applied-configuration would record fields this requester cannot change (spec.active, spec.login)")
	// An administrator may.
	allowed(t, patch(as(t, "hr@acme.example"), types.MergePatchType, `{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"spec\":{\"login\":\"carl\"}}"}}}`))

	// Finding 2's inactive person, and one waiting for a seat.
	denied(t, updateUser(t, as(t, "eve@acme.example"), ns, "eve", func(u *iamv1alpha1.User) { u.Spec.DisplayName = "Eve" }), "is inactive or holds no seat")
	denied(t, updateUser(t, as(t, "pat@acme.example"), ns, "pat", func(u *iamv1alpha1.User) { u.Spec.DisplayName = "Pat" }), "is inactive or holds no seat")
}

// TestOrphanDeleteAdministratorsOnly: deleting a User with its dependents
// left behind (its credential Secrets, which a User re-created under its
// name would take) is the configured administrators' alone; a tenant
// administrator deletes with the default propagation.
func TestOrphanDeleteAdministratorsOnly(t *testing.T) {
	ns := world(t)
	hr := as(t, "hr@acme.example") // a tenant administrator (admin through a Group)
	del := func(p person, name string, opts ...client.DeleteOption) error {
		return p.Delete(bg(), &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}, opts...)
	}
	denied(t, del(hr, "dan", client.PropagationPolicy(metav1.DeletePropagationOrphan)), "cannot delete User "+ns+"/dan leaving its dependents behind")
	allowed(t, del(hr, "dan"))
	allowed(t, del(admin(t), "carl", client.PropagationPolicy(metav1.DeletePropagationOrphan)))
}

// TestIdentityChangeConfiguredAdminsOnly: issue 24, finding 5. A tenant
// administrator cannot move a User onto an identity it controls (and so
// read that user's per-user credentials), nor a Group onto another
// API-server group; the configured administrators may.
func TestIdentityChangeConfiguredAdminsOnly(t *testing.T) {
	ns := world(t)
	hr := as(t, "hr@acme.example") // admin through a Group
	denied(t, updateUser(t, hr, ns, "carl", func(u *iamv1alpha1.User) { u.Spec.KubernetesUsername = "hr-alt@acme.example" }),
		"cannot change the Kubernetes identity of User "+ns+"/carl")
	allowed(t, updateUser(t, hr, ns, "carl", func(u *iamv1alpha1.User) { u.Spec.DisplayName = "Carl" }))
	allowed(t, updateUser(t, admin(t), ns, "carl", func(u *iamv1alpha1.User) { u.Spec.KubernetesUsername = "carl.c@acme.example" }))
	var g iamv1alpha1.Group
	if err := env.Client.Get(bg(), client.ObjectKey{Namespace: ns, Name: "data"}, &g); err != nil {
		t.Fatal(err)
	}
	g.Spec.KubernetesGroup = "hr-friends"
	denied(t, hr.Update(bg(), &g), "cannot change spec.kubernetesGroup of Group "+ns+"/data")
}
