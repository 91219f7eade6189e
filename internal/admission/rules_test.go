package admission_test

import (
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// Every sharing rule with an allowed and a denied case from the seeds'
// examples, made by the person they concern, and the sentence they see.
func TestShareRules(t *testing.T) {
	ns := world(t)
	alice, bob, carl, dan := as(t, "alice@acme.example"), as(t, "bob@acme.example"), as(t, "carl@acme.example"), as(t, "dan@acme.example")

	// Rule 2: share only up to one's own role.
	denied(t, change(t, carl, ns, "sales", addGrantee(to("Group", "data", "Editor"))),
		"carl is Consumer on dataset/sales and cannot grant Editor")
	allowed(t, change(t, carl, ns, "sales", addGrantee(to("Group", "data", "Consumer"))))
	denied(t, change(t, alice, ns, "sales", addGrantee(to("User", "hr", "Owner"))),
		"alice is Editor on dataset/sales and cannot grant Owner to User hr (rule 2: share only up to your own role); grant Editor at most, or ask an Owner (bob) for a higher role.")
	// Rule 1: a user waiting for a seat is not shared with.
	denied(t, change(t, alice, ns, "sales", addGrantee(to("User", "pat", "Consumer"))), "User pat holds no seat")
	// Without allowSharing, an Editor shares nothing.
	denied(t, change(t, dan, ns, "sales", addGrantee(to("User", "hr", "Consumer"))),
		"dan is Editor on dataset/sales and cannot change who it is shared with: that needs Owner or allowSharing (rule 2")

	// Rule 1: only existing, active grantees.
	denied(t, change(t, bob, ns, "sales", addGrantee(to("User", "eve", "Consumer"))),
		"User eve is inactive, so dataset/sales cannot be shared with it (rule 1")
	denied(t, change(t, bob, ns, "sales", addGrantee(to("Group", "ghosts", "Consumer"))), "Group ghosts does not exist")

	// Rule 3: an Editor cannot downgrade or remove an Owner; may lower a
	// collaborator below.
	denied(t, change(t, alice, ns, "sales", setGrantee(0, to("User", "bob", "Editor"))), "cannot downgrade it")
	denied(t, change(t, alice, ns, "sales", without("bob")), "User bob is Owner on dataset/sales, above alice's Editor, so alice cannot remove it (rule 3")
	allowed(t, change(t, alice, ns, "sales", setGrantee(2, iamv1alpha1.Grantee{Kind: "User", Name: "carl", Role: "Consumer"})))
	// Anyone may leave.
	allowed(t, change(t, dan, ns, "sales", without("dan")))

	// Rule 4: the last Owner cannot leave, or delete the share; after
	// making another Owner it can.
	denied(t, change(t, bob, ns, "sales", without("bob")),
		"dataset/sales would be left without an Owner (rule 4: every shared resource keeps at least one Owner); make another active user Owner first")
	denied(t, bob.Delete(bg(), share(ns, "sales", "")), "without an Owner")
	allowed(t, change(t, bob, ns, "sales", setGrantee(1, sharing(to("User", "alice", "Owner")))))
	allowed(t, change(t, bob, ns, "sales", without("bob")))

	// Rule 5: a dataset keeps someone seated who can share it.
	denied(t, change(t, alice, ns, "orphanish", setGrantee(1, to("User", "alice", "Editor"))),
		"dataset/orphanish would be left with nobody who can share it (rule 5")

	// A new resource: the creator must name itself Owner.
	denied(t, carl.Create(bg(), share(ns, "fresh", "dataset/fresh", to("User", "dan", "Owner"))), "add yourself (User carl) as Owner")
	allowed(t, carl.Create(bg(), share(ns, "fresh", "dataset/fresh", to("User", "carl", "Owner"), to("User", "dan", "Editor"))))

	// Someone who is not a User of the namespace is told to ask.
	denied(t, as(t, "mallory@evil.example").Create(bg(), share(ns, "m", "dataset/m", to("User", "bob", "Owner"))),
		"mallory@evil.example is not a Gatehouse User in namespace "+ns, `no User has kubernetesUsername or login "mallory@evil.example"`)
}

// 100 grantees pass, 101 fail (the API's own bound).
func TestShareGranteeBound(t *testing.T) {
	ns := world(t)
	grantees := []iamv1alpha1.Grantee{to("User", "bob", "Owner")}
	for i := range 99 {
		name := fmt.Sprintf("u%03d", i)
		if err := env.Client.Create(bg(), user(ns, name, "designer")); err != nil {
			t.Fatal(err)
		}
		grantees = append(grantees, to("User", name, "Consumer"))
	}
	waitIndexed(t, ns, "u098")
	allowed(t, as(t, "bob@acme.example").Create(bg(), share(ns, "hundred", "dataset/hundred", grantees...)))
	err := as(t, "bob@acme.example").Create(bg(), share(ns, "too-many", "dataset/more", append(grantees, to("User", "alice", "Consumer"))...))
	if err == nil || !strings.Contains(err.Error(), "must have at most 100 items") {
		t.Fatalf("101 grantees: %v", err)
	}
}

// waitIndexed waits until the operator has reconciled a user (and so its
// index holds it).
func waitIndexed(t *testing.T, ns, name string) {
	t.Helper()
	for range 600 {
		var u iamv1alpha1.User
		if env.Client.Get(bg(), client.ObjectKey{Namespace: ns, Name: name}, &u) == nil && u.Status.ObservedGeneration > 0 {
			return
		}
		sleep()
	}
	t.Fatalf("user %s was not reconciled", name)
}

// DSS: one cannot grant a permission one does not hold; changing grants
// needs editPermissions (or Owner, or admin) on the resource.
func TestGrantRules(t *testing.T) {
	ns := world(t)
	pm := as(t, "carl@acme.example")
	rg := func(name string, perms ...iamv1alpha1.Permission) *iamv1alpha1.ResourceGrant {
		return &iamv1alpha1.ResourceGrant{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: iamv1alpha1.ResourceGrantSpec{Resource: iamv1alpha1.ResourceRef{Type: "project", Name: "churn"},
				Subjects: []iamv1alpha1.Subject{{Kind: "Group", Name: "data"}}, Permissions: perms}}
	}
	// The administrator makes carl a project manager.
	mgrGrant := rg("pm", "editPermissions", "writeProjectContent")
	mgrGrant.Spec.Subjects = []iamv1alpha1.Subject{{Kind: "User", Name: "carl"}}
	if err := env.Client.Create(bg(), mgrGrant); err != nil {
		t.Fatal(err)
	}
	waitGrant(t, ns, "pm")
	allowed(t, pm.Create(bg(), rg("readers", "readProjectContent", "writeProjectContent")))
	denied(t, pm.Create(bg(), rg("deleters", "deleteProject")),
		"carl cannot grant deleteProject on project/churn to Group data: you may grant only permissions you hold yourself")
	denied(t, as(t, "dan@acme.example").Create(bg(), rg("dans", "readDashboards")),
		"dan cannot change the permissions on project/churn: that needs Owner or editPermissions on it, or admin")
}

func waitGrant(t *testing.T, ns, name string) {
	t.Helper()
	for range 600 {
		var g iamv1alpha1.ResourceGrant
		if env.Client.Get(bg(), client.ObjectKey{Namespace: ns, Name: name}, &g) == nil && g.Status.ObservedGeneration > 0 {
			return
		}
		sleep()
	}
	t.Fatalf("grant %s was not reconciled", name)
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
