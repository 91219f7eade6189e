package testenv

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Context is a context for one test's API calls, cancelled when the test
// ends.
func Context(t testing.TB, timeout time.Duration) context.Context {
	c, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return c
}

// Create creates objects with the administrator client, failing the test on
// the first error.
func (e *Env) Create(t testing.TB, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := e.Client.Create(Context(t, time.Minute), o); err != nil {
			t.Fatalf("cannot create %T %s: %v", o, o.GetName(), err)
		}
	}
}

// Update reads obj, applies change and writes it, retrying (up to 20 times)
// when the write conflicts: the operator, or another writer of the test,
// wrote the object meanwhile. Any other error fails the test at once.
// Writers that collide back off for a few milliseconds, at random, so that
// several of them on one object do not collide again in lockstep.
func Update[T client.Object](t testing.TB, c client.Client, obj T, change func(T)) {
	t.Helper()
	for i := 0; ; i++ {
		if err := c.Get(Context(t, time.Minute), client.ObjectKeyFromObject(obj), obj); err != nil {
			t.Fatalf("cannot read %s: %v", obj.GetName(), err)
		}
		change(obj)
		err := c.Update(Context(t, time.Minute), obj)
		switch {
		case err == nil:
			return
		case !apierrors.IsConflict(err):
			t.Fatalf("cannot update %s: %v", obj.GetName(), err)
		case i >= 20:
			t.Fatalf("cannot update %s: still conflicting after %d tries: %v", obj.GetName(), i+1, err)
		}
		time.Sleep(time.Duration(1+rand.IntN(10*(i+1))) * time.Millisecond) //nolint:gosec // G404: jitter, not a secret
	}
}

// Eventually polls cond every 50 ms until it holds, and fails the test with
// its last explanation after timeout.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var why string
	for time.Now().Before(deadline) {
		var ok bool
		if ok, why = cond(); ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not so after %s: %s", what, timeout, why)
}
