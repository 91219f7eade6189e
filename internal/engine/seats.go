package engine

import (
	"sync"
	"time"

	"k8s.io/utils/clock"

	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// The seat gate keeps the written statuses within the License: the Index
// may move a seat from one user to another in one step (a user ranked
// earlier appears, a licence shrinks), but the two users' statuses are
// written by separate reconciles. A reconcile that would write Granted
// first asks MayGrant, which counts the users of the profile whose status
// says Granted (as the cache has it) and the grants in flight; while the
// profile is full, the grant waits for the user losing the seat to be
// written Pending (it is enqueued again the moment that write is seen, with
// a requeue as a fallback). So at no moment do more statuses say Granted than the
// profile has seats.

// inflightTTL bounds how long a grant is counted before the cache shows it.
const inflightTTL = 10 * time.Second

type seatKey struct{ namespace, profile string }

// seatGate follows the written seats of Users and lets grants through.
type seatGate struct {
	clock clock.Clock
	// wake enqueues users whose grant may go now. Called under no lock.
	wake func(ns string, users []string)

	mu       sync.Mutex
	written  map[seatKey]map[string]struct{}  // users whose status says Granted
	inflight map[seatKey]map[string]time.Time // grants written, not yet seen
	waiting  map[seatKey]map[string]struct{}  // grants waiting for a seat to be written free
}

func newSeatGate(c clock.Clock, wake func(ns string, users []string)) *seatGate {
	return &seatGate{
		clock: c, wake: wake,
		written:  map[seatKey]map[string]struct{}{},
		inflight: map[seatKey]map[string]time.Time{},
		waiting:  map[seatKey]map[string]struct{}{},
	}
}

// observe follows the written seats of Users (called for every User
// event, status writes included). Under no lock.
func (g *seatGate) observe(old, obj client.Object) {
	var wake []string
	var ns string
	g.mu.Lock()
	if u, ok := old.(*iamv1alpha1.User); ok && u != nil {
		k := seatKey{u.Namespace, u.Spec.Profile}
		if _, had := g.written[k][u.Name]; had {
			delete(g.written[k], u.Name)
			// A seat was written free: the grants waiting for it go now.
			for w := range g.waiting[k] {
				wake = append(wake, w)
			}
			delete(g.waiting, k)
			ns = u.Namespace
		}
	}
	defer func() {
		g.mu.Unlock()
		if len(wake) > 0 {
			g.wake(ns, wake)
		}
	}()
	if u, ok := obj.(*iamv1alpha1.User); ok && u != nil {
		k := seatKey{u.Namespace, u.Spec.Profile}
		if u.Status.Seat == iamv1alpha1.SeatGranted {
			if g.written[k] == nil {
				g.written[k] = map[string]struct{}{}
			}
			g.written[k][u.Name] = struct{}{}
			delete(g.inflight[k], u.Name)
		}
	}
}

// mayGrant is Engine.MayGrant.
func (g *seatGate) mayGrant(namespace, profile, user string, seats int32) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	k := seatKey{namespace, profile}
	if _, ok := g.written[k][user]; ok {
		return true
	}
	n := int32(len(g.written[k]))
	now := g.clock.Now()
	for u, t := range g.inflight[k] {
		if now.Sub(t) > inflightTTL {
			delete(g.inflight[k], u)
			continue
		}
		if _, counted := g.written[k][u]; !counted && u != user {
			n++
		}
	}
	if n >= seats {
		if g.waiting[k] == nil {
			g.waiting[k] = map[string]struct{}{}
		}
		g.waiting[k][user] = struct{}{}
		return false
	}
	if g.inflight[k] == nil {
		g.inflight[k] = map[string]time.Time{}
	}
	g.inflight[k][user] = now
	return true
}

// grantFailed is Engine.GrantFailed.
func (g *seatGate) grantFailed(namespace, profile, user string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.inflight[seatKey{namespace, profile}], user)
}

// MayGrant reports whether the status of user (of profile) may now say
// Granted without more statuses of the profile saying so than it has
// seats; if so the grant is counted as in flight until the cache shows it.
// A user whose status already says Granted may always stay so.
func (e *Engine) MayGrant(namespace, profile, user string, seats int32) bool {
	return e.seats.mayGrant(namespace, profile, user, seats)
}

// GrantFailed forgets a grant MayGrant allowed whose write failed.
func (e *Engine) GrantFailed(namespace, profile, user string) {
	e.seats.grantFailed(namespace, profile, user)
}
