// Package status writes the controllers' status with server-side apply of
// the status subresource, each controller as its own field manager, so that
// two controllers writing parts of one status (the User controller its
// permissions, the Connection controller its credentials) never overwrite
// each other and never race the spec. A controller writes only through its
// Writer, which registers its field manager with internal/statusowner.
package status

import (
	"context"
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/gatehouse-dev/gatehouse/api/v1alpha1/applyconfiguration"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/statusowner"
	"github.com/gatehouse-dev/gatehouse/internal/words"
)

// writes counts status writes by kind: a no-op reconcile writes nothing.
var writes = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "gatehouse_status_writes_total",
	Help: "Status writes (server-side applies of the status subresource), by kind.",
}, []string{"kind"})

// MustRegister registers the status metrics with the manager's registry.
// Call it once per process.
func MustRegister() { metrics.Registry.MustRegister(writes, repairs) }

// apply applies status (a pointer to the kind's status struct, holding
// only the fields the writer's field manager owns) to obj's status
// subresource by server-side apply with force, under the writer's field
// manager, with obj's UID as a precondition. A field the manager owned
// before and leaves out now is removed. It refuses a field manager
// statusowner does not know: its writes would be repaired as foreign.
// Every status the operator writes passes here.
func (w *Writer) apply(ctx context.Context, c client.Client, obj client.Object, status any) error {
	if !statusowner.Registered(w.manager) {
		return fmt.Errorf("cannot write the status of %s %s/%s as %q: not a registered status field manager (make the writer with status.NewWriter)",
			w.kind, obj.GetNamespace(), obj.GetName(), w.manager)
	}
	gvk, err := apiutil.GVKForObject(obj, c.Scheme())
	if err != nil {
		return fmt.Errorf("cannot tell the kind of %T: %w", obj, err)
	}
	st, err := runtime.DefaultUnstructuredConverter.ToUnstructured(status)
	if err != nil {
		return fmt.Errorf("cannot encode the status of %s %s: %w", gvk.Kind, obj.GetName(), err)
	}
	u := &unstructured.Unstructured{Object: map[string]any{"status": st}}
	u.SetGroupVersionKind(gvk)
	u.SetName(obj.GetName())
	u.SetNamespace(obj.GetNamespace())
	// The UID makes the apply fail rather than write into a new object of
	// the same name created since the read.
	u.SetUID(obj.GetUID())
	ac, err := typed(u)
	if err != nil {
		return fmt.Errorf("cannot write the status of %s %s/%s: %w", gvk.Kind, obj.GetNamespace(), obj.GetName(), err)
	}
	if err := c.Status().Apply(ctx, ac, client.FieldOwner(w.manager), client.ForceOwnership); err != nil {
		return fmt.Errorf("cannot write the status of %s %s/%s: %w", gvk.Kind, obj.GetNamespace(), obj.GetName(), err)
	}
	writes.WithLabelValues(gvk.Kind).Inc()
	return nil
}

// typed is the generated apply configuration of u's kind
// (api/v1alpha1/applyconfiguration) holding u: the status struct's JSON
// (its omitempty fields left out) in the apply configuration's typed
// fields. A field the apply configuration does not know is an error,
// never dropped.
func typed(u *unstructured.Unstructured) (runtime.ApplyConfiguration, error) {
	ac, ok := applyconfiguration.ForKind(u.GroupVersionKind()).(runtime.ApplyConfiguration)
	if !ok {
		return nil, fmt.Errorf("no apply configuration of %s", u.GroupVersionKind())
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, ac, true); err != nil {
		return nil, fmt.Errorf("the status does not fit the %s apply configuration: %w", u.GetKind(), err)
	}
	return ac, nil
}

// Conditions returns the desired conditions with the transition times of
// the current ones kept where the status did not change, and the
// observedGeneration set.
func Conditions(current []metav1.Condition, generation int64, desired ...metav1.Condition) []metav1.Condition {
	out := make([]metav1.Condition, 0, len(desired))
	for _, d := range desired {
		d.ObservedGeneration = generation
		if cur := meta.FindStatusCondition(current, d.Type); cur != nil && cur.Status == d.Status {
			d.LastTransitionTime = cur.LastTransitionTime
		} else {
			d.LastTransitionTime = metav1.Now()
		}
		out = append(out, d)
	}
	return out
}

// ConditionsEqual reports whether current holds the desired conditions with
// the same status, reason, message and observedGeneration (ignoring
// transition times), and none of the other owned types. Conditions of types
// neither desired nor owned (other field managers') are ignored.
func ConditionsEqual(current []metav1.Condition, desired []metav1.Condition, owned ...string) bool {
	for _, typ := range owned {
		if meta.FindStatusCondition(current, typ) != nil && meta.FindStatusCondition(desired, typ) == nil {
			return false
		}
	}
	for _, d := range desired {
		cur := meta.FindStatusCondition(current, d.Type)
		if cur == nil || cur.Status != d.Status || cur.Reason != d.Reason || cur.Message != d.Message ||
			cur.ObservedGeneration != d.ObservedGeneration {
			return false
		}
	}
	return true
}

// Equal compares two values with the API's semantics (a nil and an empty
// list are the same).
func Equal(a, b any) bool { return equality.Semantic.DeepEqual(a, b) }

// Condition builds a condition.
func Condition(typ string, ok bool, reason, message string) metav1.Condition {
	s := metav1.ConditionFalse
	if ok {
		s = metav1.ConditionTrue
	}
	return metav1.Condition{Type: typ, Status: s, Reason: reason, Message: message}
}

// FromReport is what the engine report rep of an object of generation
// says of its status (a Share's or a ResourceGrant's): the users reached,
// and the conditions, with transition times kept from the written
// conditions cur. Ready is True with the users reached, or False with the
// first problem's reason and every problem's sentence.
func FromReport(generation int64, cur []metav1.Condition, rep *access.ObjectReport) (int32, []metav1.Condition) {
	ready := Condition("Ready", true, "Reconciled", fmt.Sprintf("Reaches %s.", words.Count(rep.Users, "active user", "active users")))
	if len(rep.Problems) > 0 {
		msgs := make([]string, len(rep.Problems))
		for i, p := range rep.Problems {
			msgs[i] = p.Message
		}
		ready = Condition("Ready", false, rep.Problems[0].Reason, strings.Join(msgs, " "))
	}
	return rep.Users, Conditions(cur, generation, ready)
}
