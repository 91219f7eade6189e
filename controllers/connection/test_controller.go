package connection

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/controllers/internal/status"
	"github.com/gatehouse-dev/gatehouse/internal/outbound"
	"github.com/gatehouse-dev/gatehouse/internal/probe"
)

// TestReconciler runs the connection tests, in a controller of their own so
// that a database that answers slowly (or not at all, until the test's
// timeout) holds up no Connection's RBAC projection. It writes nothing: it
// records each verdict in Tests and tells the Connection controller, which
// writes Reachable and lastTestTime with the rest of the status (one field
// manager for the whole Connection status).
type TestReconciler struct {
	// Client reads Connections from the cache.
	Client client.Client
	// Secrets reads the referenced Secrets live.
	Secrets client.Reader
	// Tests runs and records the tests.
	Tests *Tests
	// TestAllowedCIDRs: see Reconciler.
	TestAllowedCIDRs []netip.Prefix
}

// Reconcile tests the Connection when a test is due, and asks to be called
// again when the next one is.
func (r *TestReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var conn iamv1alpha1.Connection
	if err := r.Client.Get(ctx, req.NamespacedName, &conn); err != nil {
		if apierrors.IsNotFound(err) {
			r.Tests.Forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if conn.DeletionTimestamp != nil {
		return ctrl.Result{}, nil
	}
	s := &scope{conn: &conn}
	if err := readSecrets(ctx, r.Secrets, s); err != nil {
		return ctrl.Result{}, err
	}
	creds := credentialsCondition(&conn, s.results, counts{})
	if _, ok := untestable(&conn, s, creds.Status == metav1.ConditionTrue); !ok {
		// The Connection controller says why; nothing to test.
		return ctrl.Result{}, nil
	}
	cred, err := outbound.BasicFrom(s.global)
	if err != nil {
		return ctrl.Result{}, nil
	}
	inputs := testInputs(&conn, s.global)
	personal := conn.Annotations[iamv1alpha1.AnnotationCreatedBy] != ""
	if personal {
		if c, refused := r.personalTarget(ctx, &conn); refused {
			if r.Tests.Set(req.NamespacedName, TestRecord{Inputs: inputs, Reachable: c}) {
				r.Tests.Done(ctx, req.NamespacedName)
			}
			return ctrl.Result{}, nil
		}
	}
	tester := r.Tests.Tester
	if personal {
		// Checked again at connect time, on the address connected to.
		tester.Dial = probe.GuardedDial(r.TestAllowedCIDRs)
	}
	before, _ := r.Tests.Last(req.NamespacedName)
	rec, wait, err := r.Tests.Run(ctx, req.NamespacedName, inputs, func(ctx context.Context) (metav1.Condition, error) {
		ctrl.LoggerFrom(ctx).V(1).Info("testing the connection", "connection", klog.KObj(&conn), "type", conn.Spec.Type)
		res, err := tester.TestConnection(ctx, &conn.Spec, cred)
		if err != nil {
			return metav1.Condition{}, err
		}
		return verdict(personal, res), nil
	})
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("cannot test Connection %s/%s: %w", conn.Namespace, conn.Name, err)
	}
	if rec.Inputs != before.Inputs || !rec.At.Equal(before.At) || rec.Reachable != before.Reachable {
		r.Tests.Done(ctx, req.NamespacedName)
	}
	return ctrl.Result{RequeueAfter: wait}, nil
}

// verdict is the Reachable condition of a test result. A personal
// connection's says only whether it answered: telling refused, closed and
// wrong password apart for any host and port would be a port scanner.
func verdict(personal bool, res probe.Result) metav1.Condition {
	if !personal {
		return reachableCondition(res)
	}
	if res.Reachable {
		return status.Condition(iamv1alpha1.ConditionReachable, true, probe.ReasonReachable, "The connection answered the test.")
	}
	return status.Condition(iamv1alpha1.ConditionReachable, false, iamv1alpha1.ReasonUnreachable,
		"The connection test failed (a personal connection reports no more than that; an administrator can test it from a Connection of their own).")
}

// personalTarget refuses to test a personal connection (created by a
// non-administrator) whose host resolves to a loopback, link-local
// (cloud metadata), unspecified or multicast address, unless
// --connection-test-allowed-cidrs allows it: the operator's network
// position is not the creator's to use.
func (r *TestReconciler) personalTarget(ctx context.Context, conn *iamv1alpha1.Connection) (metav1.Condition, bool) {
	host := conn.Spec.Parameters["host"]
	notAllowed := func(what string) (metav1.Condition, bool) {
		c := status.Condition(iamv1alpha1.ConditionReachable, false, ReasonAddressNotAllowed, fmt.Sprintf(
			"Not tested: host %q %s, and personal connections are never tested against loopback, link-local or metadata addresses; an administrator may allow ranges with --connection-test-allowed-cidrs.", host, what))
		return c, true
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(lctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return status.Condition(iamv1alpha1.ConditionReachable, false, iamv1alpha1.ReasonUnreachable, "The connection test failed: its host does not resolve."), true
	}
	for _, a := range addrs {
		a = a.Unmap()
		if !probe.AddressAllowed(a, r.TestAllowedCIDRs) {
			return notAllowed("resolves to " + a.String())
		}
	}
	return metav1.Condition{}, false
}
