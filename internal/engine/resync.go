package engine

import (
	"context"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// The safety net. The Indexes follow the informers' events; an event the
// engine failed to apply (an Index update or a cache listing that returned
// an error) or never saw would leave the Index, and the statuses computed
// from it, stale until the next change of the same objects. So:
//
//   - a failure schedules a resync of its namespace after retryMin,
//     doubling on each failure up to the resync period;
//   - every resync period (--engine-resync-period, DefaultResyncPeriod)
//     each namespace's Index is compared with the cache, and each object
//     whose spec differs from what the Index was given (UID or generation;
//     present or absent) is applied again through the same path as its
//     event, which enqueues the reconciles it causes; an object whose
//     resourceVersion differs but not its spec (a status write whose event
//     was missed) is rechecked, and a User's written seat followed.
//
// So no lost event or failed update leaves a status stale for longer than
// the resync period (plus the reconcile itself, whose errors the controllers
// requeue with backoff). The informers' own resyncs are not used: they
// replay the cache to the handlers, which cannot tell what they missed.
// A resync lists the cache without deep copies and costs, when nothing
// differs, one pass over its objects.

// DefaultResyncPeriod is how often the Indexes are compared with the cache
// by default.
const DefaultResyncPeriod = 10 * time.Minute

// retryMin is the first delay before a namespace whose update failed is
// resynced.
const retryMin = time.Second

// retry is a namespace's scheduled resync after a failure.
type retry struct {
	at      time.Time     // when; zero while it runs
	delay   time.Duration // the last delay, doubled on the next failure
	running bool
}

// retrySchedule holds the namespaces to resync soon because applying an
// object failed.
type retrySchedule struct {
	clock  clock.Clock
	period time.Duration
	// wake tells the resync loop that a retry was scheduled.
	wake chan struct{}

	mu   sync.Mutex
	byNS map[string]*retry
}

func newRetrySchedule(c clock.Clock, period time.Duration) *retrySchedule {
	return &retrySchedule{clock: c, period: period, wake: make(chan struct{}, 1), byNS: map[string]*retry{}}
}

// failed schedules a resync of ns after a failure, backing off while
// failures repeat.
func (s *retrySchedule) failed(ns string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.byNS[ns]
	if r == nil {
		r = &retry{}
		s.byNS[ns] = r
	}
	if !r.at.IsZero() && !r.running {
		return // already scheduled
	}
	r.delay = min(max(2*r.delay, retryMin), s.period)
	r.at = s.clock.Now().Add(r.delay)
	r.running = false
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// next returns the earliest scheduled retry, or full if it is earlier.
func (s *retrySchedule) next(full time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := full
	for _, r := range s.byNS {
		if !r.at.IsZero() && r.at.Before(next) {
			next = r.at
		}
	}
	return next
}

// take marks the retries due at now (all with every) as running and
// returns their namespaces.
func (s *retrySchedule) take(now time.Time, every bool) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for ns, r := range s.byNS {
		if r.at.IsZero() || (!every && r.at.After(now)) {
			continue
		}
		r.at, r.running = time.Time{}, true
		out = append(out, ns)
	}
	return out
}

// finish forgets the retries of namespaces that were resynced without a
// new failure.
func (s *retrySchedule) finish(namespaces []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ns := range namespaces {
		if r := s.byNS[ns]; r != nil && r.running {
			delete(s.byNS, ns)
		}
	}
}

// resyncLoop resyncs every namespace each period, and a namespace whose
// update failed when its retry is due.
func (e *Engine) resyncLoop(ctx context.Context) {
	full := e.clock.Now().Add(e.retries.period)
	for {
		next := e.retries.next(full)
		if d := next.Sub(e.clock.Now()); d > 0 {
			timer := e.clock.NewTimer(d)
			select {
			case <-ctx.Done():
			case <-e.retries.wake:
			case <-timer.C():
			}
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
		now := e.clock.Now()
		if !now.Before(full) {
			full = now.Add(e.retries.period)
			e.resyncNamespaces(ctx, "", e.retries.take(now, true))
			continue
		}
		for _, ns := range e.retries.take(now, false) {
			e.resyncNamespaces(ctx, ns, []string{ns})
		}
	}
}

// difference is an object whose spec the Index holds differently from the
// cache: had is what the Index was given (nil: nothing), cached what the
// cache holds (nil: nothing).
type difference struct {
	kind        access.Kind
	ns, name    string
	had, cached client.Object
}

// resyncNamespaces compares the Indexes of namespace ns (every namespace when "")
// with the cache and applies what differs; retried are the namespaces
// whose failure it settles.
func (e *Engine) resyncNamespaces(ctx context.Context, ns string, retried []string) {
	cached := map[string]map[access.Kind]map[string]client.Object{}
	for _, k := range kinds {
		list := k.list.DeepCopyObject().(client.ObjectList)
		opts := []client.ListOption{client.UnsafeDisableDeepCopy}
		if ns != "" {
			opts = append(opts, client.InNamespace(ns))
		}
		if err := e.cache.List(ctx, list, opts...); err != nil {
			e.log.Error(err, "cannot list the cache to resync the permission indexes", "kind", k.kind, "namespace", ns)
			for _, n := range retried {
				e.retries.failed(n)
			}
			return
		}
		_ = forEachItem(list, func(o client.Object) {
			byKind := cached[o.GetNamespace()]
			if byKind == nil {
				byKind = map[access.Kind]map[string]client.Object{}
				cached[o.GetNamespace()] = byKind
			}
			if byKind[k.kind] == nil {
				byKind[k.kind] = map[string]client.Object{}
			}
			byKind[k.kind][o.GetName()] = o
		})
	}
	diffs, statuses := e.compare(ns, cached)
	for _, d := range diffs {
		e.repair(ctx, d)
	}
	for _, s := range statuses {
		if s.kind == access.KindUser {
			e.seats.observe(s.had, s.cached)
		}
		e.recheck(s.kind, s.cached)
	}
	e.retries.finish(retried)
}

// compare returns the objects whose spec differs between the Indexes of
// ns (all when "") and cached, and those whose status alone does. It holds
// one namespace's lock for one kind at a time (a difference an event settles
// meanwhile is skipped by repair).
func (e *Engine) compare(ns string, cached map[string]map[access.Kind]map[string]client.Object) (diffs, statuses []difference) {
	for _, k := range kinds {
		d, s := e.compareKind(ns, k.kind, cached)
		diffs, statuses = append(diffs, d...), append(statuses, s...)
	}
	return diffs, statuses
}

func (e *Engine) compareKind(ns string, kind access.Kind, cached map[string]map[access.Kind]map[string]client.Object) (diffs, statuses []difference) {
	namespaces := map[string]bool{}
	for n := range cached {
		namespaces[n] = true
	}
	for _, n := range e.store.namespaces() {
		if ns == "" || n == ns {
			namespaces[n] = true
		}
	}
	for n := range namespaces {
		d, s := e.compareNamespace(n, kind, cached[n][kind])
		diffs, statuses = append(diffs, d...), append(statuses, s...)
	}
	return diffs, statuses
}

// compareNamespace is compareKind for one namespace, under its lock.
func (e *Engine) compareNamespace(n string, kind access.Kind, now map[string]client.Object) (diffs, statuses []difference) {
	var had map[string]client.Object
	if ix := e.store.get(n); ix != nil {
		ix.mu.Lock()
		defer ix.mu.Unlock()
		had = ix.applied[kind]
	}
	for name, c := range now {
		h := had[name]
		switch {
		case h == nil || h.GetUID() != c.GetUID() || h.GetGeneration() != c.GetGeneration():
			diffs = append(diffs, difference{kind, n, name, h, c})
		case h.GetResourceVersion() != c.GetResourceVersion():
			statuses = append(statuses, difference{kind, n, name, h, c})
		}
	}
	for name, h := range had {
		if now[name] == nil {
			diffs = append(diffs, difference{kind, n, name, h, nil})
		}
	}
	return diffs, statuses
}

// repair applies one difference again, from the newest cached object (the
// cache is never behind the Index: an informer stores an object before
// telling the handlers). It does nothing if an event changed the Index's
// object meanwhile.
func (e *Engine) repair(ctx context.Context, d difference) {
	var latest client.Object
	for _, k := range kinds {
		if k.kind == d.kind {
			latest = k.obj.DeepCopyObject().(client.Object)
		}
	}
	err := e.cache.Get(ctx, client.ObjectKey{Namespace: d.ns, Name: d.name}, latest)
	switch {
	case apierrors.IsNotFound(err):
		latest = nil
	case err != nil:
		e.log.Error(err, "cannot read the cache to resync the permission index", "kind", d.kind, "namespace", d.ns, "name", d.name)
		e.retries.failed(d.ns)
		return
	}
	if latest != nil && d.had != nil && latest.GetUID() == d.had.GetUID() && latest.GetGeneration() == d.had.GetGeneration() {
		return // an event brought the Index up to date meanwhile
	}
	indexRepairs.WithLabelValues(string(d.kind)).Inc()
	e.log.Info("the permission index missed a change; applying it again", "kind", d.kind, "namespace", d.ns, "name", d.name)
	had := d.had
	if had != nil && (latest == nil || latest.GetUID() != had.GetUID()) {
		if d.kind == access.KindUser {
			e.seats.observe(had, nil)
		}
		if !e.drop(d.kind, had, true) {
			return
		}
		had = nil
	}
	if latest == nil {
		return
	}
	if d.kind == access.KindUser {
		e.seats.observe(had, latest)
	}
	e.apply(d.kind, had, latest, true)
}
