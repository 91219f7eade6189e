package admission_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

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

	// Owner references and finalizers are administrators' (issue 24).
	ghosted := personal("ghosted", "builders")
	ghostOwner(ghosted)
	denied(t, carl.Create(bg(), ghosted), "owner references and finalizers are administrators' to set")
	pinned := personal("pinned", "builders")
	pinned.Finalizers = []string{"example.com/pin"}
	denied(t, carl.Create(bg(), pinned), "owner references and finalizers are administrators' to set")

	// Another user may not change or delete carl's; carl may.
	denied(t, as(t, "dan@acme.example").Delete(bg(), personal("mine")), "says it is not yours")
	allowed(t, carl.Delete(bg(), personal("mine")))
}
