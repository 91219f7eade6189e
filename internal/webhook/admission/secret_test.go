package admission_test

// The confused deputy, at admission: who may create a Connection, that the
// requester may read every Secret a Connection or Directory names, that only
// someone who may read a Secret may mark it for Gatehouse, and that a
// plaintext LDAP bind is refused unless allowed.

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// secretRBAC lets platform-users create and update Secrets in ns (no get),
// and gives the users named get on the Secrets named, by resourceNames.
func secretRBAC(t *testing.T, ns string, getters map[string][]string) {
	t.Helper()
	objs := []client.Object{
		&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "write-secrets"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"create", "update", "patch", "delete"}}}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "write-secrets"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "write-secrets"},
			Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: platformUsers}}},
	}
	for user, names := range getters {
		objs = append(objs,
			&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "get-" + names[0]},
				Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}, ResourceNames: names}}},
			&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "get-" + names[0]},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "get-" + names[0]},
				Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: user}}})
	}
	for _, o := range objs {
		if err := env.Client.Create(bg(), o); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSecretMarker: only someone who may read a Secret marks it for
// Gatehouse, and never a Secret of a type Gatehouse does not use.
func TestSecretMarker(t *testing.T) {
	ns := world(t)
	secretRBAC(t, ns, map[string][]string{"bob@acme.example": {"bobs-key"}})
	marked := func(name string, typ corev1.SecretType) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			Labels: map[string]string{iamv1alpha1.LabelCredentialFor: "connection.lake"}}, Type: typ, StringData: map[string]string{"password": "pw"}}
	}
	denied(t, as(t, "carl@acme.example").Create(bg(), marked("carls-key", corev1.SecretTypeOpaque)), "carl@acme.example cannot mark Secret "+ns+"/carls-key for connection.lake")
	allowed(t, as(t, "bob@acme.example").Create(bg(), marked("bobs-key", corev1.SecretTypeOpaque)))
	token := marked("sa-token", corev1.SecretTypeServiceAccountToken)
	token.Annotations = map[string]string{corev1.ServiceAccountNameKey: "default"}
	denied(t, admin(t).Create(bg(), token), "which Gatehouse never uses as a credential")
	// Unmarked Secrets are none of Gatehouse's business.
	allowed(t, as(t, "carl@acme.example").Create(bg(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "plain"}}))
}

// TestUserCredentials: a per-user credential Secret is its user's: nobody
// else creates one in its name, relabels one to or from it, or deletes it;
// an administrator may.
func TestUserCredentials(t *testing.T) {
	ns := world(t)
	secretRBAC(t, ns, nil)
	cred := func(name, user string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			Labels: map[string]string{iamv1alpha1.LabelConnection: "lake", iamv1alpha1.LabelUser: user}},
			StringData: map[string]string{"accessKeyId": "AKIA", "secretAccessKey": "key"}}
	}
	carl, dan := as(t, "carl@acme.example"), as(t, "dan@acme.example")
	denied(t, carl.Create(bg(), cred("lake-alice", "alice")), "it is User alice's credential")
	allowed(t, carl.Create(bg(), cred("lake-carl", "carl")))
	relabel := func(p person, user string) error {
		for {
			var s corev1.Secret
			if err := env.Client.Get(bg(), client.ObjectKey{Namespace: ns, Name: "lake-carl"}, &s); err != nil {
				t.Fatal(err)
			}
			s.Labels[iamv1alpha1.LabelUser] = user
			if err := p.Update(bg(), &s); !apierrors.IsConflict(err) {
				return err
			}
		}
	}
	// Per-user labels are set at creation only, by anyone (issue 24,
	// finding 3): relabelling, to another user or to oneself, is refused,
	// an administrator's included.
	const relabelled = "are set when a per-user credential is created and never after"
	denied(t, relabel(carl, "alice"), relabelled)
	denied(t, relabel(dan, "dan"), relabelled)
	denied(t, relabel(as(t, "hr@acme.example"), "alice"), relabelled)
	// Labelling a Secret one cannot read (here the administrator's) as
	// one's own credential.
	if err := env.Client.Create(bg(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bind"}, StringData: map[string]string{"password": "x"}}); err != nil {
		t.Fatal(err)
	}
	denied(t, dan.Patch(bg(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bind"}}, client.RawPatch(types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"iam.gatehouse.dev/connection":"lake","iam.gatehouse.dev/user":"dan"}}}`))), relabelled)
	denied(t, dan.Delete(bg(), cred("lake-carl", "carl")), "cannot delete Secret")
	token := cred("lake-token", "carl")
	token.Type = corev1.SecretTypeServiceAccountToken
	token.Annotations = map[string]string{corev1.ServiceAccountNameKey: "default"}
	denied(t, carl.Create(bg(), token), "never uses as a credential")
	allowed(t, as(t, "hr@acme.example").Create(bg(), cred("lake-alice", "alice"))) // an administrator
	allowed(t, carl.Delete(bg(), cred("lake-carl", "carl")))
}
