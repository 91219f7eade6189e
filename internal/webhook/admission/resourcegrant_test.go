package admission_test

import (
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

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
	// Issue 24, finding 1: an owner of the attacker's choosing, so that the
	// garbage collector deletes the grant.
	denied(t, edit(dan, ghostOwner), "dan cannot set or change the owner references of ResourceGrant churn")
	denied(t, edit(as(t, "nobody@acme.example"), ghostOwner), "is not a Gatehouse User")
}
