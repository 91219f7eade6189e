package connection

import (
	"context"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/probe"
)

// Defaults of the connection tests.
const (
	// DefaultTestInterval is how often a Connection is tested again while
	// nothing changes.
	DefaultTestInterval = 10 * time.Minute
	// DefaultTestGap is the least time between two tests of one Connection,
	// however often its spec or Secret changes.
	DefaultTestGap = 2 * time.Second
	// DefaultConcurrentTests is how many tests run at once, over all
	// Connections.
	DefaultConcurrentTests = 2
)

// TestRecord is the last test of a Connection.
type TestRecord struct {
	// Inputs identifies what was tested: the Connection's UID and
	// generation and its Secret's resourceVersion.
	Inputs string
	// At is when the test ended; zero when the Connection was refused a
	// test (a personal connection's address) rather than tested.
	At time.Time
	// Reachable is the Reachable condition it gives.
	Reachable metav1.Condition
}

// Tests runs the connection tests: each Connection again when its inputs
// change or the interval has passed, never two tests of one Connection less
// than the gap apart, and at most a few at a time. It keeps the last result
// of each Connection in memory; a restarted operator tests every
// Connection once more. It is the meeting point of the two controllers:
// the Connection controller asks for a test (Due) and writes the last
// record into the status; the test controller runs the tests and tells the
// Connection controller of each new record (Done).
type Tests struct {
	// Tester connects; its Timeout bounds each test.
	Tester probe.Tester
	// Interval, Gap: see DefaultTestInterval and DefaultTestGap.
	Interval, Gap time.Duration

	sem  chan struct{}
	mu   sync.Mutex
	last map[types.NamespacedName]TestRecord
	// due and done carry Connections to the test controller and back to
	// the Connection controller.
	due, done chan event.GenericEvent
}

// NewTests returns a Tests with the defaults where a value is 0.
func NewTests(tester probe.Tester, interval, gap time.Duration, concurrent int) *Tests {
	if interval <= 0 {
		interval = DefaultTestInterval
	}
	if gap <= 0 {
		gap = DefaultTestGap
	}
	if concurrent <= 0 {
		concurrent = DefaultConcurrentTests
	}
	return &Tests{Tester: tester, Interval: interval, Gap: gap,
		sem: make(chan struct{}, concurrent), last: map[types.NamespacedName]TestRecord{},
		due: make(chan event.GenericEvent, 1024), done: make(chan event.GenericEvent, 1024)}
}

// Last returns the last record of the Connection key.
func (t *Tests) Last(key types.NamespacedName) (TestRecord, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	rec, ok := t.last[key]
	return rec, ok
}

// Set records rec as the last record of key, and reports whether it
// differs from the one before.
func (t *Tests) Set(key types.NamespacedName, rec TestRecord) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	old, ok := t.last[key]
	t.last[key] = rec
	return !ok || old.Inputs != rec.Inputs || !old.At.Equal(rec.At) || old.Reachable != rec.Reachable
}

// Due asks the test controller to look at the Connection key (its inputs
// changed or it was never tested).
func (t *Tests) Due(ctx context.Context, key types.NamespacedName) { send(ctx, t.due, key) }

// Done tells the Connection controller that key has a new record.
func (t *Tests) Done(ctx context.Context, key types.NamespacedName) { send(ctx, t.done, key) }

func send(ctx context.Context, ch chan event.GenericEvent, key types.NamespacedName) {
	obj := &iamv1alpha1.Connection{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	select {
	case ch <- event.GenericEvent{Object: obj}:
	case <-ctx.Done():
	}
}

// Run returns the record of the Connection key for inputs: the last one
// when it is of the same inputs and younger than the interval, or, when the
// last test was less than the gap ago, that one still; else it runs test and
// records its result. wait is when the Connection should be looked at again.
// The error is not nil only when ctx ended first.
func (t *Tests) Run(ctx context.Context, key types.NamespacedName, inputs string,
	test func(context.Context) (metav1.Condition, error)) (rec TestRecord, wait time.Duration, err error) {
	t.mu.Lock()
	last, ok := t.last[key]
	t.mu.Unlock()
	if ok {
		age := time.Since(last.At)
		if last.Inputs == inputs && age < t.Interval {
			return last, t.Interval - age, nil
		}
		if age < t.Gap {
			return last, t.Gap - age, nil
		}
	}
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return TestRecord{}, 0, ctx.Err()
	}
	res, err := test(ctx)
	<-t.sem
	if err != nil {
		return TestRecord{}, 0, err
	}
	rec = TestRecord{Inputs: inputs, At: time.Now(), Reachable: res}
	t.mu.Lock()
	t.last[key] = rec
	t.mu.Unlock()
	return rec, t.Interval, nil
}

// Forget drops the record of a Connection that is gone.
func (t *Tests) Forget(key types.NamespacedName) {
	t.mu.Lock()
	delete(t.last, key)
	t.mu.Unlock()
}
