// Package engine keeps one access.Index per namespace current from the
// manager's informers and tells the controllers what to reconcile.
//
// The engine, not each controller's own watch, is the event source of the
// User, Group, License, Share and ResourceGrant controllers: an object's
// event is applied to the namespace's Index first and only then are the
// reconciles it causes enqueued, so a reconciler never reads an Index older
// than the event that woke it. Upsert tells which users a change touches;
// field indexes on the cache tell which Groups, Shares and ResourceGrants a
// User or Group change touches. Controllers start only once every informer
// has delivered its initial list and every namespace's Index was built from
// it in one go (so start-up computes each user once and reports no spurious
// change).
//
// A safety net bounds how long the Indexes can lag the cache (see
// resync.go): every ResyncPeriod each namespace's Index is compared with
// the cache and what differs is applied again, enqueueing what it touches;
// an object the engine failed to apply is retried within seconds.
package engine

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// Queue is a controller's work queue.
type Queue = workqueue.TypedRateLimitingInterface[reconcile.Request]

// maxCauses bounds the causes remembered for one user between reconciles.
const maxCauses = 8

// Cache is what the engine reads: the manager's cache, whose informers
// feed it and whose stores (with the field indexes) it lists. The tests
// give it fake informers.
type Cache interface {
	client.Reader
	GetInformer(ctx context.Context, obj client.Object, opts ...cache.InformerGetOption) (cache.Informer, error)
}

// Options tune the engine.
type Options struct {
	// ResyncPeriod is how often every namespace's Index is compared with
	// the cache (DefaultResyncPeriod when 0): the longest an event lost
	// between the informers and the Index leaves a status stale.
	ResyncPeriod time.Duration
	// Clock is the engine's time (the real clock when nil).
	Clock clock.Clock
}

// Engine feeds the per-namespace Indexes and the controllers' queues. Create
// it with New before the manager starts; it runs as a manager Runnable on
// every replica (leader or not), so that a standby's Index is warm.
//
// Lock order: licMu, then seatMu or mu (never both). No cache listing
// happens under mu or seatMu: the cache's field indexes take the informers'
// store locks, and the handlers that fill the stores wait for mu.
type Engine struct {
	cache  Cache
	log    logr.Logger
	clock  clock.Clock
	period time.Duration

	readyCh chan struct{}
	wake    chan struct{}
	// resyncWake tells the resync loop that a retry was scheduled.
	resyncWake chan struct{}

	// licMu serialises License changes: each lists the namespace's
	// Licenses and applies the one in force, so the last applied is the
	// newest listed.
	licMu sync.Mutex

	mu      sync.Mutex
	ready   bool
	pending map[string]*pendingNS // namespace -> objects seen before ready
	// applied are the objects each namespace's Index was last given (with
	// the newest status seen), namespace -> kind -> name: what resync
	// compares with the cache.
	applied map[string]map[access.Kind]map[string]client.Object
	// retries are the namespaces to resync soon because applying an
	// object failed.
	retries map[string]*retry
	// unjudged are the Shares and ResourceGrants whose spec changed past
	// the generation the operator last wrote status for, as the initial
	// lists showed them; builtAt is when.
	unjudged []client.Object
	builtAt  time.Time
	indexes  map[string]*access.Index
	queues   map[access.Kind]Queue
	causes   map[types.NamespacedName][]string
	expiry   map[string]time.Time // namespace -> its License's future expiresAt

	seatMu   sync.Mutex
	written  map[seatKey]map[string]struct{}  // users whose status says Granted
	inflight map[seatKey]map[string]time.Time // grants written, not yet seen
	waiting  map[seatKey]map[string]struct{}  // grants waiting for a seat to be written free
}

// pendingNS collects one namespace's objects during the initial sync.
type pendingNS struct {
	objs map[access.Kind]map[string]client.Object
}

// kinds are the objects an Index holds, with an empty object of each.
var kinds = []struct {
	kind access.Kind
	obj  client.Object
	list client.ObjectList
}{
	{access.KindLicense, &iamv1alpha1.License{}, &iamv1alpha1.LicenseList{}},
	{access.KindUser, &iamv1alpha1.User{}, &iamv1alpha1.UserList{}},
	{access.KindGroup, &iamv1alpha1.Group{}, &iamv1alpha1.GroupList{}},
	{access.KindConnection, &iamv1alpha1.Connection{}, &iamv1alpha1.ConnectionList{}},
	{access.KindShare, &iamv1alpha1.Share{}, &iamv1alpha1.ShareList{}},
	{access.KindResourceGrant, &iamv1alpha1.ResourceGrant{}, &iamv1alpha1.ResourceGrantList{}},
}

// New creates the engine, registers its field indexes with the manager and
// adds it to the manager. Call it before the manager starts.
func New(ctx context.Context, mgr manager.Manager, o Options) (*Engine, error) {
	e := newEngine(mgr.GetCache(), mgr.GetLogger().WithName("engine"), o)
	if err := RegisterIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		return nil, err
	}
	if err := mgr.Add(e); err != nil {
		return nil, fmt.Errorf("cannot add the engine to the manager: %w", err)
	}
	return e, nil
}

// newEngine creates an engine reading c; New adds it to a manager.
func newEngine(c Cache, log logr.Logger, o Options) *Engine {
	if o.ResyncPeriod <= 0 {
		o.ResyncPeriod = DefaultResyncPeriod
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	return &Engine{
		cache:      c,
		log:        log,
		clock:      o.Clock,
		period:     o.ResyncPeriod,
		readyCh:    make(chan struct{}),
		wake:       make(chan struct{}, 1),
		resyncWake: make(chan struct{}, 1),
		pending:    map[string]*pendingNS{},
		applied:    map[string]map[access.Kind]map[string]client.Object{},
		retries:    map[string]*retry{},
		indexes:    map[string]*access.Index{},
		queues:     map[access.Kind]Queue{},
		causes:     map[types.NamespacedName][]string{},
		expiry:     map[string]time.Time{},

		written:  map[seatKey]map[string]struct{}{},
		inflight: map[seatKey]map[string]time.Time{},
		waiting:  map[seatKey]map[string]struct{}{},
	}
}

// NeedLeaderElection is false: every replica keeps its Indexes current.
func (e *Engine) NeedLeaderElection() bool { return false }

// Start registers the event handlers, waits until each has seen its
// informer's initial list, builds the Indexes and then follows changes
// (and License expiries) until ctx ends.
func (e *Engine) Start(ctx context.Context) error {
	if err := e.follow(ctx); err != nil {
		return err
	}
	go e.resyncLoop(ctx)
	e.expiryLoop(ctx)
	return nil
}

// follow registers the event handlers, waits until each has seen its
// informer's initial list and builds the Indexes.
func (e *Engine) follow(ctx context.Context) error {
	regs, err := e.handlersFor(ctx)
	if err != nil {
		return err
	}
	for _, reg := range regs {
		if !toolscache.WaitForCacheSync(ctx.Done(), reg.HasSynced) {
			return ctx.Err()
		}
	}
	n := e.build()
	e.log.Info("permission indexes built", "namespaces", n)
	return nil
}

// handlersFor registers the engine's handler with each kind's informer.
func (e *Engine) handlersFor(ctx context.Context) ([]toolscache.ResourceEventHandlerRegistration, error) {
	var regs []toolscache.ResourceEventHandlerRegistration
	for _, k := range kinds {
		inf, err := e.cache.GetInformer(ctx, k.obj)
		if err != nil {
			return nil, fmt.Errorf("cannot watch %ss: %w", k.kind, err)
		}
		reg, err := inf.AddEventHandler(e.handler(k.kind))
		if err != nil {
			return nil, fmt.Errorf("cannot follow %ss: %w", k.kind, err)
		}
		regs = append(regs, reg)
	}
	return regs, nil
}

// Ready is closed once the Indexes are built.
func (e *Engine) Ready() <-chan struct{} { return e.readyCh }

// build turns the objects seen during the initial sync into one Index per
// namespace, and enqueues every object for the controllers already started.
// It returns the number of namespaces.
func (e *Engine) build() int {
	e.mu.Lock()
	now := e.clock.Now()
	for ns, p := range e.pending {
		e.applied[ns] = p.objs
		// The Index keeps the cache's objects, not copies of them.
		snap := access.Objects{Now: now}
		var licenses []iamv1alpha1.License
		for _, o := range p.objs[access.KindLicense] {
			licenses = append(licenses, *o.(*iamv1alpha1.License))
		}
		snap.License = access.LicenseInForce(licenses)
		for _, o := range p.objs[access.KindUser] {
			snap.Users = append(snap.Users, o.(*iamv1alpha1.User))
		}
		for _, o := range p.objs[access.KindGroup] {
			snap.Groups = append(snap.Groups, o.(*iamv1alpha1.Group))
		}
		for _, o := range p.objs[access.KindConnection] {
			snap.Connections = append(snap.Connections, o.(*iamv1alpha1.Connection))
		}
		for _, o := range p.objs[access.KindShare] {
			s := o.(*iamv1alpha1.Share)
			snap.Shares = append(snap.Shares, s)
			if obs := s.Status.ObservedGeneration; obs > 0 && s.Generation > obs && s.DeletionTimestamp == nil {
				e.unjudged = append(e.unjudged, s)
			}
		}
		for _, o := range p.objs[access.KindResourceGrant] {
			g := o.(*iamv1alpha1.ResourceGrant)
			snap.ResourceGrants = append(snap.ResourceGrants, g)
			if obs := g.Status.ObservedGeneration; obs > 0 && g.Generation > obs && g.DeletionTimestamp == nil {
				e.unjudged = append(e.unjudged, g)
			}
		}
		e.indexes[ns] = access.NewIndexOf(snap)
		if snap.License != nil {
			e.noteExpiryLocked(ns, snap.License)
		}
	}
	e.pending = nil
	e.builtAt = now
	e.ready = true
	close(e.readyCh)
	queues := make(map[access.Kind]Queue, len(e.queues))
	for kind, q := range e.queues {
		queues[kind] = q
	}
	n := len(e.indexes)
	e.mu.Unlock()
	// A Source started from here on sees ready and enqueues its own.
	for kind, q := range queues {
		e.enqueueAll(kind, q)
	}
	return n
}

// enqueueAll enqueues every object of a kind the Indexes hold (from the
// cache, which holds the same objects) into q. Under no lock.
func (e *Engine) enqueueAll(kind access.Kind, q Queue) {
	for _, k := range kinds {
		if k.kind != kind {
			continue
		}
		list := k.list.DeepCopyObject().(client.ObjectList)
		if err := e.cache.List(context.Background(), list); err != nil {
			e.log.Error(err, "cannot list for the initial reconcile", "kind", kind)
			return
		}
		_ = forEachItem(list, func(o client.Object) {
			q.Add(reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o)})
		})
	}
}

// Unjudged returns the Shares and ResourceGrants whose spec had changed
// past the generation the operator last wrote status for when the engine
// was built (changes made while no operator was running), and when that
// was. Valid once Ready.
func (e *Engine) Unjudged() ([]client.Object, time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.unjudged), e.builtAt
}

// Index returns the namespace's Index, nil before the engine is ready or for
// a namespace with no Gatehouse object yet.
func (e *Engine) Index(namespace string) *access.Index {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.indexes[namespace]
}

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

// TakeCauses returns and forgets what changed since the user was last
// reconciled, as "Share sales-team" or "Group analysts deleted".
func (e *Engine) TakeCauses(user types.NamespacedName) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.causes[user]
	delete(e.causes, user)
	return c
}

// indexLocked returns the namespace's Index, creating an empty one. Under
// e.mu.
func (e *Engine) indexLocked(ns string) *access.Index {
	ix := e.indexes[ns]
	if ix == nil {
		ix = access.NewIndex(access.Snapshot{Now: e.clock.Now()})
		e.indexes[ns] = ix
	}
	return ix
}

// enqueueLocked adds requests to a kind's queue, if its controller runs.
func (e *Engine) enqueueLocked(kind access.Kind, ns string, names ...string) {
	q := e.queues[kind]
	if q == nil {
		return
	}
	for _, n := range names {
		q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: n}})
	}
}

// enqueueUsersLocked enqueues users with the cause of their reconcile.
func (e *Engine) enqueueUsersLocked(ns string, users []string, cause string) {
	for _, u := range users {
		key := types.NamespacedName{Namespace: ns, Name: u}
		if c := e.causes[key]; len(c) < maxCauses && !slices.Contains(c, cause) {
			e.causes[key] = append(c, cause)
		}
	}
	e.enqueueLocked(access.KindUser, ns, users...)
	reconcilesEnqueued.WithLabelValues(string(access.KindUser)).Add(float64(len(users)))
}

// Source returns the event source of one kind's controller. Its WaitForSync
// returns once the Indexes are built.
func (e *Engine) Source(kind access.Kind) *Source { return &Source{e: e, kind: kind} }

// Source is a controller's event source: the engine enqueues into its queue.
type Source struct {
	e    *Engine
	kind access.Kind
}

// Start registers the controller's queue; once the engine is ready, every
// object of the kind is enqueued once.
func (s *Source) Start(_ context.Context, q Queue) error {
	s.e.mu.Lock()
	if s.e.queues[s.kind] != nil {
		s.e.mu.Unlock()
		return fmt.Errorf("the %s source was started twice", s.kind)
	}
	s.e.queues[s.kind] = q
	ready := s.e.ready
	s.e.mu.Unlock()
	// Before ready, build enqueues this queue's objects.
	if ready {
		s.e.enqueueAll(s.kind, q)
	}
	return nil
}

// WaitForSync waits until the engine has built its Indexes.
func (s *Source) WaitForSync(ctx context.Context) error {
	select {
	case <-s.e.readyCh:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("the permission indexes were not built in time: %w", ctx.Err())
	}
}

func (s *Source) String() string { return "gatehouse engine: " + string(s.kind) }
