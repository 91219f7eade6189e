package status

import (
	"context"
	"errors"
	"slices"
	"sync"

	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatehouse-dev/gatehouse/internal/statusowner"
)

// Writer is the one way a controller writes the status of its kind: it
// owns the controller's field manager and registers it with
// internal/statusowner when it is made, so that no controller writes
// under a name the cache would take for someone else's (and repair on
// every reconcile). Every status the operator writes passes through one
// Writer's apply, the one place that sees them all.
//
// Make a controller's writers at package level:
//
//	var writer = status.NewWriter(FieldManager, "Group")
//
// Go initialises package variables before main runs, so every field
// manager is registered before the manager's cache starts transforming
// objects (statusowner.Mark reads the registry).
type Writer struct {
	manager string
	kind    string
	scope   []string
}

var (
	writersMu sync.Mutex
	writers   []*Writer
)

// NewWriter returns the status writer of kind (for messages, Events and
// metrics: "User") under the field manager manager, and registers manager
// with statusowner. scope names the top-level status fields this writer
// owns and repairs (all when empty): the User controller repairs all but
// credentials, the credentials writer credentials only. Field-manager
// names are stored state (the API server keeps them in managedFields):
// never rename one without migrating the objects written under it.
func NewWriter(manager, kind string, scope ...string) *Writer {
	if manager == "" || kind == "" {
		panic("status.NewWriter needs a field manager and a kind")
	}
	statusowner.Register(manager)
	w := &Writer{manager: manager, kind: kind, scope: slices.Clone(scope)}
	writersMu.Lock()
	defer writersMu.Unlock()
	writers = append(writers, w)
	return w
}

// Writers returns every Writer made so far, in the order they were made.
func Writers() []*Writer {
	writersMu.Lock()
	defer writersMu.Unlock()
	return slices.Clone(writers)
}

// Manager is the writer's field manager.
func (w *Writer) Manager() string { return w.manager }

// Kind is the kind whose status the writer writes.
func (w *Writer) Kind() string { return w.kind }

// Write is one reconcile's status write of one object: Begin repairs,
// Apply writes the desired status when it differs, and the deferred End
// writes the failed status when the reconcile fails.
type Write struct {
	w        *Writer
	c        client.Client
	obj      client.Object
	failed   func(error) any
	repaired []string
}

// Begin starts the status write of obj for one reconcile: it first removes
// what someone other than the operator wrote into obj's status within the
// writer's scope (a StatusRepaired Event, a count). failed builds the
// status End writes when the reconcile fails with an error (every field
// the writer owns, with Failed conditions; it may return nil when there is
// nothing it may write); nil for a writer whose failures are reported
// elsewhere, which need not defer End. Begin returns the Write even when
// the repair fails, so that End, deferred first, reports that error too:
//
//	x, err := writer.Begin(ctx, r.Client, r.Recorder, &g, failed)
//	defer x.End(ctx, &err)
//	if err != nil {
//		return ctrl.Result{}, err
//	}
func (w *Writer) Begin(ctx context.Context, c client.Client, rec events.EventRecorder, obj client.Object, failed func(error) any) (*Write, error) {
	x := &Write{w: w, c: c, obj: obj, failed: failed}
	fields, err := repairForeign(ctx, c, rec, obj, w.kind, w.scope...)
	x.repaired = fields
	return x, err
}

// Repaired returns the status fields Begin removed as someone else's (the
// status must then be written even where the cache agrees with it).
func (x *Write) Repaired() []string { return slices.Clone(x.repaired) }

// Skip reports whether Apply would skip the write of a status the
// caller's comparison found unchanged: when Begin repaired nothing.
func (x *Write) Skip(unchanged bool) bool { return unchanged && len(x.repaired) == 0 }

// Apply applies st (a pointer to the kind's status struct, holding only
// the fields the writer owns) unless Begin repaired nothing and unchanged
// (the caller's Unchanged of the written and the desired status) says it
// is written already. It reports whether it wrote.
func (x *Write) Apply(ctx context.Context, st any, unchanged bool) (bool, error) {
	if x.Skip(unchanged) {
		return false, nil
	}
	if err := x.w.apply(ctx, x.c, x.obj, st); err != nil {
		return false, err
	}
	return true, nil
}

// End is the deferred status write of a reconcile that failed with *err:
// unless err is nil or Retried (or the Write has no failed status), it
// applies the failed status and adds its own error to *err if that write
// fails too. It never hides the reconcile's error.
func (x *Write) End(ctx context.Context, err *error) {
	if *err == nil || Retried(*err) || x.failed == nil || x.obj.GetUID() == "" {
		return
	}
	st := x.failed(*err)
	if st == nil {
		return
	}
	if werr := x.w.apply(ctx, x.c, x.obj, st); werr != nil {
		*err = errors.Join(*err, werr)
	}
}
