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

func pgConnection(ns, name, secret string) *iamv1alpha1.Connection {
	return &iamv1alpha1.Connection{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: iamv1alpha1.ConnectionSpec{
		Type: "PostgreSQL", Parameters: map[string]string{"host": "127.0.0.1", "port": "5432", "database": "x"},
		Credentials: iamv1alpha1.ConnectionCredentials{Mode: "Global", SecretRef: &iamv1alpha1.LocalSecretReference{Name: secret}}}}
}

// TestConnectionNamesOnlyReadableSecrets: the trial's attack, a Connection
// naming the warehouse Secret to have it granted to everyone and sent to a
// host of one's choosing, is refused even for an administrator User who
// cannot read the Secret; whoever may get it (by resourceNames) may.
func TestConnectionNamesOnlyReadableSecrets(t *testing.T) {
	ns := world(t)
	secretRBAC(t, ns, map[string][]string{"bob@acme.example": {"bobs-db"}})
	for _, name := range []string{"warehouse-credentials", "bobs-db"} {
		if err := env.Client.Create(bg(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			StringData: map[string]string{"username": "svc", "password": "pw"}}); err != nil {
			t.Fatal(err)
		}
	}
	hr := as(t, "hr@acme.example") // administers the namespace, cannot read Secrets
	scratch := pgConnection(ns, "carols-scratch", "warehouse-credentials")
	scratch.Spec.DetailsReadableBy = &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceAll}
	denied(t, hr.Create(bg(), scratch), "hr@acme.example cannot create Connection "+ns+"/carols-scratch naming Secret warehouse-credentials (spec.credentials.secretRef): it may not read that Secret itself")

	// bob may get bobs-db by name; as an administrator he could create the
	// Connection (here: made a Group admin for the moment).
	if err := env.Client.Create(bg(), &iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bob-admins"},
		Spec: iamv1alpha1.GroupSpec{GlobalPermissions: []iamv1alpha1.GlobalPermission{"admin"}}}); err != nil {
		t.Fatal(err)
	}
	allowed(t, updateUser(t, person{Client: env.Client}, ns, "bob", func(u *iamv1alpha1.User) { u.Spec.Groups = append(u.Spec.Groups, "bob-admins") }))
	waitIndexed(t, ns, "bob")
	bob := as(t, "bob@acme.example")
	var err error
	for range 100 { // until the index sees bob as an administrator
		if err = bob.Create(bg(), pgConnection(ns, "bobs", "bobs-db")); err == nil {
			break
		}
		sleep()
	}
	allowed(t, err)
	// Repointing it at the warehouse Secret is refused.
	for {
		var c iamv1alpha1.Connection
		if err := env.Client.Get(bg(), client.ObjectKey{Namespace: ns, Name: "bobs"}, &c); err != nil {
			t.Fatal(err)
		}
		c.Spec.Credentials.SecretRef.Name = "warehouse-credentials"
		if err = bob.Update(bg(), &c); !apierrors.IsConflict(err) {
			break
		}
	}
	denied(t, err, "it may not read that Secret itself")
	// The cluster's administrators may read every Secret: admitted.
	allowed(t, admin(t).Create(bg(), pgConnection(ns, "warehouse", "warehouse-credentials")))
}

// TestPersonalConnections: without administrator rights, a user holding
// createPersonalConnections may create a connection only its own groups may
// use and read, recorded as its own, and change or delete only its own.
func TestPersonalConnections(t *testing.T) {
	ns := world(t)
	for _, o := range []client.Object{
		&iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "builders"},
			Spec: iamv1alpha1.GroupSpec{GlobalPermissions: []iamv1alpha1.GlobalPermission{"createPersonalConnections"}}},
	} {
		if err := env.Client.Create(bg(), o); err != nil {
			t.Fatal(err)
		}
	}
	personal := func(name string, groups ...string) *iamv1alpha1.Connection {
		return &iamv1alpha1.Connection{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			Annotations: map[string]string{iamv1alpha1.AnnotationCreatedBy: "carl@acme.example"}},
			Spec: iamv1alpha1.ConnectionSpec{Type: "PostgreSQL", Credentials: iamv1alpha1.ConnectionCredentials{Mode: "PerUser", Type: "Basic"},
				UsableBy: &iamv1alpha1.Audience{Mode: "Groups", Groups: groups}}}
	}
	carl := as(t, "carl@acme.example")
	denied(t, carl.Create(bg(), personal("mine", "data")), "needs administrator rights or the global permission createPersonalConnections")
	allowed(t, updateUser(t, person{Client: env.Client}, ns, "carl", func(u *iamv1alpha1.User) { u.Spec.Groups = []string{"builders"} }))
	waitIndexed(t, ns, "carl")
	var err error
	for range 100 {
		if err = carl.Create(bg(), personal("mine", "builders")); err == nil {
			break
		}
		sleep()
	}
	allowed(t, err)
	all := personal("all")
	all.Spec.UsableBy = &iamv1alpha1.Audience{Mode: "All"}
	denied(t, carl.Create(bg(), all), "may be used and read only by groups you belong to, and spec.usableBy is All")
	denied(t, carl.Create(bg(), personal("theirs", "data")), "names Group data, which carl is not in")
	unsigned := personal("unsigned", "builders")
	unsigned.Annotations = nil
	denied(t, carl.Create(bg(), unsigned), `set annotation iam.gatehouse.dev/created-by: "carl@acme.example"`)
	forged := personal("forged", "builders")
	forged.Annotations[iamv1alpha1.AnnotationCreatedBy] = "bob@acme.example"
	denied(t, carl.Create(bg(), forged), "a personal connection records its creator")

	// Another user may not change or delete carl's; carl may.
	denied(t, as(t, "dan@acme.example").Delete(bg(), personal("mine")), "says it is not yours")
	allowed(t, carl.Delete(bg(), personal("mine")))
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
	denied(t, relabel(carl, "alice"), "it is User alice's credential")
	denied(t, relabel(dan, "dan"), "it is User carl's credential")
	denied(t, dan.Delete(bg(), cred("lake-carl", "carl")), "cannot delete Secret")
	token := cred("lake-token", "carl")
	token.Type = corev1.SecretTypeServiceAccountToken
	token.Annotations = map[string]string{corev1.ServiceAccountNameKey: "default"}
	denied(t, carl.Create(bg(), token), "never uses as a credential")
	allowed(t, as(t, "hr@acme.example").Create(bg(), cred("lake-alice", "alice"))) // an administrator
	allowed(t, carl.Delete(bg(), cred("lake-carl", "carl")))
}
