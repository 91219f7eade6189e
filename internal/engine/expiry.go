package engine

import (
	"context"
	"sync"
	"time"

	"k8s.io/utils/clock"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// expiries are the future expiries of the Licenses in force, by namespace.
type expiries struct {
	clock clock.Clock
	// wake tells the expiry loop that an expiry was noted.
	wake chan struct{}

	mu sync.Mutex
	at map[string]time.Time // namespace -> its License's future expiresAt
}

func newExpiries(c clock.Clock) *expiries {
	return &expiries{clock: c, wake: make(chan struct{}, 1), at: map[string]time.Time{}}
}

// note remembers a License's future expiry.
func (x *expiries) note(ns string, l *iamv1alpha1.License) {
	x.mu.Lock()
	if l.Spec.ExpiresAt != nil && l.Spec.ExpiresAt.After(x.clock.Now()) {
		x.at[ns] = l.Spec.ExpiresAt.Time
	} else {
		delete(x.at, ns)
	}
	x.mu.Unlock()
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

// forget forgets the expiry of a namespace with no License in force.
func (x *expiries) forget(ns string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	delete(x.at, ns)
}

// next returns the earliest expiry, zero if none.
func (x *expiries) next() time.Time {
	x.mu.Lock()
	defer x.mu.Unlock()
	var next time.Time
	for _, t := range x.at {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	return next
}

// due forgets and returns the namespaces whose License expired by now.
func (x *expiries) due(now time.Time) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	var expired []string
	for ns, t := range x.at {
		if t.After(now) {
			continue
		}
		delete(x.at, ns)
		expired = append(expired, ns)
	}
	return expired
}

// expiryLoop sleeps until the next License expiry, then moves the Index's
// clock so the License's users lose their seats, and enqueues them and the
// License.
func (e *Engine) expiryLoop(ctx context.Context) {
	for {
		next := e.expiry.next()
		var timer clock.Timer
		var fire <-chan time.Time
		if !next.IsZero() {
			timer = e.clock.NewTimer(next.Sub(e.clock.Now()) + 10*time.Millisecond)
			fire = timer.C()
		}
		select {
		case <-ctx.Done():
		case <-e.expiry.wake:
		case <-fire:
			e.expire()
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// expire takes the seats of the Licenses that expired: it moves their
// Indexes' clocks and enqueues their users and the Licenses.
func (e *Engine) expire() {
	for _, ns := range e.expiry.due(e.clock.Now()) {
		aff := access.Affected{Licenses: true}
		if n := e.store.get(ns); n != nil {
			n.mu.Lock()
			// The time is read under the namespace's lock, so that an
			// Index's clock never goes back.
			aff.Merge(n.ix.SetNow(e.clock.Now()))
			e.enqueueUsers(ns, aff.Users, "License expired")
			n.mu.Unlock()
		}
		e.enqueueTouched(ns, aff)
	}
}
