package wiring

import (
	"context"

	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/engine"
)

// Setup creates one controller package's controllers on the manager. Every
// package under controllers/ exposes one (a package with options of its
// own, as its Options' method), and controllers.Setup calls them in one
// loop.
type Setup func(ctx context.Context, mgr ctrl.Manager, d Deps) error

// Deps are what every controller is built with: the engine, the options
// every controller shares, and the User-first ordering of the engine-fed
// controllers. controllers.Setup fills them once.
type Deps struct {
	// Engine is the permission engine: its Indexes say who may do what and
	// whom a change touches, and its Sources feed the engine-fed
	// controllers.
	Engine *engine.Engine
	// MaxConcurrentReconciles is the number of workers of each controller
	// (1 when 0).
	MaxConcurrentReconciles int
	// Namespaces are the namespaces the manager watches; empty means all.
	Namespaces []string
	// Audit receives the audit log (never nil).
	Audit *audit.Logger
	// AdminGroups are the administrator groups (--admin-groups and the
	// break-glass group): no Group may map onto one.
	AdminGroups []string
	// UserQueue is the User controller's NewQueue, whose length UsersFirst
	// reads (controller-runtime's default when nil).
	UserQueue func(string, workqueue.TypedRateLimiter[reconcile.Request]) workqueue.TypedRateLimitingInterface[reconcile.Request]
	// UsersFirst puts a bookkeeping reconciler (Share, ResourceGrant)
	// behind the User controller's backlog (r itself when nil).
	UsersFirst func(controller string, r reconcile.Reconciler) reconcile.Reconciler
}

// Options are the controller.Options of every controller: its workers.
func (d Deps) Options() controller.Options {
	return controller.Options{MaxConcurrentReconciles: max(1, d.MaxConcurrentReconciles)}
}

// Controller starts the builder of the controller name with the shared
// Options, changed by tune (the User controller's queue, the Directory
// controller's back-off).
func (d Deps) Controller(mgr ctrl.Manager, name string, tune ...func(*controller.Options)) *builder.Builder {
	o := d.Options()
	for _, t := range tune {
		t(&o)
	}
	return ctrl.NewControllerManagedBy(mgr).Named(name).WithOptions(o)
}

// EngineFed starts the builder of the controller name that the engine
// feeds with the objects of kind its changes touch: every controller that
// writes a status the engine computes.
func (d Deps) EngineFed(mgr ctrl.Manager, name string, kind access.Kind, tune ...func(*controller.Options)) *builder.Builder {
	return d.Controller(mgr, name, tune...).WatchesRawSource(d.Engine.Source(kind))
}

// AfterUsers is r behind UsersFirst.
func (d Deps) AfterUsers(controller string, r reconcile.Reconciler) reconcile.Reconciler {
	if d.UsersFirst == nil {
		return r
	}
	return d.UsersFirst(controller, r)
}
