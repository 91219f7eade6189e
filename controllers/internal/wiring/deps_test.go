package wiring

import (
	"context"
	"slices"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

func TestOptions(t *testing.T) {
	for name, tc := range map[string]struct {
		workers, want int
	}{
		"unset is one worker": {0, 1},
		"negative is one":     {-3, 1},
		"as given":            {4, 4},
	} {
		t.Run(name, func(t *testing.T) {
			if got := (Deps{MaxConcurrentReconciles: tc.workers}).Options().MaxConcurrentReconciles; got != tc.want {
				t.Errorf("MaxConcurrentReconciles = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestAfterUsers(t *testing.T) {
	var calls []string
	r := reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) {
		calls = append(calls, "reconcile")
		return reconcile.Result{}, nil
	})
	gate := func(controller string, r reconcile.Reconciler) reconcile.Reconciler {
		return reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
			calls = append(calls, "wait "+controller)
			return r.Reconcile(ctx, req)
		})
	}
	for name, tc := range map[string]struct {
		d    Deps
		want []string
	}{
		"no gate: the reconciler itself": {Deps{}, []string{"reconcile"}},
		"behind the gate":                {Deps{UsersFirst: gate}, []string{"wait share", "reconcile"}},
	} {
		t.Run(name, func(t *testing.T) {
			calls = nil
			if _, err := tc.d.AfterUsers("share", r).Reconcile(context.Background(), reconcile.Request{}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(calls, tc.want) {
				t.Errorf("calls %q, want %q", calls, tc.want)
			}
		})
	}
}
