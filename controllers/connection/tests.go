package connection

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/gatehouse-dev/gatehouse/internal/conntest"
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
	// At is when the test ended.
	At time.Time
	// Result is its outcome.
	Result conntest.Result
}

// Tests runs the connection tests: each Connection again when its inputs
// change or the interval has passed, never two tests of one Connection less
// than the gap apart, and at most a few at a time. It keeps the last result
// of each Connection in memory; a restarted operator tests every
// Connection once more.
type Tests struct {
	// Tester connects; its Timeout bounds each test.
	Tester conntest.Tester
	// Interval, Gap: see DefaultTestInterval and DefaultTestGap.
	Interval, Gap time.Duration

	sem  chan struct{}
	mu   sync.Mutex
	last map[types.NamespacedName]TestRecord
}

// NewTests returns a Tests with the defaults where a value is 0.
func NewTests(tester conntest.Tester, interval, gap time.Duration, concurrent int) *Tests {
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
		sem: make(chan struct{}, concurrent), last: map[types.NamespacedName]TestRecord{}}
}

// Run returns the record of the Connection key for inputs: the last one
// when it is of the same inputs and younger than the interval, or, when the
// last test was less than the gap ago, that one still; else it runs test and
// records its result. wait is when the Connection should be looked at again.
// The error is not nil only when ctx ended first.
func (t *Tests) Run(ctx context.Context, key types.NamespacedName, inputs string,
	test func(context.Context) (conntest.Result, error)) (rec TestRecord, wait time.Duration, err error) {
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
	rec = TestRecord{Inputs: inputs, At: time.Now(), Result: res}
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
