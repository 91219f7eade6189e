package directory_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/controllers"
	"github.com/gatehouse-dev/gatehouse/controllers/directory"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/ldaptest"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/operator"
)

var (
	env *testenv.Env
	// logs is the manager's log, every level.
	logs operator.LogBuffer
	// op runs every controller and the Directory controller.
	op = &operator.Operator{QPS: 1000, Burst: 2000, Logger: funcr.New(logs.Line, funcr.Options{Verbosity: 10}),
		Options: controllers.Options{MaxConcurrentReconciles: 4, Directory: directory.Options{
			BackoffBase: 200 * time.Millisecond, BackoffMax: 2 * time.Second, Writers: 8,
		}}}
)

func TestMain(m *testing.M) { os.Exit(testenv.Run(m, &env, op.Start)) }

// Builders and helpers.

func tctx(t testing.TB) context.Context { return testenv.Context(t, 2*time.Minute) }

func create(t *testing.T, objs ...client.Object) { env.Create(t, objs...) }

// update changes an object with retries on conflict.
func update[T client.Object](t *testing.T, obj T, change func(T)) {
	testenv.Update(t, env.Client, obj, change)
}

// eventually polls until cond holds, and fails with the last explanation.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	testenv.Eventually(t, 45*time.Second, what, cond)
}

const (
	peBase     = "ou=people,dc=planetexpress,dc=com"
	bindSecret = "ldap-bind"
)

// planetExpress starts a slapd with the Planet Express tree.
func planetExpress(t *testing.T) *ldaptest.Server {
	t.Helper()
	dir, err := ldaptest.PlanetExpressDir()
	if err != nil {
		t.Fatal(err)
	}
	tree, err := ldaptest.PlanetExpress(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ldaptest.Start(t, tree)
}

// peDirectory is a Directory of the Planet Express tree at url, provisioning
// All, with the bind Secret created.
func peDirectory(t *testing.T, ns, url string) *iamv1alpha1.Directory {
	t.Helper()
	createSecret(t, ns, bindSecret, ldaptest.PlanetExpressAdminPassword, "pe")
	return &iamv1alpha1.Directory{
		ObjectMeta: metav1.ObjectMeta{Name: "pe", Namespace: ns},
		Spec: iamv1alpha1.DirectorySpec{
			URL: url,
			// The test servers listen on loopback; TestPlaintextBind checks
			// that without this the password is never sent.
			AllowPlaintextBind:    strings.HasPrefix(url, "ldap://"),
			BindDN:                ldaptest.PlanetExpressAdminDN,
			BindPasswordSecretRef: &iamv1alpha1.SecretKeySelector{Name: bindSecret, Key: "password"},
			Users:                 iamv1alpha1.DirectoryUsers{BaseDN: peBase},
			Groups:                &iamv1alpha1.DirectoryGroups{BaseDN: peBase},
			Provisioning:          iamv1alpha1.ProvisioningAll,
		},
	}
}

// exampleDirectory is a Directory of a tree below ldaptest.DefaultSuffix
// (people and groups OUs), provisioning All.
func exampleDirectory(t *testing.T, ns string, s *ldaptest.Server, url string) *iamv1alpha1.Directory {
	t.Helper()
	createSecret(t, ns, bindSecret, s.AdminPassword, "example")
	return &iamv1alpha1.Directory{
		ObjectMeta: metav1.ObjectMeta{Name: "example", Namespace: ns},
		Spec: iamv1alpha1.DirectorySpec{
			URL:                   url,
			AllowPlaintextBind:    strings.HasPrefix(url, "ldap://"),
			BindDN:                s.AdminDN,
			BindPasswordSecretRef: &iamv1alpha1.SecretKeySelector{Name: bindSecret, Key: "password"},
			Users:                 iamv1alpha1.DirectoryUsers{BaseDN: ldaptest.People(s.Suffix)},
			Groups:                &iamv1alpha1.DirectoryGroups{BaseDN: ldaptest.Groups(s.Suffix)},
			Provisioning:          iamv1alpha1.ProvisioningAll,
		},
	}
}

// createSecret creates a bind password Secret marked for Directory dir.
func createSecret(t *testing.T, ns, name, password, dir string) {
	t.Helper()
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns,
		Labels: map[string]string{iamv1alpha1.LabelCredentialFor: "directory." + dir}}, Data: map[string][]byte{"password": []byte(password)}})
}

func getDir(t *testing.T, ns, name string) *iamv1alpha1.Directory {
	t.Helper()
	var d iamv1alpha1.Directory
	if err := env.Client.Get(tctx(t), client.ObjectKey{Namespace: ns, Name: name}, &d); err != nil {
		t.Fatalf("cannot read directory %s: %v", name, err)
	}
	return &d
}

// waitDir waits until the Directory satisfies cond.
func waitDir(t *testing.T, ns, name, what string, cond func(*iamv1alpha1.Directory) bool) *iamv1alpha1.Directory {
	t.Helper()
	var d *iamv1alpha1.Directory
	eventually(t, "directory "+name+": "+what, func() (bool, string) {
		d = getDir(t, ns, name)
		b, _ := json.Marshal(d.Status)
		return cond(d), string(b)
	})
	return d
}

// cond is a Directory condition check.
func cond(typ string, status metav1.ConditionStatus, reason string) func(*iamv1alpha1.Directory) bool {
	return func(d *iamv1alpha1.Directory) bool {
		c := meta.FindStatusCondition(d.Status.Conditions, typ)
		return c != nil && c.Status == status && (reason == "" || c.Reason == reason) && c.ObservedGeneration == d.Generation
	}
}

func condition(d *iamv1alpha1.Directory, typ string) metav1.Condition {
	if c := meta.FindStatusCondition(d.Status.Conditions, typ); c != nil {
		return *c
	}
	return metav1.Condition{}
}

// synced waits for a successful sync of the current generation.
func synced(t *testing.T, ns, name string) *iamv1alpha1.Directory {
	t.Helper()
	return waitDir(t, ns, name, "synced", func(d *iamv1alpha1.Directory) bool {
		return cond(iamv1alpha1.ConditionReady, metav1.ConditionTrue, "")(d) && d.Status.ObservedGeneration == d.Generation
	})
}

var syncCounter atomic.Int64

// syncNow asks for a sync with a new sync-now value and waits until it ran.
func syncNow(t *testing.T, ns, name string) *iamv1alpha1.Directory {
	t.Helper()
	v := fmt.Sprintf("t%d", syncCounter.Add(1))
	update(t, &iamv1alpha1.Directory{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}, func(d *iamv1alpha1.Directory) {
		if d.Annotations == nil {
			d.Annotations = map[string]string{}
		}
		d.Annotations[iamv1alpha1.AnnotationSyncNow] = v
	})
	return waitDir(t, ns, name, "sync-now "+v+" handled", func(d *iamv1alpha1.Directory) bool { return d.Status.SyncNowHandled == v })
}

func users(t *testing.T, ns string) map[string]iamv1alpha1.User {
	t.Helper()
	var list iamv1alpha1.UserList
	if err := env.Client.List(tctx(t), &list, client.InNamespace(ns)); err != nil {
		t.Fatalf("cannot list users: %v", err)
	}
	out := map[string]iamv1alpha1.User{}
	for _, u := range list.Items {
		out[u.Name] = u
	}
	return out
}

func getUser(t *testing.T, ns, name string) *iamv1alpha1.User {
	t.Helper()
	var u iamv1alpha1.User
	if err := env.Client.Get(tctx(t), client.ObjectKey{Namespace: ns, Name: name}, &u); err != nil {
		t.Fatalf("cannot read user %s: %v", name, err)
	}
	return &u
}

// waitUser waits until the user satisfies cond.
func waitUser(t *testing.T, ns, name, what string, cond func(*iamv1alpha1.User) bool) *iamv1alpha1.User {
	t.Helper()
	var u *iamv1alpha1.User
	eventually(t, "user "+name+": "+what, func() (bool, string) {
		var got iamv1alpha1.User
		if err := env.Client.Get(tctx(t), client.ObjectKey{Namespace: ns, Name: name}, &got); err != nil {
			return false, err.Error()
		}
		u = &got
		b, _ := json.Marshal(u)
		return cond(u), string(b)
	})
	return u
}

func names(us map[string]iamv1alpha1.User) []string {
	var out []string
	for n := range us {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// events returns the Events of a namespace, as "Kind/name Type Reason: note".
func events(t *testing.T, ns string) []string {
	t.Helper()
	var list eventsv1.EventList
	if err := env.Client.List(tctx(t), &list, client.InNamespace(ns)); err != nil {
		t.Fatalf("cannot list events: %v", err)
	}
	var out []string
	for _, e := range list.Items {
		out = append(out, fmt.Sprintf("%s/%s %s %s: %s", e.Regarding.Kind, e.Regarding.Name, e.Type, e.Reason, e.Note))
	}
	slices.Sort(out)
	return out
}

// waitEvent waits for an Event whose line contains every text.
func waitEvent(t *testing.T, ns string, texts ...string) {
	t.Helper()
	eventually(t, fmt.Sprintf("an Event with %q", texts), func() (bool, string) {
		evs := events(t, ns)
	next:
		for _, e := range evs {
			for _, text := range texts {
				if !strings.Contains(e, text) {
					continue next
				}
			}
			return true, ""
		}
		return false, strings.Join(evs, "\n")
	})
}

// metric sums the values of a metric family over the series with labels.
func metric(t *testing.T, name string, labels map[string]string) (sum float64, found bool) {
	t.Helper()
	mfs, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatalf("cannot gather metrics: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue series
				}
			}
			found = true
			switch {
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				sum += m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				sum += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return sum, found
}

// waitGroup waits until the Group satisfies cond.
func waitGroup(t *testing.T, ns, name, what string, cond func(*iamv1alpha1.Group) bool) {
	t.Helper()
	eventually(t, "group "+name+": "+what, func() (bool, string) {
		var g iamv1alpha1.Group
		if err := env.Client.Get(tctx(t), client.ObjectKey{Namespace: ns, Name: name}, &g); err != nil {
			return false, err.Error()
		}
		b, _ := json.Marshal(g.Status)
		return cond(&g), string(b)
	})
}

func groupReady(g *iamv1alpha1.Group) metav1.Condition {
	if c := meta.FindStatusCondition(g.Status.Conditions, iamv1alpha1.ConditionReady); c != nil {
		return *c
	}
	return metav1.Condition{}
}

// rawStatus is a Directory's status as the API server stores it.
func rawStatus(t *testing.T, ns, name string) map[string]any {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(iamv1alpha1.GroupVersion.WithKind("Directory"))
	if err := env.Client.Get(tctx(t), client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		t.Fatalf("cannot read directory %s: %v", name, err)
	}
	st, _ := u.Object["status"].(map[string]any)
	return st
}
