package status

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/statusowner"
)

var repairs = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "gatehouse_status_repairs_total",
	Help: "Status fields written by someone other than the operator and removed, by kind.",
}, []string{"kind"})

// repair removes fields from obj's status (a JSON patch of remove
// operations, which leaves no manager owning them), records a
// StatusRepaired Warning Event on obj, and counts it. The caller then
// applies its own status, whatever the cache says.
func repair(ctx context.Context, c client.Client, rec events.EventRecorder, obj client.Object, kind string, fields, managers []string) error {
	ops := make([]map[string]string, 0, len(fields)+1)
	// The patch applies to the object read, or fails and is retried.
	ops = append(ops, map[string]string{"op": "test", "path": "/metadata/resourceVersion", "value": obj.GetResourceVersion()})
	for _, f := range fields {
		ops = append(ops, map[string]string{"op": "remove", "path": "/status/" + f})
	}
	body, err := json.Marshal(ops)
	if err != nil {
		return fmt.Errorf("cannot encode the status repair: %w", err)
	}
	if err := c.Status().Patch(ctx, obj, client.RawPatch(types.JSONPatchType, body), client.FieldOwner("gatehouse-status-repair")); err != nil {
		return fmt.Errorf("cannot remove the status fields %s of %s %s/%s written by %s: %w",
			strings.Join(fields, ", "), kind, obj.GetNamespace(), obj.GetName(), strings.Join(managers, ", "), err)
	}
	repairs.WithLabelValues(kind).Inc()
	if rec != nil {
		rec.Eventf(obj, nil, corev1.EventTypeWarning, iamv1alpha1.EventStatusRepaired, "RepairStatus",
			"status.%s %s written by %s, not by Gatehouse, and removed: only the operator writes status. The API server's audit log records who it was.",
			strings.Join(fields, ", status."), plural(len(fields), "was", "were"), strings.Join(managers, ", "))
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// repairForeign repairs the foreign fields of obj's status within scope
// (all when empty), as statusowner.Fields and repair do, and reports
// which fields it removed (none when it did nothing).
func repairForeign(ctx context.Context, c client.Client, rec events.EventRecorder, obj client.Object, kind string, scope ...string) ([]string, error) {
	fields, managers := statusowner.Fields(obj, scope...)
	if len(fields) == 0 {
		return nil, nil
	}
	if err := repair(ctx, c, rec, obj, kind, fields, managers); err != nil {
		return nil, err
	}
	return fields, nil
}

// Repaired remembers, per object, the status fields a reconcile removed as
// someone else's, until a reconcile finds the status as it wants it (the
// cache has caught up with its write). A reconcile in between sees those
// fields absent, the repair's intermediate state, and must not report
// their reappearance as a change: the Event and audit line of the fields
// it names take their new value as the old. Safe for concurrent use; the
// zero value is ready.
type Repaired struct {
	mu sync.Mutex
	m  map[types.NamespacedName][]string
}

// Add records fields as repaired on key.
func (r *Repaired) Add(key types.NamespacedName, fields []string) {
	if len(fields) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[types.NamespacedName][]string{}
	}
	for _, f := range fields {
		if !slices.Contains(r.m[key], f) {
			r.m[key] = append(r.m[key], f)
		}
	}
}

// Get returns the fields recorded on key.
func (r *Repaired) Get(key types.NamespacedName) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.m[key])
}

// Done forgets key: its status is written as wanted.
func (r *Repaired) Done(key types.NamespacedName) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, key)
}
