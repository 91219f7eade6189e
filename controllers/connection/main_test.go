package connection_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/controllers"
	"github.com/gatehouse-dev/gatehouse/controllers/connection"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/builders"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/dbtest"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/operator"
)

var (
	env *testenv.Env
	// logs captures every log line of the manager, at every verbosity.
	logs operator.LogBuffer
	// op runs the manager as cmd/manager does, with the Connection
	// controllers and their cache restriction, logging everything into logs.
	op = &operator.Operator{Logger: logger, ByObject: connection.CacheByObject(), Options: controllers.Options{
		MaxConcurrentReconciles: 2, Connection: connection.Options{TestTimeout: 3 * time.Second}}}
)

// logger writes into logs at every verbosity.
var logger = funcr.New(logs.Line, funcr.Options{Verbosity: 10})

func TestMain(m *testing.M) {
	// Before testenv, whose own SetLogger then has no effect: what logs
	// through the global logger is captured too.
	ctrl.SetLogger(logger)
	// The database servers start while the control plane does.
	dbtest.StartShared(dbtest.PostgreSQL, dbtest.MariaDB)
	os.Exit(dbtest.StopShared(testenv.Run(m, &env, op.Start)))
}

// server returns the shared database server of kind, skipping the test when
// it cannot be installed (failing with CI=true).
func server(t *testing.T, kind dbtest.Kind) *dbtest.Server { return dbtest.Shared(t, kind) }

// Builders.

func ctx(t *testing.T) context.Context { return testenv.Context(t, time.Minute) }

func create(t *testing.T, objs ...client.Object) { env.Create(t, objs...) }

// update changes an object with retries on conflict.
func update[T client.Object](t *testing.T, obj T, change func(T)) {
	testenv.Update(t, env.Client, obj, change)
}

// eventually polls until cond holds, and fails with the last explanation.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, what, cond)
}

var secret = builders.Secret

func basic(user, password string) map[string]string {
	return map[string]string{"username": user, "password": password}
}

func userSecret(ns, name, conn, user string, data map[string]string) *corev1.Secret {
	return secret(ns, name, data, map[string]string{iamv1alpha1.LabelConnection: conn, iamv1alpha1.LabelUser: user})
}

func globalConn(ns, name string, typ iamv1alpha1.ConnectionType, secretName string, params map[string]string) *iamv1alpha1.Connection {
	return &iamv1alpha1.Connection{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: iamv1alpha1.ConnectionSpec{
		Type: typ, Parameters: params,
		Credentials: iamv1alpha1.ConnectionCredentials{Mode: iamv1alpha1.CredentialModeGlobal, SecretRef: &iamv1alpha1.LocalSecretReference{Name: secretName}},
	}}
}

func perUserConn(ns, name string, usableBy *iamv1alpha1.Audience) *iamv1alpha1.Connection {
	return &iamv1alpha1.Connection{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: iamv1alpha1.ConnectionSpec{
		Type:        iamv1alpha1.ConnectionPostgreSQL,
		Parameters:  map[string]string{"host": "db.example.com"},
		Credentials: iamv1alpha1.ConnectionCredentials{Mode: iamv1alpha1.CredentialModePerUser, Type: iamv1alpha1.CredentialBasic},
		UsableBy:    usableBy,
	}}
}

func groups(names ...string) *iamv1alpha1.Audience {
	return &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceGroups, Groups: names}
}

// user is a User of the profile full whose requests carry name@example.com.
func user(ns, name string, groups ...string) *iamv1alpha1.User {
	u := builders.User(ns, name, "full", groups...)
	u.Spec.KubernetesUsername = name + "@example.com"
	return u
}

func group(ns, name, kubernetesGroup string) *iamv1alpha1.Group {
	return &iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: iamv1alpha1.GroupSpec{KubernetesGroup: kubernetesGroup}}
}

// waitCondition waits until the Connection's condition typ has status and
// reason, and returns the Connection.
func waitCondition(t *testing.T, ns, name, typ string, st metav1.ConditionStatus, reason string) *iamv1alpha1.Connection {
	t.Helper()
	var c iamv1alpha1.Connection
	eventually(t, fmt.Sprintf("connection %s: %s=%s (%s)", name, typ, st, reason), func() (bool, string) {
		if err := env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: name}, &c); err != nil {
			return false, err.Error()
		}
		cond := meta.FindStatusCondition(c.Status.Conditions, typ)
		b, _ := json.Marshal(c.Status)
		return cond != nil && cond.Status == st && cond.Reason == reason && cond.ObservedGeneration == c.Generation, string(b)
	})
	return &c
}

// waitCredentials waits until the user's status.credentials equal want
// (connection, ready, reason; message containing the given text).
func waitCredentials(t *testing.T, ns, name string, want ...iamv1alpha1.CredentialStatus) *iamv1alpha1.User {
	t.Helper()
	var u iamv1alpha1.User
	eventually(t, "credentials of user "+name, func() (bool, string) {
		if err := env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: name}, &u); err != nil {
			return false, err.Error()
		}
		b, _ := json.Marshal(u.Status.Credentials)
		if len(u.Status.Credentials) != len(want) {
			return false, string(b)
		}
		for i, w := range want {
			g := u.Status.Credentials[i]
			if g.Connection != w.Connection || g.Ready != w.Ready || g.Reason != w.Reason || !strings.Contains(g.Message, w.Message) {
				return false, string(b)
			}
		}
		return true, ""
	})
	return &u
}

// events returns the Events of a namespace.
func events(t *testing.T, ns string) []eventsv1.Event {
	t.Helper()
	var list eventsv1.EventList
	if err := env.Client.List(ctx(t), &list, client.InNamespace(ns)); err != nil {
		t.Fatalf("cannot list events: %v", err)
	}
	return list.Items
}

// waitEvent waits for an Event of reason on the named object whose note
// contains text.
func waitEvent(t *testing.T, ns, kind, name, reason, text string) {
	t.Helper()
	eventually(t, fmt.Sprintf("%s Event on %s %s", reason, kind, name), func() (bool, string) {
		var notes []string
		for _, e := range events(t, ns) {
			if e.Regarding.Kind == kind && e.Regarding.Name == name && e.Reason == reason {
				if strings.Contains(e.Note, text) {
					return true, ""
				}
				notes = append(notes, e.Note)
			}
		}
		return false, fmt.Sprintf("notes %q", notes)
	})
}

// as returns a client that impersonates a Kubernetes user in groups.
func as(t *testing.T, name string, groups ...string) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: name, Groups: groups}
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
