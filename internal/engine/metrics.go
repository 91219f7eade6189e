package engine

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// reconcilesEnqueued counts the reconcile requests the engine enqueued, by
// kind: a change costs as many User reconciles as the users it touches.
var reconcilesEnqueued = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "gatehouse_engine_enqueued_total",
	Help: "Reconcile requests enqueued by the permission engine, by kind of object.",
}, []string{"kind"})

// statusRechecks counts the reconciles enqueued to confirm a status write
// once the cache has it (see Engine.recheck), by kind.
var statusRechecks = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "gatehouse_engine_status_rechecks_total",
	Help: "Reconciles enqueued to confirm a status write once the cache holds it, by kind of object.",
}, []string{"kind"})

// indexRepairs counts the objects a resync found the Index holding
// differently from the cache and applied again (see resync.go): a change
// whose event was lost or whose update failed. Zero in a healthy operator.
var indexRepairs = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "gatehouse_engine_index_repairs_total",
	Help: "Objects the permission engine's periodic resync found missing from or stale in its index and applied again, by kind of object.",
}, []string{"kind"})

// MustRegister registers the engine's metrics with the manager's registry.
// Call it once per process.
func MustRegister() {
	metrics.Registry.MustRegister(reconcilesEnqueued, statusRechecks, indexRepairs)
}
