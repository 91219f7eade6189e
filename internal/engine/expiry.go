package engine

import (
	"context"
	"time"

	"k8s.io/utils/clock"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// noteExpiryLocked remembers a License's future expiry. Under e.mu.
func (e *Engine) noteExpiryLocked(ns string, l *iamv1alpha1.License) {
	if l.Spec.ExpiresAt != nil && l.Spec.ExpiresAt.After(e.clock.Now()) {
		e.expiry[ns] = l.Spec.ExpiresAt.Time
	} else {
		delete(e.expiry, ns)
	}
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// expiryLoop sleeps until the next License expiry, then moves the Index's
// clock so the License's users lose their seats, and enqueues them and the
// License.
func (e *Engine) expiryLoop(ctx context.Context) {
	for {
		e.mu.Lock()
		var next time.Time
		for _, t := range e.expiry {
			if next.IsZero() || t.Before(next) {
				next = t
			}
		}
		e.mu.Unlock()
		var timer clock.Timer
		var fire <-chan time.Time
		if !next.IsZero() {
			timer = e.clock.NewTimer(next.Sub(e.clock.Now()) + 10*time.Millisecond)
			fire = timer.C()
		}
		select {
		case <-ctx.Done():
		case <-e.wake:
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
	e.mu.Lock()
	now := e.clock.Now()
	var expired []string
	for ns, t := range e.expiry {
		if t.After(now) {
			continue
		}
		delete(e.expiry, ns)
		expired = append(expired, ns)
		if ix := e.indexes[ns]; ix != nil {
			e.enqueueUsersLocked(ns, ix.SetNow(now), "License expired")
		}
	}
	e.mu.Unlock()
	for _, ns := range expired {
		licenses := e.names(ns, &iamv1alpha1.LicenseList{}, "", "")
		e.mu.Lock()
		e.enqueueLocked(access.KindLicense, ns, licenses...)
		e.mu.Unlock()
	}
}
