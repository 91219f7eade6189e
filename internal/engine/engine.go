// Package engine keeps one access.Index per namespace current from the
// manager's informers and tells the controllers what to reconcile.
//
// The engine, not each controller's own watch, is the event source of the
// User, Group, License, Share, ResourceGrant and Connection controllers: an
// object's event is applied to the namespace's Index first and only then
// are the reconciles it causes enqueued, so a reconciler never reads an
// Index older than the event that woke it. The Index's Upsert and Delete
// say whom a change touches, of every kind (access.Affected). Controllers start only once every informer
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
	"sync"
	"time"

	"github.com/go-logr/logr"
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

// Cache is what the engine reads: the manager's cache, whose informers
// feed it and whose stores it lists. The tests
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
// every replica (leader or not), so that a standby's Index is warm. It is
// the façade the controllers and webhooks use; each job is a type of its
// own, in a file of its own:
//
//	store.go       the Indexes and what each was given (indexStore)
//	events.go      the informers' events applied to the store
//	source.go      the controllers' queues (queues, Source)
//	causes.go      why each User is reconciled (Causes)
//	resync.go      the safety net (retrySchedule)
//	expiry.go      License expiry (expiries)
//	seats.go       the seat gate (seatGate)
//	startreport.go what the initial lists showed (startReport)
//
// Lock order, the one place it is written: licMu; then either a
// namespace's write lock (nsIndex.mu, held across that namespace's Index
// update) or the store's lock (indexStore.mu, held only to look a
// namespace up, add one or build), never both; then at most one of the
// leaf locks of Causes, queues, retrySchedule, expiries, seatGate and
// startReport, each guarding its own type only. Readers of the Indexes
// take the store's lock shared and nothing else of the engine's, so they
// never wait for an update. No cache listing happens under any of these
// but licMu: the cache's lists take the informers' store locks, and the
// handlers that fill the stores wait for the engine's.
type Engine struct {
	cache Cache
	log   logr.Logger
	clock clock.Clock

	readyCh chan struct{}

	// licMu serialises License changes: each lists the namespace's
	// Licenses and applies the one in force, so the last applied is the
	// newest listed.
	licMu sync.Mutex

	store   *indexStore
	queues  *queues
	causes  *Causes
	retries *retrySchedule
	expiry  *expiries
	seats   *seatGate
	report  startReport
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

// New creates the engine and adds it to the manager. Call it before the
// manager starts. Whom a change touches is the Index's to say
// (access.Affected): the engine registers no field indexes.
func New(_ context.Context, mgr manager.Manager, o Options) (*Engine, error) {
	e := newEngine(mgr.GetCache(), mgr.GetLogger().WithName("engine"), o)
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
	e := &Engine{
		cache:   c,
		log:     log,
		clock:   o.Clock,
		readyCh: make(chan struct{}),
		store:   newIndexStore(o.Clock),
		queues:  newQueues(),
		causes:  NewCauses(),
		retries: newRetrySchedule(o.Clock, o.ResyncPeriod),
		expiry:  newExpiries(o.Clock),
	}
	e.seats = newSeatGate(o.Clock, func(ns string, users []string) { e.queues.add(access.KindUser, ns, users...) })
	return e
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
