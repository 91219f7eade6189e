package access

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// TestSelfEditable: the person a User stands for may change its display
// name and e-mail, and nothing else a reader or the operator believes:
// not its groups, profile, activity, source or identity, nor its metadata
// (kubectl's record of the last apply and what the API server keeps
// aside).
func TestSelfEditable(t *testing.T) {
	for name, tc := range map[string]struct {
		edit func(*iamv1alpha1.User)
		want bool
	}{
		"nothing":      {func(*iamv1alpha1.User) {}, true},
		"display name": {func(u *iamv1alpha1.User) { u.Spec.DisplayName = "Bob B." }, true},
		"e-mail":       {func(u *iamv1alpha1.User) { u.Spec.Email = "bob@home.example" }, true},
		"kubectl's last apply": {func(u *iamv1alpha1.User) {
			u.Annotations = map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{}"}
		}, true},
		"server-kept metadata":  {func(u *iamv1alpha1.User) { u.ResourceVersion, u.Generation = "42", 7 }, true},
		"status":                {func(u *iamv1alpha1.User) { u.Status.GlobalPermissions = []iamv1alpha1.GlobalPermission{"admin"} }, true},
		"groups":                {func(u *iamv1alpha1.User) { u.Spec.Groups = append(u.Spec.Groups, "admins") }, false},
		"profile":               {func(u *iamv1alpha1.User) { u.Spec.Profile = "full" }, false},
		"activity":              {func(u *iamv1alpha1.User) { u.Spec.Active = ptr.To(false) }, false},
		"source":                {func(u *iamv1alpha1.User) { u.Spec.Source = iamv1alpha1.UserSourceLDAP }, false},
		"kubernetes identity":   {func(u *iamv1alpha1.User) { u.Spec.KubernetesUsername = "alice" }, false},
		"another annotation":    {func(u *iamv1alpha1.User) { u.Annotations = map[string]string{"example.com/x": "y"} }, false},
		"a label":               {func(u *iamv1alpha1.User) { u.Labels = map[string]string{"example.com/x": "y"} }, false},
		"a finalizer":           {func(u *iamv1alpha1.User) { u.Finalizers = []string{"example.com/hold"} }, false},
		"an owner reference":    {func(u *iamv1alpha1.User) { u.OwnerReferences = []metav1.OwnerReference{{Name: "x"}} }, false},
		"e-mail and the groups": {func(u *iamv1alpha1.User) { u.Spec.Email, u.Spec.Groups = "b@x", nil }, false},
	} {
		t.Run(name, func(t *testing.T) {
			before := user("bob", "small", "data")
			after := before.DeepCopy()
			tc.edit(after)
			if got := SelfEditable(&before, after); got != tc.want {
				t.Errorf("SelfEditable = %v, want %v", got, tc.want)
			}
		})
	}
}
