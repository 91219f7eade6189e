package engine

import (
	"slices"

	"k8s.io/apimachinery/pkg/types"

	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// maxCauses bounds the causes remembered for one user between reconciles.
const maxCauses = 8

// TakeCauses returns and forgets what changed since the user was last
// reconciled, as "Share sales-team" or "Group analysts deleted".
func (e *Engine) TakeCauses(user types.NamespacedName) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.causes[user]
	delete(e.causes, user)
	return c
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
