package engine

import (
	"context"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// handler follows one kind's informer.
func (e *Engine) handler(kind access.Kind) toolscache.ResourceEventHandler {
	return toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if o, ok := obj.(client.Object); ok {
				if kind == access.KindUser {
					e.seats.observe(nil, o)
				}
				e.upsert(kind, nil, o)
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			o, ok1 := oldObj.(client.Object)
			n, ok2 := newObj.(client.Object)
			if !ok1 || !ok2 {
				return
			}
			if kind == access.KindUser {
				e.seats.observe(o, n)
			}
			// Only the spec decides access (and, for a User, its creation
			// time, which never changes): status writes and the informers'
			// resyncs are not changes.
			if o.GetGeneration() == n.GetGeneration() && o.GetUID() == n.GetUID() {
				if o.GetResourceVersion() != n.GetResourceVersion() {
					e.recheck(kind, n)
				}
				return
			}
			e.upsert(kind, o, n)
		},
		DeleteFunc: func(obj any) {
			if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if o, ok := obj.(client.Object); ok {
				if kind == access.KindUser {
					e.seats.observe(o, nil)
				}
				e.remove(kind, o)
			}
		},
	}
}

// recheck reconciles an object once more when a write the index does not
// follow (its status, mostly its own controller's) is seen. The reconcilers
// compare with the cache, and a reconcile that ran while its previous write
// was still on its way could find the cache equal to what it computes and
// skip a write the API server needed (a member count that went 2 → 3 → 2,
// a User's permissions that flipped and flipped back). Rechecking when the
// write arrives settles it; it reads the cache and the index only (for a
// User, one ComputeUser), and writes nothing when nothing differs. It also
// brings a status someone other than the operator wrote (statusowner) to
// the reconciler that removes it.
func (e *Engine) recheck(kind access.Kind, obj client.Object) {
	if e.store.stash(kind, obj) {
		return
	}
	ns, name := obj.GetNamespace(), obj.GetName()
	// The same spec, a newer status: what resync compares with. A spec
	// the Index failed to take stays as it was, so resync still sees it.
	if n := e.store.get(ns); n != nil {
		n.mu.Lock()
		if prev := n.applied[kind][name]; prev != nil &&
			prev.GetUID() == obj.GetUID() && prev.GetGeneration() == obj.GetGeneration() {
			n.setApplied(kind, obj)
		}
		n.mu.Unlock()
	}
	if e.queues.add(kind, ns, name) {
		statusRechecks.WithLabelValues(string(kind)).Inc()
	}
}

// upsert applies a created or changed object to its namespace's Index and
// enqueues what it touches.
func (e *Engine) upsert(kind access.Kind, old, obj client.Object) {
	e.apply(kind, old, obj, false)
}

// apply applies obj (created or changed; old is its previous version, nil
// if none) to the namespace's Index, enqueues the reconciles it causes and
// reports whether it did. With repair (resync), it does so only if the
// Index still holds old, so that an event applied meanwhile is not undone.
func (e *Engine) apply(kind access.Kind, old, obj client.Object, repair bool) bool {
	if e.store.stash(kind, obj) {
		return true
	}
	ns, name := obj.GetNamespace(), obj.GetName()
	cause := string(kind) + " " + name
	if old == nil {
		cause += " created"
	} else {
		cause += " changed"
	}
	if kind == access.KindLicense {
		aff, ok := e.licenseChanged(ns, cause)
		if ok {
			e.enqueueTouched(ns, aff)
		}
		return ok
	}
	n := e.store.namespace(ns)
	n.mu.Lock()
	if repair && n.applied[kind][name] != old {
		n.mu.Unlock()
		return false
	}
	aff, err := n.ix.Upsert(obj)
	if err != nil {
		n.mu.Unlock()
		e.retries.failed(ns)
		e.log.Error(err, "cannot index the object; retrying", "kind", kind, "namespace", ns, "name", name)
		return false
	}
	n.setApplied(kind, obj)
	// Recorded after the Index took the change, so that a reconcile that
	// takes the cause computes its effect.
	e.enqueueUsers(ns, aff.Users, cause)
	n.mu.Unlock()
	e.enqueueTouched(ns, aff)
	return true
}

// remove removes a deleted object from its namespace's Index and enqueues
// what it touches.
func (e *Engine) remove(kind access.Kind, obj client.Object) {
	e.drop(kind, obj, false)
}

// drop removes obj from the namespace's Index and reports whether it did;
// with repair, only if the Index still holds obj.
func (e *Engine) drop(kind access.Kind, obj client.Object, repair bool) bool {
	if e.store.unstash(kind, obj) {
		return true
	}
	ns, name := obj.GetNamespace(), obj.GetName()
	n := e.store.get(ns)
	if n == nil {
		return false
	}
	cause := string(kind) + " " + name + " deleted"
	if kind == access.KindLicense {
		n.mu.Lock()
		held := n.applied[kind][name]
		n.mu.Unlock()
		if repair && held != obj {
			return false
		}
		aff, ok := e.licenseChanged(ns, cause)
		if ok {
			e.enqueueTouched(ns, aff)
		}
		return ok
	}
	n.mu.Lock()
	if repair && n.applied[kind][name] != obj {
		n.mu.Unlock()
		return false
	}
	aff, err := n.ix.Delete(kind, name)
	if err != nil {
		n.mu.Unlock()
		e.retries.failed(ns)
		e.log.Error(err, "cannot remove the object from the index; retrying", "kind", kind, "namespace", ns, "name", name)
		return false
	}
	delete(n.applied[kind], name)
	users := aff.Users
	if kind == access.KindUser {
		e.causes.Forget(client.ObjectKeyFromObject(obj))
		users = slices.DeleteFunc(slices.Clone(users), func(u string) bool { return u == name })
	}
	e.enqueueUsers(ns, users, cause)
	n.mu.Unlock()
	e.enqueueTouched(ns, aff)
	return true
}

func forEachItem(list client.ObjectList, fn func(client.Object)) error {
	return meta.EachListItem(list, func(o runtime.Object) error {
		if co, ok := o.(client.Object); ok {
			fn(co)
		}
		return nil
	})
}

// licenseChanged puts the License in force (from the cache, which already
// holds the change) into the namespace's Index and enqueues the users it
// touches, including those whose seats the clock takes away; it returns
// what else the change touches (the Licenses always: the changed one may
// not be the one in force) and whether it applied it. It lists the
// Licenses under licMu, not the namespace's lock, so the one applied last
// is from the newest list whoever calls it (an event or resync).
func (e *Engine) licenseChanged(ns, cause string) (access.Affected, bool) {
	e.licMu.Lock()
	defer e.licMu.Unlock()
	var list iamv1alpha1.LicenseList
	if err := e.cache.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		e.retries.failed(ns)
		e.log.Error(err, "cannot list the Licenses; retrying", "namespace", ns)
		return access.Affected{}, false
	}
	n := e.store.namespace(ns)
	n.mu.Lock()
	defer n.mu.Unlock()
	aff := n.ix.SetNow(e.clock.Now())
	l := access.LicenseInForce(list.Items)
	var more access.Affected
	var err error
	if l == nil {
		e.expiry.forget(ns)
		more, err = n.ix.Delete(access.KindLicense, "")
	} else {
		e.expiry.note(ns, l)
		more, err = n.ix.Upsert(l.DeepCopy())
	}
	if err != nil {
		e.retries.failed(ns)
		e.log.Error(err, "cannot index the License; retrying", "namespace", ns)
		return access.Affected{}, false
	}
	// The Index holds the namespace's Licenses as listed.
	held := make(map[string]client.Object, len(list.Items))
	for i := range list.Items {
		held[list.Items[i].Name] = &list.Items[i]
	}
	n.applied[access.KindLicense] = held
	aff.Merge(more)
	aff.Licenses = true
	e.enqueueUsers(ns, aff.Users, cause)
	return aff, true
}
