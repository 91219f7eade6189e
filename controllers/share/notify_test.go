package share_test

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/controllers/share"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/builders"
)

var to = builders.To

// sharedEvents returns the Shared Events on one object of a kind.
func sharedEvents(t *testing.T, ns, kind, name string) []eventsv1.Event {
	t.Helper()
	var list eventsv1.EventList
	if err := env.Client.List(testenv.Context(t, time.Minute), &list, client.InNamespace(ns)); err != nil {
		t.Fatalf("cannot list events: %v", err)
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Kind == kind && e.Regarding.Name == name && e.Reason == share.EventShared {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b eventsv1.Event) int { return a.EventTime.Compare(b.EventTime.Time) })
	return out
}

// notes are the notes of Events, with how often each was recorded (an
// Event recorded again within minutes becomes a series, not a new Event).
func notes(evs []eventsv1.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Note
		if e.Series != nil {
			out[i] += fmt.Sprintf(" (x%d)", e.Series.Count)
		}
	}
	return out
}

// waitShared waits until the User has exactly n Shared Events, recorded
// once each, and returns their notes, oldest first.
func waitShared(t *testing.T, ns, name string, n int) []string {
	t.Helper()
	var got []string
	testenv.Eventually(t, 30*time.Second, fmt.Sprintf("%d Shared Events on User %s", n, name), func() (bool, string) {
		evs := sharedEvents(t, ns, "User", name)
		got = notes(evs)
		for _, e := range evs {
			if e.Series != nil {
				return false, fmt.Sprintf("recorded more than once: %q", got)
			}
		}
		return len(evs) == n, fmt.Sprintf("%q", got)
	})
	return got
}

func getShare(t *testing.T, ns, name string) *iamv1alpha1.Share {
	t.Helper()
	var s iamv1alpha1.Share
	if err := env.Client.Get(testenv.Context(t, time.Minute), client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
		t.Fatalf("cannot read share %s: %v", name, err)
	}
	return &s
}

// waitNotified waits until the Share's record of notified users is want.
func waitNotified(t *testing.T, ns, name string, want ...string) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, fmt.Sprintf("share %s notified %v", name, want), func() (bool, string) {
		s := getShare(t, ns, name)
		return slices.Equal(s.Status.NotifiedUsers, want) && s.Status.NotifiedGeneration == s.Generation,
			fmt.Sprintf("notifiedUsers %v at generation %d of %d", s.Status.NotifiedUsers, s.Status.NotifiedGeneration, s.Generation)
	})
}

// sentinels numbers the sentinel Events of stillOne.
var sentinels atomic.Int64

// stillOne checks that the User has exactly the Shared Events want, once a
// sentinel Event sent after the reconciles under test, through the
// manager's Event broadcaster that carries the Share controller's, has
// arrived: a wrong Event those reconciles emitted was sent before it.
func stillOne(t *testing.T, ns, name string, want []string) {
	t.Helper()
	var u iamv1alpha1.User
	if err := env.Client.Get(testenv.Context(t, time.Minute), client.ObjectKey{Namespace: ns, Name: name}, &u); err != nil {
		t.Fatalf("cannot read user %s: %v", name, err)
	}
	// Each its own action: Events that differ only in their note would
	// become one series.
	n := sentinels.Add(1)
	note, action := fmt.Sprintf("sentinel %d", n), fmt.Sprintf("Sentinel%d", n)
	op.Manager.GetEventRecorder("gatehouse-test").Eventf(&u, nil, corev1.EventTypeNormal, "TestSentinel", action, "%s", note)
	testenv.Eventually(t, 30*time.Second, "the "+note+" Event on "+name, func() (bool, string) {
		var list eventsv1.EventList
		if err := env.Client.List(testenv.Context(t, time.Minute), &list, client.InNamespace(ns)); err != nil {
			return false, err.Error()
		}
		for _, e := range list.Items {
			if e.Regarding.Name == name && e.Reason == "TestSentinel" && e.Action == action {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d Events", len(list.Items))
	})
	if got := notes(sharedEvents(t, ns, "User", name)); !slices.Equal(got, want) {
		t.Errorf("Shared Events on %s: %q, want %q", name, got, want)
	}
}

// TestNoteReachesNewGrantees (seed 002: the Share's note is included in the
// notification): a new User grantee gets one Shared Event on its User
// naming the resource, the role and the note; reconciling again, by the
// running operator or by a restarted one, tells it nothing more; removed
// and added again, it is told again; a group is never told, nor is a name
// that is no User until its User exists.
func TestNoteReachesNewGrantees(t *testing.T) {
	ns := env.Namespace(t)
	env.Create(t, &iamv1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns},
		Spec: iamv1alpha1.LicenseSpec{Profiles: []iamv1alpha1.Profile{{Name: "full", Seats: 10}}}},
		&iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: "analysts", Namespace: ns}},
		builders.User(ns, "alice", "full"), builders.User(ns, "bob", "full"), builders.User(ns, "carol", "full", "analysts"))
	const note = "Quarterly numbers, \"final\"; ping me before\nsharing further"
	env.Create(t, &iamv1alpha1.Share{ObjectMeta: metav1.ObjectMeta{Name: "sales", Namespace: ns},
		Spec: iamv1alpha1.ShareSpec{Resource: iamv1alpha1.ResourceRef{Type: "dataset", Name: "sales"}, Note: note,
			Grantees: []iamv1alpha1.Grantee{to("User", "alice", "Owner"), to("User", "bob", "Editor"),
				to("Group", "analysts", "Consumer"), to("User", "zoe", "Consumer")}}})

	waitNotified(t, ns, "sales", "alice", "bob")
	want := `Share sales gives you Editor on dataset/sales: "Quarterly numbers, \"final\"; ping me before\nsharing further"`
	bob := waitShared(t, ns, "bob", 1)
	if bob[0] != want {
		t.Errorf("bob's Event says %q, want %q", bob[0], want)
	}
	alice := waitShared(t, ns, "alice", 1)
	if !strings.Contains(alice[0], "gives you Owner on dataset/sales") {
		t.Errorf("alice's Event says %q", alice[0])
	}
	evs := sharedEvents(t, ns, "User", "bob")
	if r := evs[0].Related; r == nil || r.Kind != "Share" || r.Name != "sales" {
		t.Errorf("bob's Event is related to %+v, want the Share", r)
	}
	if evs[0].Type != "Normal" {
		t.Errorf("bob's Event is of type %s, want Normal", evs[0].Type)
	}

	// Nothing changed: neither the running operator, rechecking after a
	// write of no consequence, nor a restarted one (a new reconciler with
	// nothing in memory) tells anyone again.
	testenv.Update(t, env.Client, getShare(t, ns, "sales"), func(s *iamv1alpha1.Share) {
		s.Annotations = map[string]string{"touched": "yes"}
	})
	restarted := &share.Reconciler{Client: op.Manager.GetClient(), Engine: op.Engine, Recorder: op.Manager.GetEventRecorder("gatehouse-share")}
	for range 2 {
		if _, err := restarted.Reconcile(testenv.Context(t, time.Minute), reconcile.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: "sales"}}); err != nil {
			t.Fatal(err)
		}
	}
	stillOne(t, ns, "bob", []string{want})
	stillOne(t, ns, "alice", alice)
	// Groups, their members and names that are no User are not told.
	for _, o := range []struct{ kind, name string }{{"Group", "analysts"}, {"User", "carol"}, {"User", "zoe"}} {
		if got := sharedEvents(t, ns, o.kind, o.name); len(got) > 0 {
			t.Errorf("Shared Events on %s %s: %q", o.kind, o.name, notes(got))
		}
	}

	// bob removed, then added again with another role and note: told
	// again.
	testenv.Update(t, env.Client, getShare(t, ns, "sales"), func(s *iamv1alpha1.Share) {
		s.Spec.Grantees = slices.DeleteFunc(s.Spec.Grantees, func(g iamv1alpha1.Grantee) bool { return g.Name == "bob" })
	})
	waitNotified(t, ns, "sales", "alice")
	testenv.Update(t, env.Client, getShare(t, ns, "sales"), func(s *iamv1alpha1.Share) {
		s.Spec.Grantees = append(s.Spec.Grantees, to("User", "bob", "Consumer"))
		s.Spec.Note = ""
	})
	waitNotified(t, ns, "sales", "alice", "bob")
	if got := waitShared(t, ns, "bob", 2); got[1] != "Share sales gives you Consumer on dataset/sales." {
		t.Errorf("bob's second Event says %q", got[1])
	}

	// zoe's User appears: she is told then, once.
	env.Create(t, builders.User(ns, "zoe", "full"))
	waitNotified(t, ns, "sales", "alice", "bob", "zoe")
	if got := waitShared(t, ns, "zoe", 1); !strings.Contains(got[0], "gives you Consumer on dataset/sales") {
		t.Errorf("zoe's Event says %q", got[0])
	}
	// alice stayed a grantee throughout: told once.
	stillOne(t, ns, "alice", alice)
}
