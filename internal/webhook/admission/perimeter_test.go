package admission_test

// The attacks of the perimeter issue, each made through the API server as
// an impersonated person holding every verb on every Gatehouse kind (the
// platform-users ClusterRole), or as an administrator where even they must
// be refused.

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	webhookconfig "github.com/gatehouse-dev/gatehouse/config/webhook"
)

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

// An administrator identity passes everything the others are denied, and
// the audit log records it as exempt.
func TestAdministratorExempt(t *testing.T) {
	ns := world(t)
	// A GitOps robot in system:masters (the operator's own identity is
	// the test's, and is not audited).
	gitops := impersonate(t, "gitops-bot", "system:masters")
	// No Owner left: rule 4 for anyone else.
	allowed(t, change(t, gitops, ns, "sales", func(s *iamv1alpha1.Share) { s.Spec.Grantees = []iamv1alpha1.Grantee{to("User", "carl", "Editor")} }))
	allowed(t, gitops.Create(bg(), user(ns, "extra", "small")))
	allowed(t, gitops.Create(bg(), user(ns, "extra2", "small"))) // over the seats: waits Pending
	if log := auditLog.String(); !strings.Contains(log, `"audit":"AdmissionExempt","namespace":"`+ns+`","kind":"Share","name":"sales","operation":"UPDATE"`) {
		var exempt []string
		for _, l := range strings.Split(log, "\n") {
			if strings.Contains(l, "AdmissionExempt") {
				exempt = append(exempt, l)
			}
		}
		t.Errorf("the audit log does not record the administrator's share change; its exemptions:\n%s", strings.Join(exempt, "\n"))
	}
}
