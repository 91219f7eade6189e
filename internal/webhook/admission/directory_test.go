package admission_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// TestDirectorySecretsAndPlaintext: a Directory names only Secrets its
// requester may read, and binds in clear text only when told to.
func TestDirectorySecretsAndPlaintext(t *testing.T) {
	ns := world(t)
	if err := env.Client.Create(bg(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "lake-erin"}, StringData: map[string]string{"password": "erins-key"}}); err != nil {
		t.Fatal(err)
	}
	dir := &iamv1alpha1.Directory{ObjectMeta: metav1.ObjectMeta{Name: "corp", Namespace: ns}, Spec: iamv1alpha1.DirectorySpec{
		URL: "ldaps://ldap.example", BindDN: "cn=gatehouse", BindPasswordSecretRef: &iamv1alpha1.SecretKeySelector{Name: "lake-erin", Key: "password"},
		Users: iamv1alpha1.DirectoryUsers{BaseDN: "ou=people"}}}
	hr := as(t, "hr@acme.example")
	denied(t, hr.Create(bg(), dir.DeepCopy()), "naming Secret lake-erin (spec.bindPasswordSecretRef): it may not read that Secret itself")
	plain := dir.DeepCopy()
	plain.Spec.URL = "ldap://ldap.example"
	denied(t, admin(t).Create(bg(), plain), "sends the password in clear text")
	plain.Spec.AllowPlaintextBind = true
	allowed(t, admin(t).Create(bg(), plain))
}
