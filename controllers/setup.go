package controllers

import (
	"context"
	"fmt"
	"sync"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/controllers/connection"
	"github.com/gatehouse-dev/gatehouse/controllers/directory"
	"github.com/gatehouse-dev/gatehouse/controllers/group"
	"github.com/gatehouse-dev/gatehouse/controllers/internal/status"
	"github.com/gatehouse-dev/gatehouse/controllers/internal/wiring"
	"github.com/gatehouse-dev/gatehouse/controllers/license"
	"github.com/gatehouse-dev/gatehouse/controllers/resourcegrant"
	"github.com/gatehouse-dev/gatehouse/controllers/share"
	"github.com/gatehouse-dev/gatehouse/controllers/user"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/engine"
	"github.com/gatehouse-dev/gatehouse/internal/statusowner"
)

// Options configure the controllers.
type Options struct {
	// MaxConcurrentReconciles is the number of workers of each controller
	// (1 when 0).
	MaxConcurrentReconciles int
	// Audit receives the audit log (nothing when nil).
	Audit *audit.Logger
	// Namespaces are the namespaces the manager watches; empty means all.
	Namespaces []string
	// AdminGroups are the administrator groups (--admin-groups and the
	// break-glass group): no Group may map onto one.
	AdminGroups []string
	// Connection and Directory tune those controllers; their workers and
	// namespaces are the ones above.
	Connection connection.Options
	Directory  directory.Options
	// Engine tunes the permission engine (its resync period).
	Engine engine.Options
	// UsersFirstBacklog is the User controller's backlog above which the
	// Share and ResourceGrant controllers wait, so that User statuses go
	// first (0: never wait; the manager's default is
	// DefaultUsersFirstBacklog).
	UsersFirstBacklog int
}

// CacheByObject is the cache configuration the manager must be created
// with: of Secrets, Roles and RoleBindings it caches only Gatehouse's own,
// of Users not their status.resources (user.CacheTransform), and of every
// Gatehouse kind which status fields someone other than the operator wrote
// (statusowner.CacheTransform) in place of managedFields.
func CacheByObject() map[client.Object]cache.ByObject {
	by := connection.CacheByObject()
	by[&iamv1alpha1.User{}] = cache.ByObject{Transform: user.CacheTransform}
	for _, o := range []client.Object{&iamv1alpha1.Group{}, &iamv1alpha1.License{}, &iamv1alpha1.Share{},
		&iamv1alpha1.ResourceGrant{}, &iamv1alpha1.Connection{}, &iamv1alpha1.Directory{}} {
		by[o] = cache.ByObject{Transform: statusowner.CacheTransform}
	}
	return by
}

var registerMetrics sync.Once

// Setup creates the permission engine and the User, Group, License, Share,
// ResourceGrant, Connection and Directory controllers on the manager, and
// returns the engine (the webhooks and the other controllers read its
// Indexes). Create the manager with CacheByObject.
//
// Every controller package is set up the same way: its Setup (a
// wiring.Setup) takes the one wiring.Deps made here, so that the engine,
// the workers and the namespaces come from one place.
func Setup(ctx context.Context, mgr ctrl.Manager, o Options) (*engine.Engine, error) {
	registerMetrics.Do(func() {
		engine.MustRegister()
		status.MustRegister()
		metrics.Registry.MustRegister(usersFirstWait)
	})
	if o.Audit == nil {
		o.Audit = audit.Discard()
	}
	eng, err := engine.New(ctx, mgr, o.Engine)
	if err != nil {
		return nil, err
	}
	gate := &usersFirst{backlog: o.UsersFirstBacklog, maxWait: time.Minute, poll: 100 * time.Millisecond}
	d := wiring.Deps{
		Engine:                  eng,
		MaxConcurrentReconciles: o.MaxConcurrentReconciles,
		Namespaces:              o.Namespaces,
		Audit:                   o.Audit,
		AdminGroups:             o.AdminGroups,
		UserQueue:               gate.newUserQueue(mgr.GetLogger()),
		UsersFirst:              gate.after,
	}
	for _, p := range []struct {
		name  string
		setup wiring.Setup
	}{
		{"user", user.Setup},
		{"group", group.Setup},
		{"license", license.Setup},
		{"share", share.Setup},
		{"resourcegrant", resourcegrant.Setup},
		{"connection", o.Connection.Setup},
		{"directory", o.Directory.Setup},
	} {
		if err := p.setup(ctx, mgr, d); err != nil {
			return nil, fmt.Errorf("cannot set up the %s controllers: %w", p.name, err)
		}
	}
	// What changed while the operator was down, reported once at start.
	if err := mgr.Add(&startReport{engine: eng, recorder: mgr.GetEventRecorder("gatehouse"), audit: o.Audit}); err != nil {
		return nil, fmt.Errorf("cannot add the start report: %w", err)
	}
	return eng, nil
}
