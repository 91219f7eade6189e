package engine

import (
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

// maxCauses bounds the causes recorded for one user between two takes.
const maxCauses = 8

// Causes remembers, per User, what changed since its status was last
// written, as "Share sales-team changed" or "Group analysts deleted": the
// engine records a cause once it has applied the change to the Index and
// enqueued the User; the User reconciler takes them before it computes,
// and puts them back when its write fails, so that they belong to the
// first write of the result they led to. They are kept here only, in the
// engine, because the engine records them under the namespace's lock in
// the same step as it applies the change. Safe for concurrent use.
type Causes struct {
	mu sync.Mutex
	m  map[types.NamespacedName]*causeList
}

// causeList is one User's causes; fresh counts those recorded since the
// last Take, which maxCauses bounds.
type causeList struct {
	causes []string
	fresh  int
}

// NewCauses returns an empty Causes.
func NewCauses() *Causes { return &Causes{m: map[types.NamespacedName]*causeList{}} }

// record records cause for each of the namespace's users.
func (c *Causes) record(ns string, users []string, cause string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, u := range users {
		key := types.NamespacedName{Namespace: ns, Name: u}
		l := c.m[key]
		if l == nil {
			l = &causeList{}
			c.m[key] = l
		}
		if l.fresh < maxCauses && !slices.Contains(l.causes, cause) {
			l.causes = append(l.causes, cause)
			l.fresh++
		}
	}
}

// Take returns and forgets the user's causes: those put back by Keep
// first, then those recorded since, each once.
func (c *Causes) Take(user types.NamespacedName) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.m[user]
	delete(c.m, user)
	if l == nil {
		return nil
	}
	return l.causes
}

// Keep puts back causes taken by a reconcile whose write failed, before
// those recorded since they were taken.
func (c *Causes) Keep(user types.NamespacedName, causes []string) {
	if len(causes) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.m[user]
	if l == nil {
		c.m[user] = &causeList{causes: slices.Clone(causes)}
		return
	}
	kept := slices.Clone(causes)
	for _, cause := range l.causes {
		if !slices.Contains(kept, cause) {
			kept = append(kept, cause)
		}
	}
	l.causes = kept
}

// Forget forgets the causes of a User that is gone.
func (c *Causes) Forget(user types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, user)
}

// Causes returns why each User is to be reconciled.
func (e *Engine) Causes() *Causes { return e.causes }
