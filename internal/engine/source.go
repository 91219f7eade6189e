package engine

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/gatehouse-dev/gatehouse/internal/access"
)

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
	s.e.mu.Lock()
	if s.e.queues[s.kind] != nil {
		s.e.mu.Unlock()
		return fmt.Errorf("the %s source was started twice", s.kind)
	}
	s.e.queues[s.kind] = q
	ready := s.e.ready
	s.e.mu.Unlock()
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

// enqueueLocked adds requests to a kind's queue, if its controller runs.
func (e *Engine) enqueueLocked(kind access.Kind, ns string, names ...string) {
	q := e.queues[kind]
	if q == nil {
		return
	}
	for _, n := range names {
		q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: n}})
	}
}

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
