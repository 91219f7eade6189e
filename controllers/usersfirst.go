package controllers

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// DefaultUsersFirstBacklog is the User backlog above which the bookkeeping
// waits (Options.UsersFirstBacklog).
const DefaultUsersFirstBacklog = 50

var usersFirstWait = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "gatehouse_users_first_wait_seconds_total",
	Help: "Seconds the bookkeeping controllers (Share and ResourceGrant reach counts) waited for the User controller's backlog, by controller.",
}, []string{"controller"})

// usersFirst lets User statuses, which people wait for, go ahead of the
// bookkeeping: the reach counts in the statuses of Shares and
// ResourceGrants. A full convergence (a start, a restore, a large import)
// writes five of those for each User status, and the API server's write
// throughput, not the operator, is what they share. While the User
// controller has more than backlog requests waiting, each worker of a
// bookkeeping controller waits before its reconcile, for at most
// maxWait; its requests stay queued (deduplicated), so nothing is
// lost or requeued. In steady state the User backlog is a handful and
// nothing waits. backlog 0 turns it off.
type usersFirst struct {
	backlog int
	// maxWait bounds how long one bookkeeping reconcile waits for the
	// Users (a minute): the bookkeeping converges even while Users keep
	// arriving. poll is how often a waiting worker looks again.
	maxWait, poll time.Duration
	// userQueueLen is the User controller's queue length, once it started.
	userQueueLen atomic.Pointer[func() int]
}

// newUserQueue is the User controller's NewQueue: controller-runtime's
// default priority queue, whose length the gate reads.
func (g *usersFirst) newUserQueue(log logr.Logger) func(string, workqueue.TypedRateLimiter[reconcile.Request]) workqueue.TypedRateLimitingInterface[reconcile.Request] {
	return func(name string, rl workqueue.TypedRateLimiter[reconcile.Request]) workqueue.TypedRateLimitingInterface[reconcile.Request] {
		q := priorityqueue.New(name, func(o *priorityqueue.Opts[reconcile.Request]) {
			o.Log = log.WithValues("controller", name)
			o.RateLimiter = rl
		})
		n := q.Len
		g.userQueueLen.Store(&n)
		return q
	}
}

// busy reports whether the User backlog is above the threshold.
func (g *usersFirst) busy() bool {
	n := g.userQueueLen.Load()
	return g.backlog > 0 && n != nil && (*n)() > g.backlog
}

// wait blocks while the Users are busy, for at most maxWait, and
// counts the time waited.
func (g *usersFirst) wait(ctx context.Context, controller string) {
	if !g.busy() {
		return
	}
	start := time.Now()
	defer func() { usersFirstWait.WithLabelValues(controller).Add(time.Since(start).Seconds()) }()
	t := time.NewTicker(g.poll)
	defer t.Stop()
	for g.busy() && time.Since(start) < g.maxWait {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// after returns r behind the gate.
func (g *usersFirst) after(controller string, r reconcile.Reconciler) reconcile.Reconciler {
	return reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		g.wait(ctx, controller)
		return r.Reconcile(ctx, req)
	})
}
