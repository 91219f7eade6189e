package engine

import (
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
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

// observeSeat follows the written seats of Users (called for every User
// event, status writes included). Under no lock.
func (e *Engine) observeSeat(old, obj client.Object) {
	var wake []string
	var ns string
	e.seatMu.Lock()
	if u, ok := old.(*iamv1alpha1.User); ok && u != nil {
		k := seatKey{u.Namespace, u.Spec.Profile}
		if _, had := e.written[k][u.Name]; had {
			delete(e.written[k], u.Name)
			// A seat was written free: the grants waiting for it go now.
			for w := range e.waiting[k] {
				wake = append(wake, w)
			}
			delete(e.waiting, k)
			ns = u.Namespace
		}
	}
	defer func() {
		e.seatMu.Unlock()
		if len(wake) > 0 {
			e.mu.Lock()
			e.enqueueLocked(access.KindUser, ns, wake...)
			e.mu.Unlock()
		}
	}()
	if u, ok := obj.(*iamv1alpha1.User); ok && u != nil {
		k := seatKey{u.Namespace, u.Spec.Profile}
		if u.Status.Seat == iamv1alpha1.SeatGranted {
			if e.written[k] == nil {
				e.written[k] = map[string]struct{}{}
			}
			e.written[k][u.Name] = struct{}{}
			delete(e.inflight[k], u.Name)
		}
	}
}

// MayGrant reports whether the status of user (of profile) may now say
// Granted without more statuses of the profile saying so than it has
// seats; if so the grant is counted as in flight until the cache shows it.
// A user whose status already says Granted may always stay so.
func (e *Engine) MayGrant(namespace, profile, user string, seats int32) bool {
	e.seatMu.Lock()
	defer e.seatMu.Unlock()
	k := seatKey{namespace, profile}
	if _, ok := e.written[k][user]; ok {
		return true
	}
	n := int32(len(e.written[k]))
	now := e.clock.Now()
	for u, t := range e.inflight[k] {
		if now.Sub(t) > inflightTTL {
			delete(e.inflight[k], u)
			continue
		}
		if _, counted := e.written[k][u]; !counted && u != user {
			n++
		}
	}
	if n >= seats {
		if e.waiting[k] == nil {
			e.waiting[k] = map[string]struct{}{}
		}
		e.waiting[k][user] = struct{}{}
		return false
	}
	if e.inflight[k] == nil {
		e.inflight[k] = map[string]time.Time{}
	}
	e.inflight[k][user] = now
	return true
}

// GrantFailed forgets a grant MayGrant allowed whose write failed.
func (e *Engine) GrantFailed(namespace, profile, user string) {
	e.seatMu.Lock()
	defer e.seatMu.Unlock()
	delete(e.inflight[seatKey{namespace, profile}], user)
}
