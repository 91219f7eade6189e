package engine

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllertest"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/scheme"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/builders"
)

// The engine's tests run on fake informers (controllertest.FakeInformer,
// whose events reach the handlers synchronously), a fake client standing
// for the informers' stores and a fake
// clock: no API server.

const ns = "team"

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fakeCache is the informers and their stores.
type fakeCache struct {
	client.Client
	informers map[reflect.Type]*controllertest.FakeInformer

	mu sync.Mutex
	// failList makes the next lists of a list type fail.
	failList map[reflect.Type]int
	// lockFree, when set, fails the test if a list runs under the
	// engine's lock (valid only while no other goroutine takes it).
	lockFree func()
}

func newFakeCache(_ *testing.T) *fakeCache {
	b := fake.NewClientBuilder().WithScheme(scheme.New())
	return &fakeCache{Client: b.Build(), informers: map[reflect.Type]*controllertest.FakeInformer{}, failList: map[reflect.Type]int{}}
}

func (f *fakeCache) GetInformer(_ context.Context, obj client.Object, _ ...cache.InformerGetOption) (cache.Informer, error) {
	return f.informer(obj), nil
}

func (f *fakeCache) informer(obj client.Object) *controllertest.FakeInformer {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := reflect.TypeOf(obj)
	if f.informers[t] == nil {
		f.informers[t] = controllertest.NewFakeInformer(controllertest.Synced)
	}
	return f.informers[t]
}

func (f *fakeCache) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	f.mu.Lock()
	check := f.lockFree
	t := reflect.TypeOf(list)
	fail := f.failList[t] > 0
	if fail {
		f.failList[t]--
	}
	f.mu.Unlock()
	if check != nil {
		check()
	}
	if fail {
		return errors.New("injected list failure")
	}
	return f.Client.List(ctx, list, opts...)
}

// recQueue records what the engine enqueues.
type recQueue struct {
	Queue
	mu   sync.Mutex
	reqs []reconcile.Request
}

func (q *recQueue) Add(r reconcile.Request) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.reqs = append(q.reqs, r)
}

// len returns how many requests were enqueued since the last take.
func (q *recQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.reqs)
}

// take returns the distinct names enqueued since the last take, sorted.
func (q *recQueue) take() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []string
	for _, r := range q.reqs {
		if !slices.Contains(out, r.Name) {
			out = append(out, r.Name)
		}
	}
	q.reqs = nil
	slices.Sort(out)
	return out
}

// fixture is an engine on a fake cache, with a queue per controller.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	c      *fakeCache
	clk    *clocktesting.FakeClock
	e      *Engine
	queues map[access.Kind]*recQueue
}

// controlled are the kinds whose controllers the engine feeds.
var controlled = []access.Kind{access.KindUser, access.KindGroup, access.KindLicense, access.KindShare, access.KindResourceGrant}

func newFixture(t *testing.T) *fixture {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c := newFakeCache(t)
	clk := clocktesting.NewFakeClock(epoch)
	f := &fixture{t: t, ctx: ctx, c: c, clk: clk, e: newEngine(c, logr.Discard(), Options{Clock: clk, ResyncPeriod: time.Minute}),
		queues: map[access.Kind]*recQueue{}}
	for _, k := range kinds {
		c.informer(k.obj)
	}
	return f
}

// startSources starts the controllers' sources.
func (f *fixture) startSources() {
	for _, k := range controlled {
		q := &recQueue{}
		f.queues[k] = q
		if err := f.e.Source(k).Start(f.ctx, q); err != nil {
			f.t.Fatal(err)
		}
	}
}

// follow registers the handlers and builds the Indexes, as Start does
// before its loops.
func (f *fixture) follow() {
	if err := f.e.follow(f.ctx); err != nil {
		f.t.Fatal(err)
	}
}

// handlers registers the engine's handlers, as Start does first.
func (f *fixture) handlers() {
	if _, err := f.e.handlersFor(f.ctx); err != nil {
		f.t.Fatal(err)
	}
}

// take returns what was enqueued for each kind since the last take (kinds
// with nothing left out).
func (f *fixture) take() map[access.Kind][]string {
	out := map[access.Kind][]string{}
	for k, q := range f.queues {
		if got := q.take(); len(got) > 0 {
			out[k] = got
		}
	}
	return out
}

func (f *fixture) expect(what string, want map[access.Kind][]string) {
	f.t.Helper()
	if want == nil {
		want = map[access.Kind][]string{}
	}
	if d := cmp.Diff(want, f.take()); d != "" {
		f.t.Errorf("%s enqueued (-want +got):\n%s", what, d)
	}
}

// eventually waits (in real time: the loops run in goroutines) until cond
// holds.
func (f *fixture) eventually(what string, cond func() bool) {
	f.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	f.t.Fatalf("%s: not within 5s", what)
}

// stored returns the fake store's copy of obj (with its resourceVersion).
func (f *fixture) stored(obj client.Object) client.Object {
	out := obj.DeepCopyObject().(client.Object)
	if err := f.c.Get(f.ctx, client.ObjectKeyFromObject(obj), out); err != nil {
		f.t.Fatal(err)
	}
	return out
}

// create stores obj and, unless quiet (an event lost), tells the informer.
func (f *fixture) create(obj client.Object, quiet bool) client.Object {
	f.t.Helper()
	obj.SetNamespace(ns)
	if obj.GetUID() == "" {
		obj.SetUID(types.UID(obj.GetName() + "-uid"))
	}
	if obj.GetGeneration() == 0 {
		obj.SetGeneration(1)
	}
	if err := f.c.Create(f.ctx, obj); err != nil {
		f.t.Fatal(err)
	}
	s := f.stored(obj)
	if !quiet {
		f.c.informer(obj).Add(s)
	}
	return s
}

// update changes the stored obj with change (a spec change bumps the
// generation) and, unless quiet, tells the informer.
func (f *fixture) update(obj client.Object, spec, quiet bool, change func(client.Object)) client.Object {
	f.t.Helper()
	old := f.stored(obj)
	n := old.DeepCopyObject().(client.Object)
	change(n)
	if spec {
		n.SetGeneration(old.GetGeneration() + 1)
	}
	if err := f.c.Update(f.ctx, n); err != nil {
		f.t.Fatal(err)
	}
	n = f.stored(n)
	if !quiet {
		f.c.informer(obj).Update(old, n)
	}
	return n
}

func (f *fixture) delete(obj client.Object, quiet bool) {
	f.t.Helper()
	old := f.stored(obj)
	if err := f.c.Delete(f.ctx, old); err != nil {
		f.t.Fatal(err)
	}
	if !quiet {
		f.c.informer(obj).Delete(old)
	}
}

// Builders.

// user is a User created at epoch (its namespace is set where it is
// stored).
func user(name, profile string, groups ...string) *iamv1alpha1.User {
	u := builders.User("", name, profile, groups...)
	u.CreationTimestamp = metav1.NewTime(epoch)
	return u
}

func group(name string, ldap ...string) *iamv1alpha1.Group {
	return &iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: iamv1alpha1.GroupSpec{LDAPGroups: ldap}}
}

func share(name string, grantees ...iamv1alpha1.Grantee) *iamv1alpha1.Share {
	return &iamv1alpha1.Share{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: iamv1alpha1.ShareSpec{
		Resource: iamv1alpha1.ResourceRef{Type: "dataset", Name: "sales"}, Grantees: grantees}}
}

func to(kind iamv1alpha1.GranteeKind, name string) iamv1alpha1.Grantee {
	return iamv1alpha1.Grantee{Kind: kind, Name: name, Role: "Viewer"}
}

func grant(name string, subjects ...iamv1alpha1.Subject) *iamv1alpha1.ResourceGrant {
	return &iamv1alpha1.ResourceGrant{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: iamv1alpha1.ResourceGrantSpec{
		Resource: iamv1alpha1.ResourceRef{Type: "dataset", Name: "sales"}, Subjects: subjects, Permissions: []iamv1alpha1.Permission{"viewMetadata"}}}
}

func license(seats int32, expires *time.Time) *iamv1alpha1.License {
	l := &iamv1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: "license"}, Spec: iamv1alpha1.LicenseSpec{
		Profiles: []iamv1alpha1.Profile{{Name: "full", Seats: seats}}}}
	if expires != nil {
		l.Spec.ExpiresAt = &metav1.Time{Time: *expires}
	}
	return l
}

func connection(name string) *iamv1alpha1.Connection {
	return &iamv1alpha1.Connection{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: iamv1alpha1.ConnectionSpec{Type: "PostgreSQL"}}
}

func seated(f *fixture, name string) bool {
	r := f.e.ComputeUser(ns, name)
	return r != nil && r.Seat == iamv1alpha1.SeatGranted
}

func TestEventsBeforeReady(t *testing.T) {
	f := newFixture(t)
	// Registered before the engine is ready: the sources wait.
	f.startSources()
	select {
	case <-f.e.Ready():
		t.Fatal("ready before the Indexes were built")
	default:
	}
	if err := f.e.Source(access.KindUser).Start(f.ctx, &recQueue{}); err == nil {
		t.Error("a source started twice was accepted")
	}
	// Events before ready: kept for the build, nothing enqueued, no Index.
	f.handlers() // as Start does first
	f.create(license(10, nil), false)
	alice := f.create(user("alice", "full", "data"), false)
	bob := f.create(user("bob", "full"), false)
	f.create(group("data"), false)
	f.create(share("sales", to("Group", "data")), false)
	gone := f.create(share("gone", to("User", "bob")), false)
	f.delete(gone, false)
	f.update(alice, false, false, func(o client.Object) { o.(*iamv1alpha1.User).Status.Seat = iamv1alpha1.SeatGranted })
	f.update(bob, true, false, func(o client.Object) { o.(*iamv1alpha1.User).Spec.Groups = []string{"data"} })
	f.expect("before ready", nil)
	if f.e.Index(ns) != nil {
		t.Error("an Index exists before the build")
	}
	// The build: one Index from what was seen, every object enqueued once.
	f.e.build()
	<-f.e.Ready()
	f.expect("the build", map[access.Kind][]string{
		access.KindUser: {"alice", "bob"}, access.KindGroup: {"data"}, access.KindLicense: {"license"}, access.KindShare: {"sales"},
	})
	if got := f.e.Index(ns).GroupMembers("data"); got != 2 {
		t.Errorf("group data has %d members in the built Index, want 2 (bob's change before ready applied)", got)
	}
	if !seated(f, "alice") || !seated(f, "bob") {
		t.Error("the License seen before ready is not in force")
	}
}

func TestSourceStartedAfterReady(t *testing.T) {
	f := newFixture(t)
	f.c.lockFree = f.lockFree
	f.follow()
	f.create(user("alice", "full"), false)
	q := &recQueue{}
	if err := f.e.Source(access.KindUser).Start(f.ctx, q); err != nil {
		t.Fatal(err)
	}
	if got := q.take(); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("a source started after ready got %v, want [alice]", got)
	}
}

// lockFree fails the test when the engine's lock is held by the caller (a
// cache listing under the lock). Valid only where no other goroutine takes
// the lock: the loops do not run in the tests that use it.
func (f *fixture) lockFree() {
	s := f.e.store
	if !s.mu.TryLock() {
		f.t.Error("the cache was listed under the store's lock")
		return
	}
	var namespaces []*nsIndex
	for _, n := range s.byNS {
		namespaces = append(namespaces, n)
	}
	s.mu.Unlock()
	locks := map[string]interface {
		TryLock() bool
		Unlock()
	}{
		"causes": &f.e.causes.mu, "queues": &f.e.queues.mu, "retries": &f.e.retries.mu,
		"expiries": &f.e.expiry.mu, "seat gate": &f.e.seats.mu, "start report": &f.e.report.mu,
	}
	for _, n := range namespaces {
		locks["namespace"] = &n.mu
		for what, l := range locks {
			if !l.TryLock() {
				f.t.Errorf("the cache was listed under the %s lock", what)
				continue
			}
			l.Unlock()
		}
	}
}

// TestEnqueues tells which reconciles each kind of change enqueues.
func TestEnqueues(t *testing.T) {
	type step struct {
		what string
		do   func(f *fixture, o map[string]client.Object)
		want map[access.Kind][]string
	}
	setUser := func(f *fixture, o map[string]client.Object, name string, spec bool, change func(u *iamv1alpha1.User)) {
		o[name] = f.update(o[name], spec, false, func(c client.Object) { change(c.(*iamv1alpha1.User)) })
	}
	steps := []step{
		{"a User created", func(f *fixture, o map[string]client.Object) {
			o["carol"] = f.create(user("carol", "full", "data"), false)
		}, map[access.Kind][]string{access.KindUser: {"carol"}, access.KindGroup: {"data"}, access.KindLicense: {"license"},
			access.KindShare: {"to-carol", "to-data"}, access.KindResourceGrant: {"rg-data"}}},
		{"a User's status written", func(f *fixture, o map[string]client.Object) {
			setUser(f, o, "carol", false, func(u *iamv1alpha1.User) { u.Status.Seat = iamv1alpha1.SeatGranted })
		}, map[access.Kind][]string{access.KindUser: {"carol"}}},
		{"a User's display name changed", func(f *fixture, o map[string]client.Object) {
			setUser(f, o, "carol", true, func(u *iamv1alpha1.User) { u.Spec.DisplayName = "Carol" })
		}, map[access.Kind][]string{access.KindUser: {"carol"}}},
		{"a User joins a Group by its directory group", func(f *fixture, o map[string]client.Object) {
			setUser(f, o, "carol", true, func(u *iamv1alpha1.User) { u.Spec.DirectoryGroups = []string{"cn=ops,dc=example"} })
		}, map[access.Kind][]string{access.KindUser: {"carol"}, access.KindGroup: {"data", "ops"},
			access.KindShare: {"to-carol", "to-data", "to-ops"}, access.KindResourceGrant: {"rg-data"}}},
		{"a Group changed", func(f *fixture, o map[string]client.Object) {
			o["data"] = f.update(o["data"], true, false, func(c client.Object) { c.(*iamv1alpha1.Group).Spec.Description = "x" })
		}, map[access.Kind][]string{access.KindUser: {"alice", "carol"}, access.KindGroup: {"data"}, access.KindShare: {"to-data"},
			access.KindResourceGrant: {"rg-data"}}},
		{"a Share granting a Group created", func(f *fixture, o map[string]client.Object) {
			o["to-data-2"] = f.create(share("to-data-2", to("Group", "data")), false)
		}, map[access.Kind][]string{access.KindUser: {"alice", "carol"}, access.KindShare: {"to-data-2"}}},
		{"a Share's status written", func(f *fixture, o map[string]client.Object) {
			f.update(o["to-data-2"], false, false, func(c client.Object) { c.(*iamv1alpha1.Share).Status.ObservedGeneration = 1 })
		}, map[access.Kind][]string{access.KindShare: {"to-data-2"}}},
		{"a Share deleted", func(f *fixture, o map[string]client.Object) {
			f.delete(o["to-data-2"], false)
		}, map[access.Kind][]string{access.KindUser: {"alice", "carol"}, access.KindShare: {"to-data-2"}}},
		{"a ResourceGrant created", func(f *fixture, _ map[string]client.Object) {
			f.create(grant("rg-bob", iamv1alpha1.Subject{Kind: "User", Name: "bob"}), false)
		}, map[access.Kind][]string{access.KindUser: {"bob"}, access.KindResourceGrant: {"rg-bob"}}},
		{"a Connection created: the Index only", func(f *fixture, o map[string]client.Object) {
			o["db"] = f.create(connection("db"), false)
		}, nil},
		{"a Connection's status written: nothing", func(f *fixture, o map[string]client.Object) {
			f.update(o["db"], false, false, func(c client.Object) { c.SetAnnotations(map[string]string{"a": "b"}) })
		}, nil},
		{"the License shrunk to one seat: who loses theirs", func(f *fixture, o map[string]client.Object) {
			o["license"] = f.update(o["license"], true, false, func(c client.Object) {
				c.(*iamv1alpha1.License).Spec.Profiles[0].Seats = 1
			})
		}, map[access.Kind][]string{access.KindUser: {"bob", "carol"}, access.KindLicense: {"license"}}},
		{"a User deleted", func(f *fixture, o map[string]client.Object) {
			f.delete(o["carol"], false)
		}, map[access.Kind][]string{access.KindUser: {"alice", "bob"}, access.KindGroup: {"data", "ops"}, access.KindLicense: {"license"},
			access.KindShare: {"to-carol", "to-data", "to-ops"}, access.KindResourceGrant: {"rg-data"}}},
		{"the License deleted", func(f *fixture, o map[string]client.Object) {
			f.delete(o["license"], false)
		}, map[access.Kind][]string{access.KindUser: {"alice", "bob"}}},
	}
	f := newFixture(t)
	f.c.lockFree = f.lockFree
	f.startSources()
	objs := map[string]client.Object{}
	f.handlers()
	objs["license"] = f.create(license(10, nil), false)
	objs["alice"] = f.create(user("alice", "full", "data"), false)
	objs["bob"] = f.create(user("bob", "full"), false)
	objs["data"] = f.create(group("data"), false)
	objs["ops"] = f.create(group("ops", "CN=ops,DC=example"), false)
	for _, s := range []client.Object{share("to-data", to("Group", "data")), share("to-ops", to("Group", "ops")), share("to-carol", to("User", "carol")),
		grant("rg-data", iamv1alpha1.Subject{Kind: "Group", Name: "data"})} {
		objs[s.GetName()] = f.create(s, false)
	}
	f.e.build()
	f.take()
	for _, s := range steps {
		s.do(f, objs)
		f.expect(s.what, s.want)
	}
	if f.e.ComputeUser(ns, "carol") != nil {
		t.Error("carol is still in the Index after her deletion")
	}
}

func TestRecheckOnlyWhenReadyAndNotOnResync(t *testing.T) {
	f := newFixture(t)
	f.startSources()
	f.handlers()
	g := f.create(group("data"), false)
	g2 := f.update(g, false, false, func(c client.Object) { c.(*iamv1alpha1.Group).Status.Members = 1 })
	f.e.build()
	f.take()
	// An informer resync replays the same object: no recheck.
	f.c.informer(g2).Update(g2, g2)
	f.expect("an informer resync", nil)
	f.update(g2, false, false, func(c client.Object) { c.(*iamv1alpha1.Group).Status.Members = 2 })
	f.expect("a status write", map[access.Kind][]string{access.KindGroup: {"data"}})
}

func TestLicenseExpiry(t *testing.T) {
	f := newFixture(t)
	f.startSources()
	f.handlers()
	expires := epoch.Add(time.Hour)
	lic := f.create(license(10, &expires), false)
	f.create(user("alice", "full"), false)
	f.e.build()
	f.take()
	go f.e.expiryLoop(f.ctx)
	if !seated(f, "alice") {
		t.Fatal("alice has no seat before the License expires")
	}
	f.eventually("the expiry timer", f.clk.HasWaiters)
	f.clk.Step(time.Hour - time.Second)
	f.expect("a second before the expiry", nil)
	f.clk.Step(time.Second + 10*time.Millisecond)
	f.eventually("the expiry", func() bool { return f.queues[access.KindLicense].len() > 0 })
	f.expect("the expiry", map[access.Kind][]string{access.KindUser: {"alice"}, access.KindLicense: {"license"}})
	if seated(f, "alice") {
		t.Error("alice keeps her seat after the License expired")
	}
	if c := f.e.Causes().Take(types.NamespacedName{Namespace: ns, Name: "alice"}); !slices.Contains(c, "License expired") {
		t.Errorf("alice's causes are %v, want License expired", c)
	}
	// Renewed: the seat comes back, and the next expiry is followed.
	later := epoch.Add(3 * time.Hour)
	f.update(lic, true, false, func(c client.Object) {
		c.(*iamv1alpha1.License).Spec.ExpiresAt = &metav1.Time{Time: later}
	})
	f.expect("the renewal", map[access.Kind][]string{access.KindUser: {"alice"}, access.KindLicense: {"license"}})
	if !seated(f, "alice") {
		t.Error("alice has no seat after the renewal")
	}
	f.e.expiry.mu.Lock()
	if !f.e.expiry.at[ns].Equal(later) {
		t.Errorf("the next expiry is %v, want %v", f.e.expiry.at[ns], later)
	}
	f.e.expiry.mu.Unlock()
	f.eventually("the next expiry timer", f.clk.HasWaiters)
	f.clk.Step(2 * time.Hour)
	f.eventually("the second expiry", func() bool { return !seated(f, "alice") })
}

func TestSeatGate(t *testing.T) {
	f := newFixture(t)
	f.startSources()
	f.handlers()
	f.e.build()
	alice := f.create(user("alice", "full"), false)
	f.create(user("bob", "full"), false)
	f.take()
	if !f.e.MayGrant(ns, "full", "alice", 1) {
		t.Fatal("the first grant of a free seat was refused")
	}
	// alice's grant is in flight: bob waits.
	if f.e.MayGrant(ns, "full", "bob", 1) {
		t.Fatal("bob was granted the seat alice's grant holds in flight")
	}
	// alice's Granted status reaches the cache: still full.
	alice = f.update(alice, false, false, func(c client.Object) { c.(*iamv1alpha1.User).Status.Seat = iamv1alpha1.SeatGranted })
	f.take()
	if !f.e.MayGrant(ns, "full", "alice", 1) {
		t.Error("alice, written Granted, may not stay so")
	}
	if f.e.MayGrant(ns, "full", "bob", 1) {
		t.Fatal("bob was granted alice's written seat")
	}
	// alice is written Pending: bob, waiting, is enqueued at once.
	f.update(alice, false, false, func(c client.Object) { c.(*iamv1alpha1.User).Status.Seat = iamv1alpha1.SeatPending })
	f.expect("alice's seat written free", map[access.Kind][]string{access.KindUser: {"alice", "bob"}})
	if !f.e.MayGrant(ns, "full", "bob", 1) {
		t.Fatal("bob may not take the seat alice's status freed")
	}
	// A failed write gives the seat back at once.
	f.e.GrantFailed(ns, "full", "bob")
	if !f.e.MayGrant(ns, "full", "alice", 1) {
		t.Fatal("the seat of a failed grant was not given back")
	}
	// A grant in flight that never reaches the cache counts for
	// inflightTTL only.
	if f.e.MayGrant(ns, "full", "bob", 1) {
		t.Fatal("bob was granted the seat alice's grant holds in flight")
	}
	f.clk.Step(inflightTTL)
	if f.e.MayGrant(ns, "full", "bob", 1) {
		t.Fatal("a grant in flight stopped counting before inflightTTL")
	}
	f.clk.Step(time.Millisecond)
	if !f.e.MayGrant(ns, "full", "bob", 1) {
		t.Fatal("a grant in flight still counts after inflightTTL")
	}
}

// startLoop builds the Indexes and runs the resync loop, and returns once
// it waits for its first period.
func (f *fixture) startLoop() {
	f.e.build()
	go f.e.resyncLoop(f.ctx)
	f.eventually("the resync timer", f.clk.HasWaiters)
	f.take()
}

// TestResyncRepairsLostEvents: changes whose events never reached the
// engine are applied within one resync period, and nothing else is.
func TestResyncRepairsLostEvents(t *testing.T) {
	f := newFixture(t)
	f.startSources()
	f.handlers()
	f.create(license(1, nil), false)
	alice := f.create(user("alice", "full"), false)
	data := f.create(group("data"), false)
	gone := f.create(share("gone", to("Group", "data")), false)
	f.startLoop()

	// Nothing lost: a period passes, nothing is enqueued.
	f.clk.Step(time.Minute)
	f.eventually("the next period's timer", f.clk.HasWaiters)
	f.expect("a resync with nothing to repair", nil)

	// Lost: bob created, data's spec changed, a Share deleted, alice's
	// status written Granted.
	f.create(user("bob", "full", "data"), true)
	f.update(data, true, true, func(c client.Object) { c.(*iamv1alpha1.Group).Spec.Description = "x" })
	f.delete(gone, true)
	f.update(alice, false, true, func(c client.Object) { c.(*iamv1alpha1.User).Status.Seat = iamv1alpha1.SeatGranted })
	f.expect("lost events", nil)
	if f.e.Index(ns).GroupMembers("data") != 0 {
		t.Fatal("the lost User is in the Index")
	}

	f.clk.Step(time.Minute - time.Millisecond)
	f.expect("before the period", nil)
	f.clk.Step(time.Millisecond)
	f.eventually("the repair", func() bool { return f.e.Index(ns).GroupMembers("data") == 1 })
	f.eventually("the period after", f.clk.HasWaiters)
	f.expect("the resync", map[access.Kind][]string{
		access.KindUser:  {"alice", "bob"}, // bob created; alice's status rechecked
		access.KindGroup: {"data"}, access.KindLicense: {"license"}, access.KindShare: {"gone"},
	})
	// The seat gate followed alice's lost Granted status: the only seat
	// is written, bob waits.
	if f.e.MayGrant(ns, "full", "bob", 1) {
		t.Error("bob was granted the seat alice's (lost) status holds")
	}
	if got := counted(t, indexRepairs, "User") + counted(t, indexRepairs, "Group") + counted(t, indexRepairs, "Share"); got < 3 {
		t.Errorf("gatehouse_engine_index_repairs_total counted %v repairs, want at least 3", got)
	}

	// Repaired once: the next period has nothing to do.
	f.clk.Step(time.Minute)
	f.eventually("the next period's timer", f.clk.HasWaiters)
	f.expect("the resync after the repair", nil)
}

// TestFailedUpdateRetried: an update that fails (here the Licenses cannot
// be listed) is retried after retryMin, backing off while it fails.
func TestFailedUpdateRetried(t *testing.T) {
	f := newFixture(t)
	f.startSources()
	f.handlers()
	lic := f.create(license(1, nil), false)
	f.create(user("alice", "full"), false)
	f.create(user("bob", "full"), false)
	f.startLoop()
	if seated(f, "bob") {
		t.Fatal("bob holds a seat of a License of one")
	}
	licenses := reflect.TypeOf(&iamv1alpha1.LicenseList{})
	f.c.mu.Lock()
	f.c.failList[licenses] = 2 // the event's list and the first retry's
	f.c.mu.Unlock()
	f.update(lic, true, false, func(c client.Object) { c.(*iamv1alpha1.License).Spec.Profiles[0].Seats = 2 })
	if seated(f, "bob") {
		t.Fatal("the License was applied though its list failed")
	}
	f.expect("the failed update", nil)

	f.eventually("the retry's timer", func() bool { return f.retryAt(ns) && f.clk.HasWaiters() })
	f.clk.Step(retryMin) // the first retry fails too: backs off to 2s
	f.eventually("the second retry", func() bool {
		f.e.retries.mu.Lock()
		defer f.e.retries.mu.Unlock()
		r := f.e.retries.byNS[ns]
		return r != nil && r.delay == 2*retryMin && !r.at.IsZero()
	})
	f.clk.Step(2*retryMin - time.Millisecond)
	if seated(f, "bob") {
		t.Fatal("retried before its backoff")
	}
	f.clk.Step(time.Millisecond)
	f.eventually("the repair", func() bool { return seated(f, "bob") && f.queues[access.KindLicense].len() > 0 })
	f.eventually("the retry forgotten", func() bool {
		f.e.retries.mu.Lock()
		defer f.e.retries.mu.Unlock()
		return f.e.retries.byNS[ns] == nil
	})
	f.expect("the repair", map[access.Kind][]string{access.KindUser: {"bob"}, access.KindLicense: {"license"}})
}

func (f *fixture) retryAt(ns string) bool {
	f.e.retries.mu.Lock()
	defer f.e.retries.mu.Unlock()
	r := f.e.retries.byNS[ns]
	return r != nil && !r.at.IsZero()
}

// counted returns a counter's value for kind.
func counted(t *testing.T, c *prometheus.CounterVec, kind string) float64 {
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == kind {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestConcurrentEventsAndResync runs each kind's events in its own
// goroutine (an informer delivers one kind's events in order), some of them
// lost, while the resync loop runs and the clock moves; then one more
// period must leave every user computed as a fresh Index of the cache
// computes them. Run with -race, it also checks the engine's locking.
func TestConcurrentEventsAndResync(t *testing.T) {
	f := newFixture(t)
	f.startSources()
	f.handlers()
	lic := f.create(license(5, nil), false)
	f.startLoop()
	groups := []string{"g0", "g1", "g2"}
	var wg sync.WaitGroup
	run := func(fn func(i int, lost bool)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				fn(i, i%7 == 3)
			}
		}()
	}
	run(func(i int, lost bool) { // Users
		name := []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7"}[i%8]
		var u iamv1alpha1.User
		switch err := f.c.Get(f.ctx, client.ObjectKey{Namespace: ns, Name: name}, &u); {
		case err != nil:
			f.create(user(name, "full", groups[i%3]), lost)
		case i%5 == 0:
			f.delete(&u, lost)
		case i%2 == 0:
			f.update(&u, false, lost, func(c client.Object) { c.(*iamv1alpha1.User).Status.Seat = iamv1alpha1.SeatGranted })
		default:
			f.update(&u, true, lost, func(c client.Object) { c.(*iamv1alpha1.User).Spec.Groups = []string{groups[i%3]} })
		}
	})
	run(func(i int, lost bool) { // Groups
		name := groups[i%3]
		var g iamv1alpha1.Group
		switch err := f.c.Get(f.ctx, client.ObjectKey{Namespace: ns, Name: name}, &g); {
		case err != nil:
			f.create(group(name), lost)
		case i%4 == 0:
			f.delete(&g, lost)
		default:
			f.update(&g, true, lost, func(c client.Object) {
				c.(*iamv1alpha1.Group).Spec.GlobalPermissions = []iamv1alpha1.GlobalPermission{"createProjects"}[:i%2]
			})
		}
	})
	run(func(i int, lost bool) { // Shares
		name := []string{"s0", "s1", "s2", "s3"}[i%4]
		var s iamv1alpha1.Share
		switch err := f.c.Get(f.ctx, client.ObjectKey{Namespace: ns, Name: name}, &s); {
		case err != nil:
			f.create(share(name, to("Group", groups[i%3])), lost)
		case i%3 == 0:
			f.delete(&s, lost)
		default:
			f.update(&s, true, lost, func(c client.Object) { c.(*iamv1alpha1.Share).Spec.Grantees = []iamv1alpha1.Grantee{to("User", "u1")} })
		}
	})
	run(func(i int, lost bool) { // the License
		lic = f.update(lic, true, lost, func(c client.Object) { c.(*iamv1alpha1.License).Spec.Profiles[0].Seats = int32(1 + i%4) })
	})
	wg.Add(1)
	go func() { // the clock
		defer wg.Done()
		for range 5 {
			f.clk.Step(time.Minute)
			time.Sleep(time.Millisecond)
		}
	}()
	wg.Wait()
	f.eventually("the resync timer", f.clk.HasWaiters)
	f.clk.Step(time.Minute)
	snap, err := ReadSnapshot(f.ctx, f.c.Client, ns, f.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := access.NewIndex(snap)
	f.eventually("the last resync", func() bool {
		for _, u := range snap.Users {
			if !cmp.Equal(want.ComputeUser(u.Name), f.e.ComputeUser(ns, u.Name)) {
				return false
			}
		}
		return true
	})
	for _, u := range []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7"} {
		if d := cmp.Diff(want.ComputeUser(u), f.e.ComputeUser(ns, u)); d != "" {
			t.Errorf("user %s after the resync (-fresh Index +engine's):\n%s", u, d)
		}
	}
}

// TestReadsDoNotWaitForUpdates: while an update of one namespace's Index is
// in progress (its write lock held) and another reader holds the store's
// lock, the Indexes are read (Index, ComputeUser, IdentityConflicts) and
// another namespace's Index is updated. A read that took the store's lock
// exclusively, or a lock an update holds, would wait for ever; the minute
// only turns that wait into a failure.
func TestReadsDoNotWaitForUpdates(t *testing.T) {
	f := newFixture(t)
	f.startSources()
	f.handlers()
	f.create(user("alice", "full"), false)
	f.e.build()
	const other = "other"
	inOther := func(name string) *iamv1alpha1.User {
		u := user(name, "full")
		u.Namespace, u.UID, u.Generation = other, types.UID(name+"-uid"), 1
		return u
	}
	f.e.upsert(access.KindUser, nil, inOther("bob"))

	busy := f.e.store.get(ns)
	busy.mu.Lock() // an update of ns in progress
	f.e.store.mu.RLock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if f.e.Index(ns) == nil || f.e.ComputeUser(ns, "alice") == nil {
			t.Error("the Index of the namespace being updated cannot be read")
		}
		if f.e.ComputeUser(other, "bob") == nil || f.e.IdentityConflicts(other, "bob") != nil {
			t.Error("the Index of another namespace cannot be read")
		}
		f.e.upsert(access.KindUser, nil, inOther("carol"))
		if f.e.ComputeUser(other, "carol") == nil {
			t.Error("another namespace's update was not applied")
		}
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("a read or another namespace's update waited for the update in progress")
	}
	f.e.store.mu.RUnlock()
	busy.mu.Unlock()
}
