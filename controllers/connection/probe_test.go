package connection_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/probe"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// TestHangingProbeDelaysNoProjection: while connection tests hang on a
// database that never answers (each until the test timeout, 3 seconds
// here), another Connection's Secret is projected into RBAC at once: the
// tests run in their own controller, not in the RBAC reconcile.
func TestHangingProbeDelaysNoProjection(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	port, accepted := testenv.SilentListener(t)
	params := map[string]string{"host": "127.0.0.1", "port": strconv.Itoa(port), "database": "db"}
	const hanging = 4 // twice the test and reconcile workers
	objs := []client.Object{seatedLicense(ns, 10), group(ns, "readers", "k8s-readers"), seated(user(ns, "eve", "readers"))}
	for i := range hanging {
		name := fmt.Sprintf("slow-%d", i)
		objs = append(objs, markedFor(name, secret(ns, name, basic("svc", "pw-slow-"+name), nil)),
			globalConn(ns, name, iamv1alpha1.ConnectionPostgreSQL, name, params))
	}
	create(t, objs...)
	eventually(t, "the connection tests reach the hanging database", func() (bool, string) {
		n := accepted.Load()
		return n >= 2, fmt.Sprintf("%d connections accepted", n)
	})

	fast := globalConn(ns, "fast", iamv1alpha1.ConnectionType("Snowflake"), "fast", nil)
	fast.Spec.DetailsReadableBy = groups("readers")
	start := time.Now()
	create(t, markedFor("fast", secret(ns, "fast", basic("svc", "pw-fast-1"), nil)), fast)
	eventually(t, "the fast Connection's RoleBinding", func() (bool, string) {
		var b rbacv1.RoleBinding
		err := env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: "gatehouse:connection:fast"}, &b)
		return err == nil && len(b.Subjects) == 1, fmt.Sprintf("%v %v", err, b.Subjects)
	})
	took := time.Since(start)
	t.Logf("projected in %v while %d tests hung", took.Round(time.Millisecond), accepted.Load())
	// With the tests in the RBAC reconcile, its two workers waited for two
	// hanging tests (3 s each) before the fast Connection's turn.
	if took > 2500*time.Millisecond {
		t.Errorf("the projection took %v while tests hung: it waited for them", took)
	}
	// The hanging tests end with their timeout, reported as Reachable.
	for i := range hanging {
		waitCondition(t, ns, fmt.Sprintf("slow-%d", i), iamv1alpha1.ConditionReachable, fls, probe.ReasonTimeout)
	}
}
