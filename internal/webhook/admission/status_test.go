package admission_test

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

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
