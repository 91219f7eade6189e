package admission_test

// The attacks of the perimeter issue, each made through the API server as
// an impersonated person holding every verb on every Gatehouse kind (the
// platform-users ClusterRole), or as an administrator where even they must
// be refused.

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// admin is an administrator identity (in an --admin-groups group) that is
// not the operator.
func admin(t *testing.T) person {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "root@acme.example", Groups: []string{"system:masters"}}
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	return person{Client: c, warnings: new([]string)}
}

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

// TestIdentityUnique: no User may stand for an identity another User
// holds, through kubernetesUsername or through a login with none; not even
// an administrator may create one. A system: identity is refused too.
func TestIdentityUnique(t *testing.T) {
	ns := world(t)
	thief := user(ns, "mallory", "designer")
	thief.Spec.KubernetesUsername = "bob@acme.example" // bob's
	denied(t, admin(t).Create(bg(), thief), `the Kubernetes identity "bob@acme.example" is already User bob's`)

	// A login equal to another's kubernetesUsername, with none of its own.
	byLogin := user(ns, "x", "designer")
	byLogin.Name, byLogin.Spec.Login, byLogin.Spec.KubernetesUsername = "alice-login", "alice@acme.example", ""
	denied(t, admin(t).Create(bg(), byLogin), `already User alice's`)

	// Taking one over by changing one's own kubernetesUsername.
	mine := user(ns, "frank", "designer")
	allowed(t, admin(t).Create(bg(), mine))
	err := updateUser(t, admin(t), ns, "frank", func(u *iamv1alpha1.User) { u.Spec.KubernetesUsername = "carl@acme.example" })
	denied(t, err, `already User carl's`)

	// system: identities belong to Kubernetes (the CRD refuses them, so
	// this holds with the webhook down too).
	sys := user(ns, "sys", "designer")
	sys.Spec.KubernetesUsername = "system:kube-controller-manager"
	if err := admin(t).Create(bg(), sys); err == nil || !strings.Contains(err.Error(), "kubernetesUsername cannot be a system: name") {
		t.Errorf("a system: kubernetesUsername: %v", err)
	}
	sys.Spec.KubernetesUsername, sys.Spec.Login = "", "system:admin"
	if err := admin(t).Create(bg(), sys); err == nil || !strings.Contains(err.Error(), "a login that begins with system:") {
		t.Errorf("a system: login without kubernetesUsername: %v", err)
	}
	// Look-alike logins: a right-to-left override, a control character.
	for _, login := range []string{"bob\u202e", "bo\x01b", "bob\u00a0"} {
		u := user(ns, "lookalike", "designer")
		u.Spec.Login, u.Spec.KubernetesUsername = login, ""
		if err := admin(t).Create(bg(), u); err == nil || !strings.Contains(err.Error(), "login must be one word of printable characters") {
			t.Errorf("login %q: %v", login, err)
		}
	}
}

// TestKubernetesGroupNotPrivileged: a Group cannot be mapped onto
// system:authenticated (everyone) or an administrator group.
func TestKubernetesGroupNotPrivileged(t *testing.T) {
	ns := world(t)
	for kg, want := range map[string]string{
		"system:authenticated": "kubernetesGroup cannot be a system: group",
		adminGroup:             `spec.kubernetesGroup "` + adminGroup + `" is an administrator group of Gatehouse`,
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
