package testenv

import (
	"context"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
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
// several of them on one object do not collide again in lockstep
// (client-go's retry.RetryOnConflict with a jittered back-off).
func Update[T client.Object](t testing.TB, c client.Client, obj T, change func(T)) {
	t.Helper()
	tries := 0
	err := retry.RetryOnConflict(updateBackoff, func() error {
		tries++
		if err := c.Get(Context(t, time.Minute), client.ObjectKeyFromObject(obj), obj); err != nil {
			return fmt.Errorf("cannot read %s: %w", obj.GetName(), err)
		}
		change(obj)
		return c.Update(Context(t, time.Minute), obj)
	})
	switch {
	case err == nil:
	case apierrors.IsConflict(err):
		t.Fatalf("cannot update %s: still conflicting after %d tries: %v", obj.GetName(), tries, err)
	default:
		t.Fatalf("cannot update %s: %v", obj.GetName(), err)
	}
}

// updateBackoff is Update's: up to 28 tries over two to three seconds, a
// few milliseconds apart growing slowly, with jitter so that writers
// colliding on one object stop colliding in lockstep. 21 tries (about a
// second) ran out once on a loaded machine, where six writers and the
// controllers' status writes took turns on one License.
var updateBackoff = wait.Backoff{Steps: 28, Duration: 5 * time.Millisecond, Factor: 1.15, Jitter: 1.0}

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
