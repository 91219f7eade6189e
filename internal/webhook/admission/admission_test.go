package admission_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	webhookconfig "github.com/gatehouse-dev/gatehouse/config/webhook"
	"github.com/gatehouse-dev/gatehouse/controllers"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/builders"
	"github.com/gatehouse-dev/gatehouse/internal/webhook/admission"
)

var (
	env      *testenv.Env
	auditLog lockedBuffer
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// platformUsers is the Kubernetes group the impersonated people are in;
// RBAC lets it write every Gatehouse kind, so what stops them is the
// webhooks.
const platformUsers = "platform-users"

// adminGroup is an administrator group (--admin-groups) besides
// system:masters.
const adminGroup = "gatehouse-admins"

func TestMain(m *testing.M) {
	os.Exit(testenv.RunWith(m, &env, testenv.Options{Webhooks: true}, startManager))
}

func startManager(ctx context.Context, e *testenv.Env) error {
	w := e.ControlPlane.Webhook
	mgr, err := ctrl.NewManager(e.Config, ctrl.Options{
		Scheme:                 e.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		WebhookServer:          webhook.NewServer(webhook.Options{Host: w.Host, Port: w.Port, CertDir: w.CertDir}),
		Cache:                  cache.Options{DefaultTransform: cache.TransformStripManagedFields(), ByObject: controllers.CacheByObject()},
	})
	if err != nil {
		return err
	}
	log := audit.NewLogger(&auditLog)
	eng, err := controllers.Setup(ctx, mgr, controllers.Options{Audit: log})
	if err != nil {
		return err
	}
	if err := admission.Setup(ctx, mgr, eng, admission.Admins{Groups: []string{"system:masters", adminGroup}, BreakGlass: webhookconfig.DefaultBreakGlassGroup}, log); err != nil {
		return err
	}
	go func() { _ = mgr.Start(ctx) }()
	rbac := []client.Object{
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: platformUsers},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{"iam.gatehouse.dev"}, Resources: []string{"*"}, Verbs: []string{"*"}}}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: platformUsers},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: platformUsers},
			Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: platformUsers}}},
	}
	for _, o := range rbac {
		if err := e.Client.Create(ctx, o); err != nil {
			return err
		}
	}
	addr := net.JoinHostPort(w.Host, strconv.Itoa(w.Port))
	for deadline := time.Now().Add(time.Minute); ; {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the webhook server did not listen on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// person is a client that makes requests as username (in group
// platform-users), collecting the API server's warnings.
type person struct {
	client.Client
	warnings *[]string
}

type warningRecorder struct {
	mu  sync.Mutex
	out *[]string
}

func (w *warningRecorder) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	*w.out = append(*w.out, text)
}

// as is a person in group platform-users.
func as(t *testing.T, username string) person {
	t.Helper()
	return impersonate(t, username, platformUsers)
}

// impersonate is a client acting as username in groups, collecting the
// API server's warnings.
func impersonate(t *testing.T, username string, groups ...string) person {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: username, Groups: groups}
	var warnings []string
	cfg.WarningHandler = &warningRecorder{out: &warnings}
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	return person{Client: c, warnings: &warnings}
}

func bg() context.Context { return context.Background() }

// user is a User of profile whose requests carry name@acme.example.
func user(ns, name, profile string) *iamv1alpha1.User {
	u := builders.User(ns, name, profile)
	u.Spec.KubernetesUsername = name + "@acme.example"
	return u
}

func to(kind iamv1alpha1.GranteeKind, name string, role iamv1alpha1.Role) iamv1alpha1.Grantee {
	return iamv1alpha1.Grantee{Kind: kind, Name: name, Role: role}
}

func sharing(g iamv1alpha1.Grantee) iamv1alpha1.Grantee { g.AllowSharing = true; return g }

func share(ns, name, res string, grantees ...iamv1alpha1.Grantee) *iamv1alpha1.Share {
	typ, n, _ := strings.Cut(res, "/")
	return &iamv1alpha1.Share{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: iamv1alpha1.ShareSpec{Resource: iamv1alpha1.ResourceRef{Type: iamv1alpha1.ResourceType(typ), Name: n}, Grantees: grantees}}
}

// world is the seeds' sharing example: dataset/sales shared by Owner bob
// with alice (Editor, allowSharing), carl (Consumer, allowSharing) and dan
// (Editor); eve is inactive; dataset/orphanish has Owner pat, who waits for
// a seat, and alice as its only seated sharer. hr (hr@acme.example) is an
// administrator of the namespace: a User in Group admins, which gives admin.
func world(t *testing.T) string {
	t.Helper()
	ns := env.Namespace(t)
	lic := &iamv1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns}, Spec: iamv1alpha1.LicenseSpec{Profiles: []iamv1alpha1.Profile{
		{Name: "designer", Seats: 200}, {Name: "small", Seats: 1}, {Name: "waiting", Seats: 0}, {Name: "staff", Seats: 5},
	}}}
	hr := user(ns, "hr", "staff")
	hr.Spec.Groups = []string{"admins"}
	eve := user(ns, "eve", "designer")
	eve.Spec.Active = ptr.To(false)
	objs := []client.Object{lic, user(ns, "bob", "designer"), user(ns, "alice", "designer"), user(ns, "carl", "designer"),
		user(ns, "dan", "designer"), eve, user(ns, "pat", "waiting"),
		&iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: ns}},
		&iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: "admins", Namespace: ns}, Spec: iamv1alpha1.GroupSpec{GlobalPermissions: []iamv1alpha1.GlobalPermission{"admin"}}}, hr,
		share(ns, "sales", "dataset/sales", to("User", "bob", "Owner"), sharing(to("User", "alice", "Editor")),
			sharing(to("User", "carl", "Consumer")), to("User", "dan", "Editor")),
		share(ns, "orphanish", "dataset/orphanish", to("User", "pat", "Owner"), sharing(to("User", "alice", "Editor"))),
	}
	for _, o := range objs {
		if err := env.Client.Create(bg(), o); err != nil {
			t.Fatalf("the administrator cannot create %s: %v", o.GetName(), err)
		}
	}
	// The webhooks judge from the operator's index: wait until it holds
	// the world (the last user's status is written).
	deadline := time.Now().Add(30 * time.Second)
	for {
		var s iamv1alpha1.Share
		_ = env.Client.Get(bg(), client.ObjectKey{Namespace: ns, Name: "orphanish"}, &s)
		if s.Status.ObservedGeneration > 0 {
			return ns
		}
		if time.Now().After(deadline) {
			t.Fatal("the world was not reconciled within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// change edits a Share as a person and returns the error.
func change(t *testing.T, p person, ns, name string, edit func(*iamv1alpha1.Share)) error {
	t.Helper()
	for {
		var s iamv1alpha1.Share
		if err := env.Client.Get(bg(), client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
			t.Fatal(err)
		}
		edit(&s)
		// The operator writes the status meanwhile: retry on conflict.
		if err := p.Update(bg(), &s); !apierrors.IsConflict(err) {
			return err
		}
	}
}

func addGrantee(g iamv1alpha1.Grantee) func(*iamv1alpha1.Share) {
	return func(s *iamv1alpha1.Share) { s.Spec.Grantees = append(s.Spec.Grantees, g) }
}

func setGrantee(i int, g iamv1alpha1.Grantee) func(*iamv1alpha1.Share) {
	return func(s *iamv1alpha1.Share) { s.Spec.Grantees[i] = g }
}

func without(names ...string) func(*iamv1alpha1.Share) {
	return func(s *iamv1alpha1.Share) {
		var keep []iamv1alpha1.Grantee
	next:
		for _, g := range s.Spec.Grantees {
			for _, n := range names {
				if g.Name == n {
					continue next
				}
			}
			keep = append(keep, g)
		}
		s.Spec.Grantees = keep
	}
}

// denied checks that err is a webhook denial whose message contains want.
func denied(t *testing.T, err error, want string, more ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("allowed; want a denial saying %q", want)
	}
	if !strings.Contains(err.Error(), "denied the request") {
		t.Fatalf("denial:\n%v\nwant a webhook's denial", err)
	}
	for _, w := range append([]string{want}, more...) {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("denial:\n%v\nwant it to say %q", err, w)
		}
	}
}

func allowed(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("denied: %v", err)
	}
}

// admin is an administrator identity (in an --admin-groups group) that is
// not the operator.
func admin(t *testing.T) person {
	t.Helper()
	return impersonate(t, "root@acme.example", "system:masters")
}

func sleep() { time.Sleep(50 * time.Millisecond) }

// waitIndexed waits until the operator has reconciled a user (and so its
// index holds it).
func waitIndexed(t *testing.T, ns, name string) {
	t.Helper()
	for range 600 {
		var u iamv1alpha1.User
		if env.Client.Get(bg(), client.ObjectKey{Namespace: ns, Name: name}, &u) == nil && u.Status.ObservedGeneration > 0 {
			return
		}
		sleep()
	}
	t.Fatalf("user %s was not reconciled", name)
}

func waitShareIndexed(t *testing.T, ns, name string) {
	t.Helper()
	for range 600 {
		var s iamv1alpha1.Share
		if env.Client.Get(bg(), client.ObjectKey{Namespace: ns, Name: name}, &s) == nil && s.Status.ObservedGeneration > 0 {
			return
		}
		sleep()
	}
	t.Fatalf("share %s was not reconciled", name)
}

func waitGrant(t *testing.T, ns, name string) {
	t.Helper()
	for range 600 {
		var g iamv1alpha1.ResourceGrant
		if env.Client.Get(bg(), client.ObjectKey{Namespace: ns, Name: name}, &g) == nil && g.Status.ObservedGeneration > 0 {
			return
		}
		sleep()
	}
	t.Fatalf("grant %s was not reconciled", name)
}

// updateUser edits a User as a person, retrying on conflict with the
// operator's status writes.
func updateUser(t *testing.T, p person, ns, name string, edit func(*iamv1alpha1.User)) error {
	t.Helper()
	for {
		var u iamv1alpha1.User
		if err := env.Client.Get(bg(), client.ObjectKey{Namespace: ns, Name: name}, &u); err != nil {
			t.Fatal(err)
		}
		edit(&u)
		if err := p.Update(bg(), &u); !apierrors.IsConflict(err) {
			return err
		}
	}
}
