package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/controllers"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/engine"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/builders"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/operator"
)

var (
	env      *testenv.Env
	auditBuf operator.LogBuffer
	// op is the operator the tests run against, with every controller.
	op = &operator.Operator{Options: controllers.Options{MaxConcurrentReconciles: 4, Audit: audit.NewLogger(&auditBuf),
		AdminGroups: []string{adminGroup}}}
)

// auditRecords returns the audit records of a namespace.
func auditRecords(ns string) []map[string]any {
	var out []map[string]any
	for _, l := range strings.Split(auditBuf.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["namespace"] == ns {
			out = append(out, m)
		}
	}
	return out
}

// adminGroup is the administrator group the controllers are configured
// with (--admin-groups).
const adminGroup = "gatehouse-admins"

func TestMain(m *testing.M) { os.Exit(testenv.Run(m, &env, op.Start)) }

// Builders.

func ctx(t *testing.T) context.Context { return testenv.Context(t, 2*time.Minute) }

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

// The builders of internal/testenv/builders, by their short names.
var (
	license = builders.License
	profile = builders.Profile
	user    = builders.User
	group   = builders.Group
	share   = builders.Share
	to      = builders.To
	grant   = builders.Grant
)

func getUser(t *testing.T, ns, name string) *iamv1alpha1.User {
	t.Helper()
	var u iamv1alpha1.User
	if err := env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: name}, &u); err != nil {
		t.Fatalf("cannot read user %s: %v", name, err)
	}
	return &u
}

// waitUser waits until the user's status satisfies cond.
func waitUser(t *testing.T, ns, name string, what string, cond func(*iamv1alpha1.User) bool) *iamv1alpha1.User {
	t.Helper()
	var u *iamv1alpha1.User
	eventually(t, name+": "+what, func() (bool, string) {
		u = getUser(t, ns, name)
		b, _ := json.Marshal(u.Status)
		return cond(u), string(b)
	})
	return u
}

func access1(u *iamv1alpha1.User, res string) *iamv1alpha1.ResourceAccess {
	for i := range u.Status.Resources {
		r := &u.Status.Resources[i]
		if string(r.Type)+"/"+r.Name == res {
			return r
		}
	}
	return nil
}

func roleOn(res string, role iamv1alpha1.Role) func(*iamv1alpha1.User) bool {
	return func(u *iamv1alpha1.User) bool {
		a := access1(u, res)
		return a != nil && a.Role == role
	}
}

func seat(s iamv1alpha1.SeatState) func(*iamv1alpha1.User) bool {
	return func(u *iamv1alpha1.User) bool { return u.Status.Seat == s }
}

// snapshot reads a namespace as the engine sees it.
func snapshot(t *testing.T, ns string) access.Snapshot {
	t.Helper()
	snap, err := engine.ReadSnapshot(ctx(t), env.Client, ns, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// consistent waits until every status of the namespace is what a full
// Compute of its objects gives.
func consistent(t *testing.T, ns string) {
	t.Helper()
	eventually(t, "statuses equal a fresh Compute", func() (bool, string) {
		snap := snapshot(t, ns)
		res := access.Compute(snap)
		for _, u := range snap.Users {
			want := res.Users[u.Name].Status()
			got := u.Status
			if got.Seat != want.Seat || !equality.Semantic.DeepEqual(got.Groups, want.Groups) ||
				!equality.Semantic.DeepEqual(got.GlobalPermissions, want.GlobalPermissions) ||
				!equality.Semantic.DeepEqual(got.Resources, want.Resources) || got.ResourceCount != want.ResourceCount ||
				got.ObservedGeneration != u.Generation {
				return false, "user " + u.Name + " differs"
			}
		}
		for _, g := range snap.Groups {
			if g.Status.Members != res.GroupMembers[g.Name] || g.Status.ObservedGeneration != g.Generation {
				return false, fmt.Sprintf("group %s has %d members, want %d", g.Name, g.Status.Members, res.GroupMembers[g.Name])
			}
		}
		for _, s := range snap.Shares {
			if s.Status.Users != res.Shares[s.Name].Users || s.Status.ObservedGeneration != s.Generation {
				return false, fmt.Sprintf("share %s reaches %d, want %d", s.Name, s.Status.Users, res.Shares[s.Name].Users)
			}
		}
		for _, g := range snap.ResourceGrants {
			if g.Status.Users != res.Grants[g.Name].Users || g.Status.ObservedGeneration != g.Generation {
				return false, fmt.Sprintf("grant %s reaches %d, want %d", g.Name, g.Status.Users, res.Grants[g.Name].Users)
			}
		}
		if snap.License != nil && !equality.Semantic.DeepEqual(snap.License.Status.Profiles, res.Profiles) {
			return false, fmt.Sprintf("license profiles %+v, want %+v", snap.License.Status.Profiles, res.Profiles)
		}
		return true, ""
	})
}

// events returns the notes of the Events of one reason on one object.
func events(t *testing.T, ns, kind, name, reason string) []string {
	t.Helper()
	var list eventsv1.EventList
	if err := env.Client.List(ctx(t), &list, client.InNamespace(ns)); err != nil {
		t.Fatalf("cannot list events: %v", err)
	}
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Kind == kind && e.Regarding.Name == name && e.Reason == reason {
			out = append(out, e.Note)
		}
	}
	slices.Sort(out)
	return out
}

// waitEvent waits for an Event whose note contains text.
func waitEvent(t *testing.T, ns, kind, name, reason, text string) {
	t.Helper()
	eventually(t, fmt.Sprintf("%s Event on %s %s", reason, kind, name), func() (bool, string) {
		notes := events(t, ns, kind, name, reason)
		for _, n := range notes {
			if strings.Contains(n, text) {
				return true, ""
			}
		}
		return false, fmt.Sprintf("notes %q", notes)
	})
}

// counter reads a counter of the controllers' metrics registry.
func counter(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatalf("cannot gather metrics: %v", err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue metrics
				}
			}
			total += m.GetCounter().GetValue()
		}
	}
	return total
}

// quiet waits until a counter stops moving for a while.
func quiet(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	last := counter(t, name, labels)
	stable := time.Now()
	for time.Since(stable) < 700*time.Millisecond {
		time.Sleep(100 * time.Millisecond)
		if v := counter(t, name, labels); v != last {
			last, stable = v, time.Now()
		}
	}
	return last
}
