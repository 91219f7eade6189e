package engine

import (
	"fmt"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

// TestCauses: causes kept after a failed write come back, before the new
// ones and each once, and only once; maxCauses bounds those recorded
// between two takes, not those kept.
func TestCauses(t *testing.T) {
	c := NewCauses()
	key := types.NamespacedName{Namespace: "ns", Name: "alice"}
	c.record("ns", []string{"alice"}, "Group a changed")
	if got := c.Take(key); !slices.Equal(got, []string{"Group a changed"}) {
		t.Fatalf("Take = %v", got)
	}
	c.Keep(key, []string{"Group a changed"})
	c.record("ns", []string{"alice"}, "Share s changed")
	c.record("ns", []string{"alice"}, "Group a changed")
	if got := c.Take(key); !slices.Equal(got, []string{"Group a changed", "Share s changed"}) {
		t.Errorf("Take after Keep = %v", got)
	}
	if got := c.Take(key); got != nil {
		t.Errorf("causes taken twice: %v", got)
	}
	c.Keep(key, []string{"x"})
	c.Forget(key)
	if got := c.Take(key); got != nil {
		t.Errorf("Forget kept %v", got)
	}

	var many []string
	for i := range 2 * maxCauses {
		many = append(many, fmt.Sprintf("Share s%d changed", i))
	}
	for _, cause := range many {
		c.record("ns", []string{"alice"}, cause)
	}
	taken := c.Take(key)
	if !slices.Equal(taken, many[:maxCauses]) {
		t.Errorf("recorded %d causes, took %v; want the first %d", len(many), taken, maxCauses)
	}
	c.record("ns", []string{"alice"}, many[maxCauses])
	c.Keep(key, taken)
	for _, cause := range many[maxCauses+1:] {
		c.record("ns", []string{"alice"}, cause)
	}
	if got, want := c.Take(key), append(slices.Clone(taken), many[maxCauses:2*maxCauses]...); !slices.Equal(got, want) {
		t.Errorf("after Keep, took %v; want %v", got, want)
	}
}
