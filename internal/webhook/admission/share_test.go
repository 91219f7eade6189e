package admission_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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

	// Issue 24, finding 1: an owner reference of the attacker's choosing,
	// by every requester class but the administrators: the garbage
	// collector would delete the Share, and its first Share be anyone's.
	for _, p := range []person{bob, carl, dan, as(t, "nobody@acme.example")} {
		err := change(t, p, ns, "sales", ghostOwner)
		if err == nil || !strings.Contains(err.Error(), "cannot set or change the owner references of Share sales") && !strings.Contains(err.Error(), "is not a Gatehouse User") {
			t.Errorf("a ghost owner: %v; want a denial", err)
		}
	}
	ghost := share(ns, "ghosted", "dataset/ghosted", to("User", "bob", "Owner"))
	ghostOwner(ghost)
	denied(t, bob.Create(bg(), ghost), "bob cannot set or change the owner references of Share ghosted")
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

// ghostOwner gives an object an owner that does not exist, which the
// garbage collector takes as gone.
func ghostOwner[T metav1.Object](o T) {
	o.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "ghost", UID: "6f1d2b1c-0000-4000-8000-000000000002"}})
}

// TestShareApplyHistory: issue 24's apply history on a Share. Someone
// without the right to change its grantees cannot claim them in the apply
// history (a forged entry, a poisoned last-applied record), which the next
// routine apply would act on; its Owner applies the whole Share server-side
// as usual.
func TestShareApplyHistory(t *testing.T) {
	ns := world(t)
	bob, dan := as(t, "bob@acme.example"), as(t, "dan@acme.example")
	patch := func(p person, typ types.PatchType, body string, opts ...client.PatchOption) error {
		return p.Patch(bg(), &iamv1alpha1.Share{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sales"}}, client.RawPatch(typ, []byte(body)), opts...)
	}
	denied(t, patch(dan, types.MergePatchType, `{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"spec\":{\"grantees\":[{\"kind\":\"User\",\"name\":\"dan\",\"role\":\"Owner\"}]}}"}}}`),
		"dan cannot make this change of Share sales", "would record fields this requester cannot change (spec.grantees)")
	var cur iamv1alpha1.Share
	if err := env.Client.Get(bg(), client.ObjectKey{Namespace: ns, Name: "sales"}, &cur); err != nil {
		t.Fatal(err)
	}
	forged := append(slices.Clone(cur.ManagedFields), metav1.ManagedFieldsEntry{Manager: "gitops", Operation: metav1.ManagedFieldsOperationApply,
		APIVersion: "iam.gatehouse.dev/v1alpha1", FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:grantees":{}}}`)})
	body, err := json.Marshal([]map[string]any{{"op": "replace", "path": "/metadata/managedFields", "value": forged}})
	if err != nil {
		t.Fatal(err)
	}
	denied(t, patch(dan, types.JSONPatchType, string(body)), "dan cannot make this change of Share sales", `manager "gitops"`)
	// The Owner's server-side apply of the whole Share, resource and all.
	allowed(t, patch(bob, types.ApplyPatchType, `{"apiVersion":"iam.gatehouse.dev/v1alpha1","kind":"Share","metadata":{"name":"sales"},`+
		`"spec":{"resource":{"type":"dataset","name":"sales"},"note":"Applied.","grantees":[{"kind":"User","name":"bob","role":"Owner"},`+
		`{"kind":"User","name":"alice","role":"Editor","allowSharing":true},{"kind":"User","name":"carl","role":"Consumer","allowSharing":true},{"kind":"User","name":"dan","role":"Editor"}]}}`,
		client.FieldOwner("bob-gitops"), client.ForceOwnership))
}
