package engine

import (
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// indexStore keeps one access.Index per namespace and the objects each was
// given. Until build it only collects the objects the informers deliver.
//
// Its locks: mu guards which namespaces exist (and, before ready, the
// pending objects); it is held only to look a namespace up or add one,
// never across an Index update, so a reader takes it shared and never
// waits for an update of any namespace. Each namespace's own lock
// (nsIndex.mu) serialises the writes to its Index and its applied
// objects, so the events of an object reach the Index in their order.
// The two are never held together (see Engine for the lock order).
type indexStore struct {
	clock clock.Clock
	// ready is set once, under mu, by build: from then on objects go to
	// the Indexes and no longer to pending.
	ready atomic.Bool

	mu      sync.RWMutex
	pending map[string]*pendingNS // namespace -> objects seen before ready
	byNS    map[string]*nsIndex
}

// nsIndex is one namespace's Index with the objects it was given.
type nsIndex struct {
	// ix never changes once the nsIndex exists; the Index has its own lock
	// for its readers.
	ix *access.Index

	// mu serialises the writes to ix and guards applied.
	mu sync.Mutex
	// applied are the objects the Index was last given (with the newest
	// status seen), kind -> name: what resync compares with the cache.
	applied map[access.Kind]map[string]client.Object
}

// pendingNS collects one namespace's objects during the initial sync.
type pendingNS struct {
	objs map[access.Kind]map[string]client.Object
}

func newIndexStore(c clock.Clock) *indexStore {
	return &indexStore{clock: c, pending: map[string]*pendingNS{}, byNS: map[string]*nsIndex{}}
}

// index returns the namespace's Index, nil before build or for a namespace
// with no Gatehouse object yet. It takes the store's lock shared only.
func (s *indexStore) index(ns string) *access.Index {
	if n := s.get(ns); n != nil {
		return n.ix
	}
	return nil
}

// get returns the namespace's nsIndex, nil if it has none.
func (s *indexStore) get(ns string) *nsIndex {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byNS[ns]
}

// namespace returns the namespace's nsIndex, creating it with an empty
// Index.
func (s *indexStore) namespace(ns string) *nsIndex {
	if n := s.get(ns); n != nil {
		return n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.byNS[ns]
	if n == nil {
		n = &nsIndex{ix: access.NewIndex(access.Snapshot{Now: s.clock.Now()}), applied: map[access.Kind]map[string]client.Object{}}
		s.byNS[ns] = n
	}
	return n
}

// namespaces returns the namespaces that have an Index.
func (s *indexStore) namespaces() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.byNS))
	for ns := range s.byNS {
		out = append(out, ns)
	}
	return out
}

// stash keeps an object seen before build, and reports whether it did (false
// once ready).
func (s *indexStore) stash(kind access.Kind, obj client.Object) bool {
	if s.ready.Load() {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready.Load() {
		return false
	}
	ns := obj.GetNamespace()
	p := s.pending[ns]
	if p == nil {
		p = &pendingNS{objs: map[access.Kind]map[string]client.Object{}}
		s.pending[ns] = p
	}
	if p.objs[kind] == nil {
		p.objs[kind] = map[string]client.Object{}
	}
	p.objs[kind][obj.GetName()] = obj
	return true
}

// unstash forgets an object deleted before build, and reports whether it
// did (false once ready).
func (s *indexStore) unstash(kind access.Kind, obj client.Object) bool {
	if s.ready.Load() {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready.Load() {
		return false
	}
	if p := s.pending[obj.GetNamespace()]; p != nil {
		delete(p.objs[kind], obj.GetName())
	}
	return true
}

// build turns the objects seen during the initial sync into one Index per
// namespace judged at now, calls built with each namespace's objects and
// License in force, and marks the store ready. It returns the number of
// namespaces.
func (s *indexStore) build(now time.Time, built func(ns string, objs map[access.Kind]map[string]client.Object, l *iamv1alpha1.License)) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ns, p := range s.pending {
		snap := snapshotOf(now, p.objs)
		s.byNS[ns] = &nsIndex{ix: access.NewIndexOf(snap), applied: p.objs}
		built(ns, p.objs, snap.License)
	}
	s.pending = nil
	s.ready.Store(true)
	return len(s.byNS)
}

// snapshotOf is the Objects of one namespace's objects, judged at now. The
// Index keeps the cache's objects, not copies of them.
func snapshotOf(now time.Time, objs map[access.Kind]map[string]client.Object) access.Objects {
	snap := access.Objects{Now: now}
	var licenses []iamv1alpha1.License
	for _, o := range objs[access.KindLicense] {
		licenses = append(licenses, *o.(*iamv1alpha1.License))
	}
	snap.License = access.LicenseInForce(licenses)
	for _, o := range objs[access.KindUser] {
		snap.Users = append(snap.Users, o.(*iamv1alpha1.User))
	}
	for _, o := range objs[access.KindGroup] {
		snap.Groups = append(snap.Groups, o.(*iamv1alpha1.Group))
	}
	for _, o := range objs[access.KindConnection] {
		snap.Connections = append(snap.Connections, o.(*iamv1alpha1.Connection))
	}
	for _, o := range objs[access.KindShare] {
		snap.Shares = append(snap.Shares, o.(*iamv1alpha1.Share))
	}
	for _, o := range objs[access.KindResourceGrant] {
		snap.ResourceGrants = append(snap.ResourceGrants, o.(*iamv1alpha1.ResourceGrant))
	}
	return snap
}

// setApplied records obj as what the Index holds. Under n.mu.
func (n *nsIndex) setApplied(kind access.Kind, obj client.Object) {
	if n.applied[kind] == nil {
		n.applied[kind] = map[string]client.Object{}
	}
	n.applied[kind][obj.GetName()] = obj
}

// build turns the objects seen during the initial sync into one Index per
// namespace, and enqueues every object for the controllers already started.
// It returns the number of namespaces.
func (e *Engine) build() int {
	now := e.clock.Now()
	var unjudged []client.Object
	n := e.store.build(now, func(ns string, objs map[access.Kind]map[string]client.Object, l *iamv1alpha1.License) {
		unjudged = append(unjudged, unjudgedOf(objs)...)
		if l != nil {
			e.expiry.note(ns, l)
		}
	})
	e.report.set(unjudged, now)
	close(e.readyCh)
	// A Source started from here on sees ready and enqueues its own.
	for kind, q := range e.queues.markReady() {
		e.enqueueAll(kind, q)
	}
	return n
}

// Index returns the namespace's Index, nil before the engine is ready or for
// a namespace with no Gatehouse object yet. It never waits for an update of
// an Index.
func (e *Engine) Index(namespace string) *access.Index { return e.store.index(namespace) }

// ComputeUser computes one user, nil when the engine does not know it.
func (e *Engine) ComputeUser(namespace, name string) *access.UserResult {
	ix := e.Index(namespace)
	if ix == nil {
		return nil
	}
	return ix.ComputeUser(name)
}

// IdentityConflicts returns the other Users of the namespace that claim the
// same Kubernetes identity as User name.
func (e *Engine) IdentityConflicts(namespace, name string) []string {
	if ix := e.Index(namespace); ix != nil {
		return ix.IdentityConflicts(name)
	}
	return nil
}
