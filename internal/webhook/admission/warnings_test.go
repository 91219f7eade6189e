package admission_test

import (
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

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
