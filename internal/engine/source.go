package engine

import (
	"context"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// queues are the work queues of the controllers the engine is the event
// source of, by kind.
type queues struct {
	mu sync.RWMutex
	// ready is set once build has taken the queues registered so far: a
	// queue registered later enqueues its own objects.
	ready  bool
	byKind map[access.Kind]Queue
}

func newQueues() *queues { return &queues{byKind: map[access.Kind]Queue{}} }

// register adds a kind's queue and reports whether build has run already.
func (q *queues) register(kind access.Kind, queue Queue) (ready bool, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.byKind[kind] != nil {
		return false, fmt.Errorf("the %s source was started twice", kind)
	}
	q.byKind[kind] = queue
	return q.ready, nil
}

// markReady marks the queues ready and returns those registered so far.
func (q *queues) markReady() map[access.Kind]Queue {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.ready = true
	out := make(map[access.Kind]Queue, len(q.byKind))
	for kind, queue := range q.byKind {
		out[kind] = queue
	}
	return out
}

// add adds requests to a kind's queue and reports whether its controller
// runs (has a queue).
func (q *queues) add(kind access.Kind, ns string, names ...string) bool {
	q.mu.RLock()
	queue := q.byKind[kind]
	q.mu.RUnlock()
	if queue == nil {
		return false
	}
	for _, n := range names {
		queue.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: n}})
	}
	return true
}

// Source returns the event source of one kind's controller. Its WaitForSync
// returns once the Indexes are built.
func (e *Engine) Source(kind access.Kind) *Source { return &Source{e: e, kind: kind} }

// Source is a controller's event source: the engine enqueues into its queue.
type Source struct {
	e    *Engine
	kind access.Kind
}

// Start registers the controller's queue; once the engine is ready, every
// object of the kind is enqueued once.
func (s *Source) Start(_ context.Context, q Queue) error {
	ready, err := s.e.queues.register(s.kind, q)
	if err != nil {
		return err
	}
	// Before ready, build enqueues this queue's objects.
	if ready {
		s.e.enqueueAll(s.kind, q)
	}
	return nil
}

// WaitForSync waits until the engine has built its Indexes.
func (s *Source) WaitForSync(ctx context.Context) error {
	select {
	case <-s.e.readyCh:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("the permission indexes were not built in time: %w", ctx.Err())
	}
}

func (s *Source) String() string { return "gatehouse engine: " + string(s.kind) }

// enqueueAll enqueues every object of a kind the Indexes hold (from the
// cache, which holds the same objects) into q. Under no lock.
func (e *Engine) enqueueAll(kind access.Kind, q Queue) {
	for _, k := range kinds {
		if k.kind != kind {
			continue
		}
		list := k.list.DeepCopyObject().(client.ObjectList)
		if err := e.cache.List(context.Background(), list); err != nil {
			e.log.Error(err, "cannot list for the initial reconcile", "kind", kind)
			return
		}
		_ = forEachItem(list, func(o client.Object) {
			q.Add(reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o)})
		})
	}
}

// enqueueUsers enqueues users with the cause of their reconcile.
func (e *Engine) enqueueUsers(ns string, users []string, cause string) {
	e.causes.record(ns, users, cause)
	e.queues.add(access.KindUser, ns, users...)
	reconcilesEnqueued.WithLabelValues(string(access.KindUser)).Add(float64(len(users)))
}

// enqueueTouched enqueues the objects a change touches besides its users,
// as access.Affected names them: the one place they are enqueued. The
// Licenses are the namespace's, listed from the cache. Under no lock.
func (e *Engine) enqueueTouched(ns string, aff access.Affected) {
	for _, t := range []struct {
		kind  access.Kind
		names []string
	}{
		{access.KindGroup, aff.Groups}, {access.KindShare, aff.Shares},
		{access.KindResourceGrant, aff.ResourceGrants}, {access.KindConnection, aff.Connections},
	} {
		if len(t.names) > 0 && e.queues.add(t.kind, ns, t.names...) {
			reconcilesEnqueued.WithLabelValues(string(t.kind)).Add(float64(len(t.names)))
		}
	}
	if !aff.Licenses {
		return
	}
	var list iamv1alpha1.LicenseList
	if err := e.cache.List(context.Background(), &list, client.InNamespace(ns), client.UnsafeDisableDeepCopy); err != nil {
		e.log.Error(err, "cannot list the Licenses from the cache", "namespace", ns)
		return
	}
	names := make([]string, len(list.Items))
	for i := range list.Items {
		names[i] = list.Items[i].Name
	}
	if len(names) > 0 && e.queues.add(access.KindLicense, ns, names...) {
		reconcilesEnqueued.WithLabelValues(string(access.KindLicense)).Add(float64(len(names)))
	}
}
