package status

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/statusowner"
)

func carol() *iamv1alpha1.User {
	return &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "carol", UID: "u"}}
}

func TestNewWriterRegisters(t *testing.T) {
	const name = "gatehouse-writer-test"
	if statusowner.Registered(name) {
		t.Fatalf("%s is registered before any writer", name)
	}
	w := NewWriter(name, "User")
	if !statusowner.Registered(name) || w.Manager() != name || w.Kind() != "User" {
		t.Errorf("NewWriter(%q) did not register its manager (registered: %v)", name, statusowner.Managers())
	}
	if !slices.Contains(Writers(), w) {
		t.Error("Writers() leaves out a writer made")
	}
}

// A writer whose manager is not registered (made without NewWriter) writes
// nothing, and says which name it refused, before it touches the client
// (nil here: it would panic).
func TestApplyRefusesAnUnregisteredManager(t *testing.T) {
	w := &Writer{manager: "gatehouse-unregistered", kind: "User"}
	err := w.apply(context.Background(), nil, carol(), &sample{})
	if err == nil || !strings.Contains(err.Error(), `"gatehouse-unregistered"`) || !strings.Contains(err.Error(), "ns/carol") {
		t.Fatalf("apply as an unregistered manager = %v, want a refusal that names it", err)
	}
	// Through a Write, whatever the comparison said, once fields were repaired.
	x := &Write{w: w, obj: carol(), repaired: []string{"seat"}}
	if wrote, err := x.Apply(context.Background(), &sample{}, true); wrote || err == nil {
		t.Errorf("Apply after a repair = %v, %v; want the refusal", wrote, err)
	}
}

// Apply writes nothing when the status is unchanged and nothing was
// repaired (the nil client would panic if it were used).
func TestApplyUnchanged(t *testing.T) {
	x := &Write{w: NewWriter("gatehouse-writer-test-unchanged", "User"), obj: carol()}
	if wrote, err := x.Apply(context.Background(), &sample{}, true); wrote || err != nil {
		t.Errorf("Apply of an unchanged status = %v, %v; want no write", wrote, err)
	}
}

// TestEndQuiet: no error, a conflict, a vanished object, no failed status
// or a failed status of nil write nothing (the nil client would panic if
// it were used), and the error stays the reconcile's.
func TestEndQuiet(t *testing.T) {
	w := NewWriter("gatehouse-writer-test-end", "User")
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "db", errors.New("no RBAC"))
	for name, tc := range map[string]struct {
		err    error
		failed func(error) any
	}{
		"no error":      {failed: func(error) any { return &sample{} }},
		"a conflict":    {err: apierrors.NewConflict(schema.GroupResource{Resource: "users"}, "alice", errors.New("changed")), failed: func(error) any { return &sample{} }},
		"gone":          {err: apierrors.NewNotFound(schema.GroupResource{Resource: "users"}, "alice"), failed: func(error) any { return &sample{} }},
		"no failed":     {err: forbidden},
		"failed is nil": {err: forbidden, failed: func(error) any { return nil }},
	} {
		t.Run(name, func(t *testing.T) {
			x := &Write{w: w, obj: carol(), failed: tc.failed}
			e := tc.err
			x.End(context.Background(), &e)
			if e != tc.err {
				t.Errorf("the error changed: %v", e)
			}
		})
	}
}

// End reports the reconcile's error and its own failure to write, never
// one for the other.
func TestEndJoinsItsOwnError(t *testing.T) {
	w := &Writer{manager: "gatehouse-unregistered-end", kind: "User"}
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "db", errors.New("no RBAC"))
	x := &Write{w: w, obj: carol(), failed: func(err error) any {
		return &sample{Conditions: Failed(nil, 1, err)}
	}}
	e := error(forbidden)
	x.End(context.Background(), &e)
	if !errors.Is(e, forbidden) || !strings.Contains(e.Error(), "gatehouse-unregistered-end") {
		t.Errorf("End = %v, want the reconcile's error joined with the write's", e)
	}
}
