package directory

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// The metrics of the Directory sync, in controller-runtime's registry (the
// manager's /metrics endpoint).
var (
	syncDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gatehouse_directory_sync_duration_seconds",
		Help:    "Duration of Directory syncs (reading the directory and writing the Users), successful or not.",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600},
	}, []string{"namespace", "directory"})
	usersSeen = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "gatehouse_directory_users",
		Help: "Users the last successful read of a Directory found.",
	}, []string{"namespace", "directory"})
	groupsSeen = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "gatehouse_directory_groups",
		Help: "Groups the last successful read of a Directory found.",
	}, []string{"namespace", "directory"})
	syncErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_directory_sync_errors_total",
		Help: "Directory syncs that failed or that the safety bound stopped, by reason (a Synced condition reason).",
	}, []string{"namespace", "directory", "reason"})
	userWrites = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_directory_user_writes_total",
		Help: "User writes of the Directory sync, by operation (create, update, deactivate, delete); a no-change sync adds none.",
	}, []string{"namespace", "directory", "operation"})
)

var registerOnce sync.Once

// registerMetrics registers the metrics once per process.
func registerMetrics() {
	registerOnce.Do(func() {
		metrics.Registry.MustRegister(syncDuration, usersSeen, groupsSeen, syncErrors, userWrites)
	})
}

// forgetMetrics drops the series of a deleted Directory.
func forgetMetrics(namespace, name string) {
	l := prometheus.Labels{"namespace": namespace, "directory": name}
	for _, v := range []interface{ DeletePartialMatch(prometheus.Labels) int }{syncDuration, usersSeen, groupsSeen, syncErrors, userWrites} {
		v.DeletePartialMatch(l)
	}
}
