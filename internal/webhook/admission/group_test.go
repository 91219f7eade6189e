package admission_test

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

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
