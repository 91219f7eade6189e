package engine

import (
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// pendingNS collects one namespace's objects during the initial sync.
type pendingNS struct {
	objs map[access.Kind]map[string]client.Object
}

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

// stash keeps an object seen before the engine is ready for build, and
// reports whether it did.
func (e *Engine) stash(kind access.Kind, obj client.Object) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ready {
		return false
	}
	e.stashLocked(kind, obj)
	return true
}

func (e *Engine) stashLocked(kind access.Kind, obj client.Object) {
	ns := obj.GetNamespace()
	p := e.pending[ns]
	if p == nil {
		p = &pendingNS{objs: map[access.Kind]map[string]client.Object{}}
		e.pending[ns] = p
	}
	if p.objs[kind] == nil {
		p.objs[kind] = map[string]client.Object{}
	}
	p.objs[kind][obj.GetName()] = obj
}

// setAppliedLocked records obj as what its namespace's Index holds.
func (e *Engine) setAppliedLocked(kind access.Kind, obj client.Object) {
	ns := obj.GetNamespace()
	if e.applied[ns] == nil {
		e.applied[ns] = map[access.Kind]map[string]client.Object{}
	}
	if e.applied[ns][kind] == nil {
		e.applied[ns][kind] = map[string]client.Object{}
	}
	e.applied[ns][kind][obj.GetName()] = obj
}
