package connection_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/controllers/connection"
	"github.com/gatehouse-dev/gatehouse/internal/probe"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/dbtest"
)

var (
	tru = metav1.ConditionTrue
	fls = metav1.ConditionFalse
	unk = metav1.ConditionUnknown
)

func TestGlobal(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	create(t,
		markedFor("valid", secret(ns, "valid", basic("svc", "pw-valid-1"), nil)),
		markedFor("missing-key", secret(ns, "nopassword", map[string]string{"username": "svc"}, nil)),
		globalConn(ns, "valid", iamv1alpha1.ConnectionType("Snowflake"), "valid", nil),
		globalConn(ns, "missing-key", iamv1alpha1.ConnectionType("Snowflake"), "nopassword", nil),
		globalConn(ns, "missing-secret", iamv1alpha1.ConnectionType("Snowflake"), "later", nil),
	)

	t.Run("valid", func(t *testing.T) {
		c := waitCondition(t, ns, "valid", iamv1alpha1.ConditionReady, tru, iamv1alpha1.ReasonReconciled)
		if cond := meta.FindStatusCondition(c.Status.Conditions, iamv1alpha1.ConditionCredentialsValid); cond.Status != tru || cond.Reason != "Valid" {
			t.Errorf("CredentialsValid = %+v", cond)
		}
		// Snowflake cannot be tested by the operator.
		waitCondition(t, ns, "valid", iamv1alpha1.ConditionReachable, unk, probe.ReasonNotTestable)
	})
	t.Run("missing key names the key, then the fix is seen", func(t *testing.T) {
		c := waitCondition(t, ns, "missing-key", iamv1alpha1.ConditionCredentialsValid, fls, iamv1alpha1.ReasonMissingKey)
		cond := meta.FindStatusCondition(c.Status.Conditions, iamv1alpha1.ConditionCredentialsValid)
		if !strings.Contains(cond.Message, "password") || !strings.Contains(cond.Message, ns+"/nopassword") {
			t.Errorf("message %q does not name the key and the Secret", cond.Message)
		}
		waitCondition(t, ns, "missing-key", iamv1alpha1.ConditionReady, fls, iamv1alpha1.ReasonCredentialsInvalid)
		// The Secret is watched (by name, not cached): adding the key fixes it.
		update(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "nopassword"}}, func(s *corev1.Secret) {
			s.Data["password"] = []byte("pw-added-2")
		})
		waitCondition(t, ns, "missing-key", iamv1alpha1.ConditionReady, tru, iamv1alpha1.ReasonReconciled)
	})
	t.Run("missing Secret, then created", func(t *testing.T) {
		waitCondition(t, ns, "missing-secret", iamv1alpha1.ConditionCredentialsValid, fls, iamv1alpha1.ReasonSecretNotFound)
		create(t, markedFor("missing-secret", secret(ns, "later", basic("svc", "pw-later-3"), nil)))
		waitCondition(t, ns, "missing-secret", iamv1alpha1.ConditionCredentialsValid, tru, "Valid")
	})
}

// TestOtherNamespace: a Secret reference is a name in the Connection's own
// namespace; LocalSecretReference has no namespace field, and a name that
// tries to reach another one is rejected before anything is read.
func TestOtherNamespace(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	other := env.Namespace(t)
	create(t, secret(other, "creds", basic("svc", "pw-other-4"), nil))
	for name, ref := range map[string]string{"slash": other + "/creds", "dots": "../" + other + "/creds"} {
		c := globalConn(ns, name, iamv1alpha1.ConnectionType("Snowflake"), ref, nil)
		if err := env.Client.Create(ctx(t), c); err != nil {
			if apierrors.IsInvalid(err) {
				t.Logf("%s: rejected by the API: %v", name, err)
				continue // fine too
			}
			t.Fatal(err)
		}
		got := waitCondition(t, ns, name, iamv1alpha1.ConditionCredentialsValid, fls, iamv1alpha1.ReasonInvalidSpec)
		cond := meta.FindStatusCondition(got.Status.Conditions, iamv1alpha1.ConditionCredentialsValid)
		if !strings.Contains(cond.Message, "own namespace") {
			t.Errorf("%s: message %q", name, cond.Message)
		}
		t.Logf("%s: rejected by the controller: %s", name, cond.Message)
	}
}

func TestPerUser(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	create(t, seatedLicense(ns, 20),
		group(ns, "analysts", ""),
		user(ns, "alice", "analysts"), user(ns, "bob", "analysts"), user(ns, "carol", "analysts"), user(ns, "dave"),
		perUserConn(ns, "warehouse", groups("analysts")),
		userSecret(ns, "alice-warehouse", "warehouse", "alice", basic("alice", "pw-alice-5")),
		userSecret(ns, "carol-warehouse", "warehouse", "carol", basic("carol", "")),
	)
	waitCredentials(t, ns, "alice", iamv1alpha1.CredentialStatus{Connection: "warehouse", Ready: true, Reason: iamv1alpha1.CredentialConfigured})
	waitCredentials(t, ns, "bob", iamv1alpha1.CredentialStatus{Connection: "warehouse", Reason: iamv1alpha1.CredentialMissing, Message: iamv1alpha1.LabelUser + "=bob"})
	waitCredentials(t, ns, "carol", iamv1alpha1.CredentialStatus{Connection: "warehouse", Reason: iamv1alpha1.CredentialInvalid, Message: "key password is empty"})
	waitCredentials(t, ns, "dave") // not admitted, no Secret: nothing to say
	counts := func(configured, missing, invalid int32) {
		t.Helper()
		eventually(t, "counts", func() (bool, string) {
			var c iamv1alpha1.Connection
			if err := env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: "warehouse"}, &c); err != nil {
				return false, err.Error()
			}
			s := c.Status
			return s.UsersConfigured == configured && s.UsersMissing == missing && s.UsersInvalid == invalid,
				fmt.Sprintf("configured %d missing %d invalid %d", s.UsersConfigured, s.UsersMissing, s.UsersInvalid)
		})
	}
	counts(1, 1, 1)
	c := waitCondition(t, ns, "warehouse", iamv1alpha1.ConditionReachable, unk, probe.ReasonNotTestable)
	if msg := meta.FindStatusCondition(c.Status.Conditions, iamv1alpha1.ConditionReachable).Message; !strings.Contains(msg, "per-user") {
		t.Errorf("Reachable message %q does not say why", msg)
	}

	// The User owns its credential Secret (envtest has no garbage collector:
	// the owner reference is what makes deleting the User delete it).
	eventually(t, "alice owns her Secret", func() (bool, string) {
		var s corev1.Secret
		if err := env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: "alice-warehouse"}, &s); err != nil {
			return false, err.Error()
		}
		ref := metav1.GetControllerOf(&s)
		return ref != nil && ref.Kind == "User" && ref.Name == "alice", fmt.Sprintf("%+v", s.OwnerReferences)
	})

	// Fixing carol's Secret and bob bringing one: all configured.
	update(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "carol-warehouse"}}, func(s *corev1.Secret) {
		s.Data["password"] = []byte("pw-carol-6")
	})
	create(t, userSecret(ns, "bob-warehouse", "warehouse", "bob", basic("bob", "pw-bob-7")))
	counts(3, 0, 0)
	waitCredentials(t, ns, "carol", iamv1alpha1.CredentialStatus{Connection: "warehouse", Ready: true, Reason: iamv1alpha1.CredentialConfigured})

	// dave joins the group: he is now missing one.
	update(t, &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "dave"}}, func(u *iamv1alpha1.User) { u.Spec.Groups = []string{"analysts"} })
	waitCredentials(t, ns, "dave", iamv1alpha1.CredentialStatus{Connection: "warehouse", Reason: iamv1alpha1.CredentialMissing})
	counts(3, 1, 0)

	// The User controller's fields stay beside ours.
	u := waitCredentials(t, ns, "alice", iamv1alpha1.CredentialStatus{Connection: "warehouse", Ready: true, Reason: iamv1alpha1.CredentialConfigured})
	eventually(t, "alice's status has both controllers' fields", func() (bool, string) {
		if err := env.Client.Get(ctx(t), client.ObjectKeyFromObject(u), u); err != nil {
			return false, err.Error()
		}
		return u.Status.Seat != "" && meta.FindStatusCondition(u.Status.Conditions, iamv1alpha1.ConditionReady) != nil && len(u.Status.Credentials) == 1,
			fmt.Sprintf("%+v", u.Status)
	})
}

func TestUnknownUserOrConnection(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	create(t, seatedLicense(ns, 20),
		user(ns, "alice"),
		perUserConn(ns, "warehouse", &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceAll}),
		userSecret(ns, "to-nowhere", "nowhere", "alice", basic("alice", "pw-nowhere-8")),
		userSecret(ns, "for-nobody", "warehouse", "nobody", basic("nobody", "pw-nobody-9")),
		secret(ns, "half", basic("x", "pw-half-10"), map[string]string{iamv1alpha1.LabelConnection: "warehouse"}),
	)
	waitEvent(t, ns, "Secret", "to-nowhere", "UnknownConnection", "Connection nowhere")
	waitEvent(t, ns, "Secret", "for-nobody", "UnknownUser", "User nobody")
	waitEvent(t, ns, "Secret", "half", "InvalidLabels", iamv1alpha1.LabelUser)
	for _, name := range []string{"to-nowhere", "for-nobody", "half"} {
		var s corev1.Secret
		if err := env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
			t.Fatal(err)
		}
		if len(s.OwnerReferences) != 0 {
			t.Errorf("Secret %s was not left alone: %+v", name, s.OwnerReferences)
		}
	}
	waitCredentials(t, ns, "alice", iamv1alpha1.CredentialStatus{Connection: "warehouse", Reason: iamv1alpha1.CredentialMissing})
}

// canGet reports whether c may get the Secret: nil, or a Forbidden error.
func canGet(t *testing.T, c client.Client, ns, name string) (bool, string) {
	t.Helper()
	var s corev1.Secret
	err := c.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: name}, &s)
	switch {
	case err == nil:
		return true, "allowed"
	case apierrors.IsForbidden(err):
		return false, "forbidden"
	default:
		t.Fatalf("get Secret %s: %v", name, err)
		return false, ""
	}
}

func waitAccess(t *testing.T, c client.Client, who, ns, name string, want bool) {
	t.Helper()
	eventually(t, fmt.Sprintf("%s may get Secret %s: %v", who, name, want), func() (bool, string) {
		ok, why := canGet(t, c, ns, name)
		return ok == want, why
	})
}

// seatedLicense gives every profile-less User of ns a seat.
func seatedLicense(ns string, seats int32) *iamv1alpha1.License {
	return &iamv1alpha1.License{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default"},
		Spec: iamv1alpha1.LicenseSpec{Profiles: []iamv1alpha1.Profile{{Name: "full", Seats: seats}}}}
}

func seated(u *iamv1alpha1.User) *iamv1alpha1.User { u.Spec.Profile = "full"; return u }

// TestRBACGlobal: detailsReadableBy is projected as get on exactly the
// Connection's Secrets for exactly the Users that may read it by
// Gatehouse's own membership (active, seated members), by their Kubernetes
// identity; never a kubernetesGroup, so a member the API server's groups
// know but Gatehouse does not count reads nothing.
func TestRBACGlobal(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	conn := globalConn(ns, "warehouse", iamv1alpha1.ConnectionType("Snowflake"), "warehouse-creds", nil)
	conn.Spec.DetailsReadableBy = groups("readers", "auditors")
	create(t, seatedLicense(ns, 10),
		group(ns, "readers", "k8s-readers"), group(ns, "auditors", "k8s-auditors"), group(ns, "others", "k8s-others"),
		seated(user(ns, "eve", "readers")), seated(user(ns, "ann", "auditors")), seated(user(ns, "mallory", "others")),
		markedFor("warehouse", secret(ns, "warehouse-creds", basic("svc", "pw-rbac-11"), nil)),
		secret(ns, "unrelated", basic("svc", "pw-unrelated-12"), nil),
		conn,
	)
	// The API-server groups alone give nothing: only Gatehouse's members.
	reader := as(t, "eve@example.com", "k8s-auditors")
	auditor := as(t, "ann@example.com")
	other := as(t, "mallory@example.com", "k8s-readers")
	outsider := as(t, "zed@example.com", "k8s-readers", "k8s-auditors")
	waitCondition(t, ns, "warehouse", iamv1alpha1.ConditionSecretAccess, tru, iamv1alpha1.ReasonProjected)
	waitAccess(t, reader, "eve", ns, "warehouse-creds", true)
	waitAccess(t, auditor, "ann", ns, "warehouse-creds", true)
	for who, c := range map[string]client.Client{"mallory (in k8s-readers, member of no reading Group)": other, "zed (no User)": outsider} {
		if ok, _ := canGet(t, c, ns, "warehouse-creds"); ok {
			t.Errorf("%s reads the credential", who)
		}
	}
	if ok, _ := canGet(t, reader, ns, "unrelated"); ok {
		t.Error("eve reads a Secret the Connection does not name")
	}
	var list corev1.SecretList
	if err := reader.List(ctx(t), &list, client.InNamespace(ns)); !apierrors.IsForbidden(err) {
		t.Errorf("eve may list Secrets: %v", err)
	}
	var role rbacv1.Role
	if err := env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: "gatehouse:connection:warehouse"}, &role); err != nil {
		t.Fatal(err)
	}
	want := []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}, ResourceNames: []string{"warehouse-creds"}}}
	if b1, b2 := mustJSON(role.Rules), mustJSON(want); b1 != b2 {
		t.Errorf("rules %s, want %s", b1, b2)
	}
	if ref := metav1.GetControllerOf(&role); ref == nil || ref.Kind != "Connection" || ref.Name != "warehouse" {
		t.Errorf("Role is not owned by the Connection: %+v", role.OwnerReferences)
	}

	// Deactivating eve, or taking her out of readers, ends her access.
	update(t, &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "eve"}}, func(u *iamv1alpha1.User) { u.Spec.Active = ptr.To(false) })
	waitAccess(t, reader, "eve", ns, "warehouse-creds", false)
	update(t, &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "eve"}}, func(u *iamv1alpha1.User) { u.Spec.Active = nil })
	waitAccess(t, reader, "eve", ns, "warehouse-creds", true)
	update(t, &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ann"}}, func(u *iamv1alpha1.User) { u.Spec.Groups = nil })
	waitAccess(t, auditor, "ann", ns, "warehouse-creds", false)
	// Removing readers from detailsReadableBy removes eve's access.
	update(t, &iamv1alpha1.Connection{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "warehouse"}}, func(c *iamv1alpha1.Connection) {
		c.Spec.DetailsReadableBy = groups("auditors")
	})
	waitAccess(t, reader, "eve", ns, "warehouse-creds", false)
	// None: nobody but administrators.
	update(t, &iamv1alpha1.Connection{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "warehouse"}}, func(c *iamv1alpha1.Connection) {
		c.Spec.DetailsReadableBy = &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceAll}
	})
	waitAccess(t, other, "mallory", ns, "warehouse-creds", true)
	update(t, &iamv1alpha1.Connection{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "warehouse"}}, func(c *iamv1alpha1.Connection) {
		c.Spec.DetailsReadableBy = &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceNone}
	})
	waitAccess(t, other, "mallory", ns, "warehouse-creds", false)
	// An unknown group is reported.
	update(t, &iamv1alpha1.Connection{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "warehouse"}}, func(c *iamv1alpha1.Connection) {
		c.Spec.DetailsReadableBy = groups("ghosts")
	})
	waitCondition(t, ns, "warehouse", iamv1alpha1.ConditionSecretAccess, fls, iamv1alpha1.ReasonUnknownGroup)
	waitCondition(t, ns, "warehouse", iamv1alpha1.ConditionReady, fls, iamv1alpha1.ReasonSecretAccessFailed)
}

// TestRBACFromOldRelease: a RoleBinding the previous release made to a
// Group's kubernetesGroup is replaced by the Users that may read.
func TestRBACFromOldRelease(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	create(t, seatedLicense(ns, 5), group(ns, "readers", "k8s-readers"), seated(user(ns, "eve", "readers")),
		markedFor("warehouse", secret(ns, "warehouse-creds", basic("svc", "pw-old-31"), nil)))
	conn := globalConn(ns, "warehouse", iamv1alpha1.ConnectionType("Snowflake"), "warehouse-creds", nil)
	conn.Spec.DetailsReadableBy = groups("readers")
	create(t, conn)
	waitCondition(t, ns, "warehouse", iamv1alpha1.ConditionSecretAccess, tru, iamv1alpha1.ReasonProjected)
	// The old state: the binding names the kubernetesGroup.
	update(t, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gatehouse:connection:warehouse"}}, func(b *rbacv1.RoleBinding) {
		b.Subjects = []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "k8s-readers"}}
	})
	// Any reconcile (here: a new annotation of no consequence... a spec change) restores it.
	update(t, &iamv1alpha1.Connection{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "warehouse"}}, func(c *iamv1alpha1.Connection) {
		c.Spec.Parameters = map[string]string{"account": "x"}
	})
	eventually(t, "the binding names eve, not the group", func() (bool, string) {
		var b rbacv1.RoleBinding
		if err := env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: "gatehouse:connection:warehouse"}, &b); err != nil {
			return false, err.Error()
		}
		return len(b.Subjects) == 1 && b.Subjects[0].Kind == rbacv1.UserKind && b.Subjects[0].Name == "eve@example.com", mustJSON(b.Subjects)
	})
}

func TestRBACPerUser(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	create(t,
		user(ns, "alice"), user(ns, "bob"),
		perUserConn(ns, "warehouse", &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceAll}),
		userSecret(ns, "alice-warehouse", "warehouse", "alice", basic("alice", "pw-alice-13")),
		userSecret(ns, "bob-warehouse", "warehouse", "bob", basic("bob", "pw-bob-14")),
	)
	alice, bob := as(t, "alice@example.com"), as(t, "bob@example.com")
	waitAccess(t, alice, "alice", ns, "alice-warehouse", true)
	waitAccess(t, bob, "bob", ns, "bob-warehouse", true)
	if ok, _ := canGet(t, alice, ns, "bob-warehouse"); ok {
		t.Error("alice reads bob's credential")
	}
	if ok, _ := canGet(t, bob, ns, "alice-warehouse"); ok {
		t.Error("bob reads alice's credential")
	}
	// An inactive user reads nothing.
	update(t, &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bob"}}, func(u *iamv1alpha1.User) { u.Spec.Active = new(bool) })
	waitAccess(t, bob, "bob", ns, "bob-warehouse", false)
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	return port
}

func TestReachable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind dbtest.Kind
		typ  iamv1alpha1.ConnectionType
	}{{dbtest.PostgreSQL, iamv1alpha1.ConnectionPostgreSQL}, {dbtest.MariaDB, iamv1alpha1.ConnectionMySQL}} {
		t.Run(string(tc.kind), func(t *testing.T) {
			t.Parallel()
			srv := server(t, tc.kind)
			db := srv.NewDatabase(t)
			ns := env.Namespace(t)
			params := func(port int) map[string]string {
				return map[string]string{"host": db.Host, "port": strconv.Itoa(port), "database": db.Database}
			}
			create(t,
				markedFor("ok", secret(ns, "good", basic(db.User, db.Password), nil)),
				markedFor("closed", secret(ns, "good-closed", basic(db.User, db.Password), nil)),
				markedFor("wrong-password", secret(ns, "bad", basic(db.User, db.Password+"-wrong"), nil)),
				globalConn(ns, "ok", tc.typ, "good", params(db.Port)),
				globalConn(ns, "wrong-password", tc.typ, "bad", params(db.Port)),
				globalConn(ns, "closed", tc.typ, "good-closed", params(closedPort(t))),
			)
			c := waitCondition(t, ns, "ok", iamv1alpha1.ConditionReachable, tru, probe.ReasonReachable)
			if c.Status.LastTestTime == nil {
				t.Error("lastTestTime is not set")
			}
			waitCondition(t, ns, "wrong-password", iamv1alpha1.ConditionReachable, fls, probe.ReasonAuthenticationFailed)
			waitCondition(t, ns, "closed", iamv1alpha1.ConditionReachable, fls, probe.ReasonConnectionRefused)
			waitEvent(t, ns, "Connection", "wrong-password", "Unreachable", "AuthenticationFailed")
			// Fixing the password re-tests at once.
			update(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bad"}}, func(s *corev1.Secret) {
				s.Data["password"] = []byte(db.Password)
			})
			waitCondition(t, ns, "wrong-password", iamv1alpha1.ConditionReachable, tru, probe.ReasonReachable)
		})
	}
}

// TestSecretCache: the manager caches only the labelled Secrets; many large
// unrelated Secrets neither enter its cache nor grow its memory.
func TestSecretCache(t *testing.T) {
	ns := env.Namespace(t)
	create(t, user(ns, "alice"), perUserConn(ns, "warehouse", &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceAll}),
		userSecret(ns, "alice-warehouse", "warehouse", "alice", basic("alice", "pw-cache-15")))
	waitCredentials(t, ns, "alice", iamv1alpha1.CredentialStatus{Connection: "warehouse", Ready: true, Reason: iamv1alpha1.CredentialConfigured})

	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	const n, size = 50, 1 << 20
	blob := make([]byte, size-1024)
	for i := range n {
		_, _ = rand.Read(blob)
		s := secret(ns, fmt.Sprintf("big-%02d", i), nil, nil)
		s.Data["blob"] = blob
		create(t, s)
	}
	// A labelled Secret created after them: once the cache holds it, the
	// cache's watch (events in resourceVersion order) has gone past the big
	// ones, so any of them it were to hold would be there by now.
	create(t, secret(ns, "sentinel", nil, map[string]string{iamv1alpha1.LabelConnection: "none"}))
	var names []string
	eventually(t, "the cache holds the Secret created after the big ones", func() (bool, string) {
		var cached corev1.SecretList
		if err := op.Manager.GetCache().List(ctx(t), &cached, client.InNamespace(ns)); err != nil {
			return false, err.Error()
		}
		names = names[:0]
		for _, s := range cached.Items {
			names = append(names, s.Name)
		}
		return slices.Contains(names, "sentinel"), fmt.Sprint(names)
	})
	slices.Sort(names) // the cache lists in no particular order
	if want := []string{"alice-warehouse", "sentinel"}; !slices.Equal(names, want) {
		t.Errorf("the cache holds Secrets %v, want only %v", names, want)
	}
	after := heap()
	growth := int64(after) - int64(before)
	t.Logf("heap before %d MiB, after %d MiB, growth %d KiB for %d MiB of unrelated Secrets", before>>20, after>>20, growth>>10, n*size>>20)
	if growth > 15<<20 {
		t.Errorf("the heap grew by %d MiB with %d MiB of unrelated Secrets", growth>>20, n*size>>20)
	}
}

// TestNoCredentialLeak runs the whole flow with known credential values and
// looks for them in everything the operator wrote: logs, Events, statuses,
// Roles and RoleBindings.
func TestNoCredentialLeak(t *testing.T) {
	srv := server(t, dbtest.PostgreSQL)
	db := srv.NewDatabase(t)
	ns := env.Namespace(t)
	token := func(what string) string {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		return what + "-" + base64.RawURLEncoding.EncodeToString(b)
	}
	wrong, perUser, invalid, client1, unmarked := token("wrongpw"), token("peruser"), token("invalid"), token("clientsecret"), token("unmarked")
	values := []string{db.Password, wrong, perUser, invalid, client1, unmarked}
	params := map[string]string{"host": db.Host, "port": strconv.Itoa(db.Port), "database": db.Database}
	create(t, seatedLicense(ns, 20),
		group(ns, "readers", "k8s-readers"),
		user(ns, "alice", "readers"), user(ns, "bob", "readers"),
		markedFor("ok", secret(ns, "good", basic(db.User, db.Password), nil)),
		markedFor("wrong", secret(ns, "bad", basic(db.User, wrong), nil)),
		// An unmarked Secret named by a Connection: its refusal names it, never a value.
		secret(ns, "unmarked", basic(db.User, unmarked), nil),
		globalConn(ns, "unmarked", iamv1alpha1.ConnectionPostgreSQL, "unmarked", params),
		globalConn(ns, "ok", iamv1alpha1.ConnectionPostgreSQL, "good", params),
		globalConn(ns, "wrong", iamv1alpha1.ConnectionPostgreSQL, "bad", params),
		perUserConn(ns, "peruser", groups("readers")),
		userSecret(ns, "alice-peruser", "peruser", "alice", basic("alice", perUser)),
		// A value with a line break at the end is invalid: the message must
		// name the key, not echo the value.
		userSecret(ns, "bob-peruser", "peruser", "bob", basic("bob", invalid+"\n")),
		userSecret(ns, "stray", "nowhere", "alice", basic("alice", perUser)),
		markedFor("oauth", secret(ns, "oauth-client", map[string]string{"clientSecret": client1 + "\n"}, nil)),
	)
	oauth := perUserConn(ns, "oauth", groups("readers"))
	oauth.Spec.Credentials.Type = iamv1alpha1.CredentialOAuth2
	oauth.Spec.Credentials.OAuth2 = &iamv1alpha1.OAuth2Client{TokenURL: "https://idp.example.com/token", ClientID: "gatehouse",
		ClientSecretRef: iamv1alpha1.SecretKeySelector{Name: "oauth-client", Key: "clientSecret"}}
	oauth.Spec.DetailsReadableBy = groups("readers")
	create(t, oauth)

	waitCondition(t, ns, "ok", iamv1alpha1.ConditionReachable, tru, probe.ReasonReachable)
	waitCondition(t, ns, "wrong", iamv1alpha1.ConditionReachable, fls, probe.ReasonAuthenticationFailed)
	waitCondition(t, ns, "oauth", iamv1alpha1.ConditionCredentialsValid, fls, "InvalidKey")
	waitCredentials(t, ns, "bob",
		iamv1alpha1.CredentialStatus{Connection: "oauth", Reason: iamv1alpha1.CredentialMissing},
		iamv1alpha1.CredentialStatus{Connection: "peruser", Reason: iamv1alpha1.CredentialInvalid, Message: "line break"})
	waitEvent(t, ns, "Secret", "stray", "UnknownConnection", "nowhere")
	waitEvent(t, ns, "Connection", "wrong", "Unreachable", "AuthenticationFailed")
	waitCondition(t, ns, "unmarked", iamv1alpha1.ConditionCredentialsValid, fls, iamv1alpha1.ReasonSecretNotMarked)

	var everything []string
	add := func(what string, v any) { everything = append(everything, what+": "+mustJSON(v)) }
	var conns iamv1alpha1.ConnectionList
	var users iamv1alpha1.UserList
	var roles rbacv1.RoleList
	var bindings rbacv1.RoleBindingList
	for _, l := range []client.ObjectList{&conns, &users, &roles, &bindings} {
		if err := env.Client.List(ctx(t), l, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range conns.Items {
		add("status of Connection "+c.Name, c.Status)
	}
	for _, u := range users.Items {
		add("status of User "+u.Name, u.Status)
	}
	add("Roles", roles.Items)
	add("RoleBindings", bindings.Items)
	for _, e := range events(t, ns) {
		add("Event "+e.Reason, e)
	}
	everything = append(everything, "logs: "+logs.String())
	if !strings.Contains(logs.String(), "testing the connection") {
		t.Error("the capture holds no log line of the controller: the scan would prove nothing")
	}
	for _, v := range values {
		forms := []string{v, base64.StdEncoding.EncodeToString([]byte(v))}
		for _, f := range forms {
			for _, s := range everything {
				if i := strings.Index(s, f); i >= 0 {
					what, _, _ := strings.Cut(s, ":")
					t.Errorf("a credential value appears in %s", what)
				}
			}
		}
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestOperatorRBAC: the manager's generated ClusterRole, without bind or
// escalate, is enough to write the Roles and RoleBindings the controller
// projects (the API server lets it grant get on Secrets because it holds it).
func TestOperatorRBAC(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../config/rbac/role.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var role *rbacv1.ClusterRole
	for _, doc := range strings.Split(string(raw), "\n---") {
		var cr rbacv1.ClusterRole
		if err := yaml.Unmarshal([]byte(doc), &cr); err == nil && cr.Kind == "ClusterRole" && cr.Name == "gatehouse-manager" {
			role = &cr
		}
	}
	if role == nil {
		t.Fatal("config/rbac/role.yaml has no ClusterRole gatehouse-manager")
	}
	for _, r := range role.Rules {
		for _, v := range r.Verbs {
			if v == "bind" || v == "escalate" || v == "impersonate" || v == "*" {
				t.Errorf("the manager's ClusterRole has verb %s on %v", v, r.Resources)
			}
		}
	}
	ns := env.Namespace(t)
	role.ObjectMeta = metav1.ObjectMeta{Name: ns + "-manager"}
	const operator = "system:serviceaccount:gatehouse-system:gatehouse-manager"
	create(t, role, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: ns + "-manager"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: operator}}})
	t.Cleanup(func() {
		_ = env.Client.Delete(ctx(t), role)
		_ = env.Client.Delete(ctx(t), &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: ns + "-manager"}})
	})
	op := as(t, operator)
	r := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "gatehouse:connection:x", Namespace: ns},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}, ResourceNames: []string{"x-creds"}}}}
	b := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "gatehouse:connection:x", Namespace: ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: r.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "k8s-readers"}}}
	// By server-side apply, as the controller writes them.
	apply := []client.ApplyOption{client.FieldOwner(connection.FieldManager), client.ForceOwnership}
	eventually(t, "the operator's identity applies a projected Role and RoleBinding", func() (bool, string) {
		if err := op.Apply(ctx(t), rbacv1ac.Role(r.Name, ns).WithRules(rbacv1ac.PolicyRule().WithAPIGroups("").
			WithResources("secrets").WithVerbs("get").WithResourceNames("x-creds")), apply...); err != nil {
			return false, "Role: " + err.Error()
		}
		if err := op.Apply(ctx(t), rbacv1ac.RoleBinding(b.Name, ns).
			WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup(rbacv1.GroupName).WithKind("Role").WithName(r.Name)).
			WithSubjects(rbacv1ac.Subject().WithKind(rbacv1.GroupKind).WithAPIGroup(rbacv1.GroupName).WithName("k8s-readers")), apply...); err != nil {
			return false, "RoleBinding: " + err.Error()
		}
		return true, ""
	})
	// It cannot grant what it does not hold.
	r2 := r.DeepCopy()
	r2.Name, r2.Rules[0].Verbs = "escalated", []string{"update"}
	if err := op.Create(ctx(t), r2); !apierrors.IsForbidden(err) {
		t.Errorf("the operator could create a Role granting update on Secrets: %v", err)
	}
}

// markedFor marks a Secret for Connection conn, as its owner does.
func markedFor(conn string, s *corev1.Secret) *corev1.Secret {
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	s.Labels[iamv1alpha1.LabelCredentialFor] = "connection." + conn
	return s
}

// TestConfusedDeputy: a Connection naming a Secret that is not marked for
// it (another Connection's, or anyone's) makes the operator send nothing,
// test nothing and grant nothing: a loopback listener speaking PostgreSQL or
// MySQL receives no connection at all, and no Role names the Secret. The
// same listener receives the credential of a marked Secret, so the test can
// fail.
func TestConfusedDeputy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		protocol string
		typ      iamv1alpha1.ConnectionType
	}{{testenv.DeputyPostgreSQL, iamv1alpha1.ConnectionPostgreSQL}, {testenv.DeputyMySQL, iamv1alpha1.ConnectionMySQL}} {
		t.Run(tc.protocol, func(t *testing.T) {
			t.Parallel()
			ns := env.Namespace(t)
			deputy := testenv.StartDeputy(t, tc.protocol)
			params := map[string]string{"host": deputy.Host, "port": strconv.Itoa(deputy.Port), "database": "db"}
			const stolen, own = "stolen-pw-2f9c1a", "own-pw-7d3e88"
			scratch := globalConn(ns, "carols-scratch", tc.typ, "warehouse-credentials", params)
			scratch.Spec.DetailsReadableBy = &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceAll}
			create(t, group(ns, "everyone", "k8s-everyone"), user(ns, "carol", "everyone"),
				markedFor("warehouse", secret(ns, "warehouse-credentials", basic("svc_warehouse", stolen), nil)),
				scratch)
			c := waitCondition(t, ns, "carols-scratch", iamv1alpha1.ConditionCredentialsValid, fls, iamv1alpha1.ReasonSecretNotMarked)
			msg := meta.FindStatusCondition(c.Status.Conditions, iamv1alpha1.ConditionCredentialsValid).Message
			if !strings.Contains(msg, "is marked for connection.warehouse, not for connection carols-scratch") {
				t.Errorf("CredentialsValid says %q", msg)
			}
			waitCondition(t, ns, "carols-scratch", iamv1alpha1.ConditionReachable, unk, iamv1alpha1.ReasonNotTested)
			var role rbacv1.Role
			err := env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: "gatehouse:connection:carols-scratch"}, &role)
			if err == nil && strings.Contains(mustJSON(role.Rules), "warehouse-credentials") {
				t.Errorf("a Role grants the unmarked Secret: %s", mustJSON(role.Rules))
			}
			// An unrelated Secret, unmarked: the same.
			create(t, secret(ns, "unrelated", basic("svc_other", stolen), nil))
			update(t, &iamv1alpha1.Connection{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "carols-scratch"}}, func(c *iamv1alpha1.Connection) {
				c.Spec.Credentials.SecretRef.Name = "unrelated"
			})
			c = waitCondition(t, ns, "carols-scratch", iamv1alpha1.ConditionCredentialsValid, fls, iamv1alpha1.ReasonSecretNotMarked)
			msg = meta.FindStatusCondition(c.Status.Conditions, iamv1alpha1.ConditionCredentialsValid).Message
			if !strings.Contains(msg, "kubectl label secret unrelated -n "+ns+" iam.gatehouse.dev/credential-for=connection.carols-scratch") {
				t.Errorf("CredentialsValid does not say what to run: %q", msg)
			}
			// The test's own decision for this generation: not tested. Only
			// once it is written may the listener's silence mean anything.
			waitCondition(t, ns, "carols-scratch", iamv1alpha1.ConditionReachable, metav1.ConditionUnknown, iamv1alpha1.ReasonNotTested)
			if got, n := deputy.Received(); n != 0 {
				t.Fatalf("the listener was contacted %d times from unmarked Secrets; it received %q", n, got)
			}

			// A Secret marked for its Connection: the listener receives the
			// credential.
			create(t, markedFor("legit", secret(ns, "legit", basic("svc_legit", own), nil)),
				globalConn(ns, "legit", tc.typ, "legit", params))
			eventually(t, "the listener receives the marked credential", func() (bool, string) {
				got, n := deputy.Received()
				want := own
				if tc.protocol == testenv.DeputyMySQL {
					want = "svc_legit" // go-sql-driver sends no clear password unless allowed; the login shows
				}
				return bytes.Contains(got, []byte(want)), fmt.Sprintf("%d connections, %q", n, got)
			})
			if got, _ := deputy.Received(); bytes.Contains(got, []byte(stolen)) || bytes.Contains(got, []byte("svc_warehouse")) || bytes.Contains(got, []byte("svc_other")) {
				t.Errorf("a credential of an unmarked Secret reached the listener: %q", got)
			}
		})
	}
}

// TestPersonalConnectionTargets: a personal connection (created by a
// non-administrator, annotation created-by) is never tested against a
// loopback address, and its test reports no more than whether it answered.
func TestPersonalConnectionTargets(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	deputy := testenv.StartDeputy(t, testenv.DeputyPostgreSQL)
	c := globalConn(ns, "mine", iamv1alpha1.ConnectionPostgreSQL, "mine",
		map[string]string{"host": deputy.Host, "port": strconv.Itoa(deputy.Port), "database": "db"})
	c.Annotations = map[string]string{iamv1alpha1.AnnotationCreatedBy: "carol"}
	create(t, markedFor("mine", secret(ns, "mine", basic("carol", "carols-pw-41"), nil)), c)
	got := waitCondition(t, ns, "mine", iamv1alpha1.ConditionReachable, fls, connection.ReasonAddressNotAllowed)
	if msg := meta.FindStatusCondition(got.Status.Conditions, iamv1alpha1.ConditionReachable).Message; !strings.Contains(msg, "resolves to 127.0.0.1") {
		t.Errorf("Reachable says %q", msg)
	}
	// AddressNotAllowed at this generation is the test's decision, taken
	// instead of dialling: the listener's silence is checked after it.
	if b, n := deputy.Received(); n != 0 {
		t.Errorf("a personal connection was tested against loopback: %d connections, %q", n, b)
	}
}

// TestSupersede: a user stores a new credential (create-only self-service);
// the operator deletes the one it replaces and says so on the User.
func TestSupersede(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	create(t, group(ns, "readers", "k8s-readers"), user(ns, "alice", "readers"), perUserConn(ns, "lake", groups("readers")),
		userSecret(ns, "lake-alice-old", "lake", "alice", basic("alice", "old-pw-1")))
	waitCredentials(t, ns, "alice", iamv1alpha1.CredentialStatus{Connection: "lake", Ready: true, Reason: iamv1alpha1.CredentialConfigured})
	time.Sleep(1100 * time.Millisecond) // creation times have a second's resolution
	create(t, userSecret(ns, "lake-alice-new", "lake", "alice", basic("alice", "new-pw-2")))
	eventually(t, "the old credential deleted", func() (bool, string) {
		var s corev1.Secret
		err := env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: "lake-alice-old"}, &s)
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	var s corev1.Secret
	if err := env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: "lake-alice-new"}, &s); err != nil {
		t.Fatalf("the new credential is gone too: %v", err)
	}
	waitEvent(t, ns, "User", "alice", connection.EventSuperseded, "replaces the one in Secret lake-alice-old")
}

// TestRBACMatchesEngine: in a random world (fixed seed) of Users, Groups,
// seats and Connections with random detailsReadableBy, the API server's own
// answer to "may U get Secret S?" (a SubjectAccessReview, as kubectl auth
// can-i asks it) equals the engine's (access.Index.DetailReaders) for every
// User and every Connection's Secret.
func TestRBACMatchesEngine(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	r := mrand.New(mrand.NewPCG(13, 7))
	objs := []client.Object{seatedLicense(ns, 5),
		group(ns, "g0", "k8s-g0"), group(ns, "g1", "k8s-g1"), group(ns, "g2", "k8s-g2")}
	var users []string
	for i := range 9 {
		u := seated(user(ns, fmt.Sprintf("u%d", i), fmt.Sprintf("g%d", r.IntN(3))))
		if r.IntN(4) == 0 {
			u.Spec.Active = ptr.To(false)
		}
		objs = append(objs, u)
		users = append(users, u.Name)
	}
	var conns []string
	for i := range 4 {
		name := fmt.Sprintf("c%d", i)
		c := globalConn(ns, name, iamv1alpha1.ConnectionType("Snowflake"), name+"-creds", nil)
		switch r.IntN(3) {
		case 0:
			c.Spec.DetailsReadableBy = &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceAll}
		case 1:
			c.Spec.DetailsReadableBy = groups(fmt.Sprintf("g%d", r.IntN(3)), fmt.Sprintf("g%d", r.IntN(3)))
			if c.Spec.DetailsReadableBy.Groups[0] == c.Spec.DetailsReadableBy.Groups[1] {
				c.Spec.DetailsReadableBy.Groups = c.Spec.DetailsReadableBy.Groups[:1]
			}
		}
		objs = append(objs, markedFor(name, secret(ns, name+"-creds", basic("svc", "pw-"+name), nil)), c)
		conns = append(conns, name)
	}
	create(t, objs...)
	eventually(t, "RBAC agrees with the engine for every user and Secret", func() (bool, string) {
		ix := op.Engine.Index(ns)
		if ix == nil {
			return false, "no index"
		}
		for _, c := range conns {
			readers := ix.DetailReaders(c)
			for _, u := range users {
				sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: u + "@example.com",
					ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: "get", Resource: "secrets", Name: c + "-creds"}}}
				if err := env.Client.Create(ctx(t), sar); err != nil {
					return false, err.Error()
				}
				if want := slices.Contains(readers, u); sar.Status.Allowed != want {
					return false, fmt.Sprintf("%s may get %s-creds: API server %v, engine %v (readers %v)", u, c, sar.Status.Allowed, want, readers)
				}
			}
		}
		return true, ""
	})
}

// TestNameTaken: issue 24's finding 4, and the upgrade. A Role and
// RoleBinding someone created under a name the Connection's access would
// take are not the operator's: it writes nothing in their place, says
// NameTaken, and the person's objects stay as they were. The objects of
// the old names that the Connection controls are deleted on upgrade, and
// its access is written under the new names.
func TestNameTaken(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	create(t, seatedLicense(ns, 5), group(ns, "readers", "k8s-readers"), seated(user(ns, "eve", "readers")),
		markedFor("lake", secret(ns, "lake-creds", basic("svc", "pw-taken-41"), nil)),
		markedFor("warehouse", secret(ns, "warehouse-creds", basic("svc", "pw-taken-42"), nil)))
	theirs := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gatehouse:connection:lake"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}}}}
	theirBinding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gatehouse:connection:lake"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: theirs.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "mallory@example.com"}}}
	create(t, theirs, theirBinding)
	conn := globalConn(ns, "lake", iamv1alpha1.ConnectionType("Snowflake"), "lake-creds", nil)
	conn.Spec.DetailsReadableBy = groups("readers")
	create(t, conn)
	c := waitCondition(t, ns, "lake", iamv1alpha1.ConditionSecretAccess, fls, iamv1alpha1.ReasonNameTaken)
	if cond := meta.FindStatusCondition(c.Status.Conditions, iamv1alpha1.ConditionSecretAccess); !strings.Contains(cond.Message, "Role gatehouse:connection:lake") {
		t.Errorf("SecretAccess says %q; want the Role named", cond.Message)
	}
	var role rbacv1.Role
	if err := env.Client.Get(ctx(t), client.ObjectKeyFromObject(theirs), &role); err != nil {
		t.Fatal(err)
	}
	if mustJSON(role.Rules) != mustJSON(theirs.Rules) || len(role.OwnerReferences) != 0 {
		t.Errorf("the person's Role was written: rules %s, owners %v", mustJSON(role.Rules), role.OwnerReferences)
	}
	var binding rbacv1.RoleBinding
	if err := env.Client.Get(ctx(t), client.ObjectKeyFromObject(theirBinding), &binding); err != nil {
		t.Fatal(err)
	}
	if mustJSON(binding.Subjects) != mustJSON(theirBinding.Subjects) || len(binding.OwnerReferences) != 0 {
		t.Errorf("the person's RoleBinding was written: subjects %s, owners %v", mustJSON(binding.Subjects), binding.OwnerReferences)
	}

	// The upgrade: a Connection's access under the old name, as the last
	// release wrote it, goes; the new name takes its place.
	old := globalConn(ns, "warehouse", iamv1alpha1.ConnectionType("Snowflake"), "warehouse-creds", nil)
	old.Spec.DetailsReadableBy = groups("readers")
	create(t, old)
	c = waitCondition(t, ns, "warehouse", iamv1alpha1.ConditionSecretAccess, tru, iamv1alpha1.ReasonProjected)
	owner := []metav1.OwnerReference{*metav1.NewControllerRef(c, iamv1alpha1.GroupVersion.WithKind("Connection"))}
	labels := map[string]string{connection.LabelManagedBy: connection.ManagedBy}
	create(t, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gatehouse-connection-warehouse", OwnerReferences: owner, Labels: labels},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}, ResourceNames: []string{"warehouse-creds"}}}})
	update(t, &iamv1alpha1.Connection{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "warehouse"}}, func(c *iamv1alpha1.Connection) {
		c.Spec.Parameters = map[string]string{"account": "x"}
	})
	eventually(t, "the Role of the old name is deleted", func() (bool, string) {
		err := env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: "gatehouse-connection-warehouse"}, &rbacv1.Role{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	if err := env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: "gatehouse:connection:warehouse"}, &rbacv1.Role{}); err != nil {
		t.Errorf("the Role of the new name: %v", err)
	}
}

// TestSupersedeSparesSecretsInUse: issue 24, finding 3. A per-user
// credential Secret that a Connection or Directory names, or that is marked
// for one, is never deleted as superseded: an Event says why it stays.
func TestSupersedeSparesSecretsInUse(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	bind := userSecret(ns, "corp-bind", "lake", "alice", basic("alice", "bind-pw-3"))
	marked := markedFor("warehouse", userSecret(ns, "lake-alice-marked", "lake", "alice", basic("alice", "marked-pw-4")))
	// The Connection that names corp-bind exists before the Secrets (the
	// operator reads it live; one created after a Secret was superseded
	// comes too late).
	create(t, group(ns, "readers", "k8s-readers"), user(ns, "alice", "readers"), perUserConn(ns, "lake", groups("readers")),
		globalConn(ns, "warehouse", iamv1alpha1.ConnectionType("Snowflake"), "corp-bind", nil))
	create(t, bind, marked)
	time.Sleep(1100 * time.Millisecond) // creation times have a second's resolution
	create(t, userSecret(ns, "lake-alice-new", "lake", "alice", basic("alice", "new-pw-5")))
	waitEvent(t, ns, "Secret", "corp-bind", connection.EventInUse, "Connection warehouse names it")
	waitEvent(t, ns, "Secret", "lake-alice-marked", connection.EventInUse, "it is marked for connection.warehouse")
	for _, name := range []string{"corp-bind", "lake-alice-marked", "lake-alice-new"} {
		if err := env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: name}, &corev1.Secret{}); err != nil {
			t.Errorf("Secret %s: %v", name, err)
		}
	}
}
