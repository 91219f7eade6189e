package controllers

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// gateWith is a users-first gate whose User backlog the test sets.
func gateWith(backlog int, maxWait time.Duration) (*usersFirst, *atomic.Int64) {
	g := &usersFirst{backlog: backlog, maxWait: maxWait, poll: time.Millisecond}
	var n atomic.Int64
	f := func() int { return int(n.Load()) }
	g.userQueueLen.Store(&f)
	return g, &n
}

// reconciled returns a reconciler behind g that signals each call.
func reconciled(g *usersFirst) (reconcile.Reconciler, chan struct{}) {
	done := make(chan struct{}, 10)
	return g.after("share", reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) {
		done <- struct{}{}
		return reconcile.Result{}, nil
	})), done
}

func TestUsersFirst(t *testing.T) {
	t.Run("below the backlog nothing waits", func(t *testing.T) {
		g, n := gateWith(50, time.Hour)
		n.Store(50)
		r, done := reconciled(g)
		if _, err := r.Reconcile(context.Background(), reconcile.Request{}); err != nil {
			t.Fatal(err)
		}
		<-done
	})
	t.Run("above it the bookkeeping waits until the Users are through", func(t *testing.T) {
		g, n := gateWith(50, time.Hour)
		n.Store(1000)
		r, done := reconciled(g)
		go func() { _, _ = r.Reconcile(context.Background(), reconcile.Request{}) }()
		select {
		case <-done:
			t.Fatal("the bookkeeping ran with 1000 User reconciles waiting")
		case <-time.After(50 * time.Millisecond):
		}
		n.Store(3)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the bookkeeping still waits after the User backlog fell")
		}
	})
	t.Run("for at most maxWait", func(t *testing.T) {
		g, n := gateWith(50, 20*time.Millisecond)
		n.Store(1000)
		r, done := reconciled(g)
		start := time.Now()
		if _, err := r.Reconcile(context.Background(), reconcile.Request{}); err != nil {
			t.Fatal(err)
		}
		<-done
		if waited := time.Since(start); waited < 20*time.Millisecond {
			t.Errorf("waited %s, want maxWait (20ms) with the Users still busy", waited)
		}
	})
	t.Run("off, or before the User controller started", func(t *testing.T) {
		off, n := gateWith(0, time.Hour)
		n.Store(1000)
		if off.busy() {
			t.Error("backlog 0 waits")
		}
		if (&usersFirst{backlog: 50}).busy() {
			t.Error("a gate without a User queue waits")
		}
	})
}
