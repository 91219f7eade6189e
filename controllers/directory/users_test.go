package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// poolClient stands in for the API server in the writer's pool test: it
// records how many writes run at once and fails the Users named in fail.
// Only Apply and Delete are called by the writer.
type poolClient struct {
	client.Client
	fail map[string]bool

	mu             sync.Mutex
	inFlight, peak int
	writes         []string
}

func (c *poolClient) write(name string) error {
	c.mu.Lock()
	c.inFlight++
	c.peak = max(c.peak, c.inFlight)
	c.writes = append(c.writes, name)
	c.mu.Unlock()
	time.Sleep(5 * time.Millisecond) // let the other writers start
	c.mu.Lock()
	c.inFlight--
	c.mu.Unlock()
	if c.fail[name] {
		return fmt.Errorf("refused %s", name)
	}
	return nil
}

func (c *poolClient) Apply(_ context.Context, obj runtime.ApplyConfiguration, _ ...client.ApplyOption) error {
	u, ok := obj.(interface{ GetName() *string }) // a typed apply configuration
	if !ok || u.GetName() == nil || *u.GetName() == "" {
		return errors.New("apply configuration without a name")
	}
	return c.write(*u.GetName())
}

func (c *poolClient) Delete(_ context.Context, obj client.Object, _ ...client.DeleteOption) error {
	return c.write(obj.GetName())
}

// The writer tries every write, at most parallel at a time, counts the ones
// that succeeded and joins the errors of the others.
func TestWriterPool(t *testing.T) {
	dir := &iamv1alpha1.Directory{}
	dir.Name, dir.Namespace = "corp", "ns"
	p := &plan{}
	for i := range 20 {
		p.Creates = append(p.Creates, op{Name: fmt.Sprintf("c%d", i), Want: entry{Login: fmt.Sprintf("c%d", i)}})
	}
	for i := range 5 {
		p.Updates = append(p.Updates, op{Name: fmt.Sprintf("u%d", i), Want: entry{Login: fmt.Sprintf("u%d", i)},
			Current: &iamv1alpha1.User{}})
	}
	d0 := &iamv1alpha1.User{}
	d0.Name = "d0"
	p.Deletes = []op{{Name: "d0", Current: d0}}
	for _, parallel := range []int{0, 1, 3} {
		c := &poolClient{fail: map[string]bool{"c3": true, "u1": true, "d0": true}}
		var counted sync.Map
		w := &writer{client: c, dir: dir, parallel: parallel, count: func(op string) { counted.Store(op, true) }}
		got, err := w.write(context.Background(), p)
		// The updated Users were active (no spec.active): only the
		// creates add active Users.
		if got.created != 19 || got.updated != 4 || got.removed() != 0 || got.activeDelta != 19 {
			t.Errorf("parallel %d: created, updated, removed, activeDelta = %d, %d, %d, %d; want 19, 4, 0, 19", parallel, got.created, got.updated, got.removed(), got.activeDelta)
		}
		if len(c.writes) != 26 {
			t.Errorf("parallel %d: %d writes, want every one of 26", parallel, len(c.writes))
		}
		if want := max(1, parallel); c.peak != want {
			t.Errorf("parallel %d: %d writes at once, want %d", parallel, c.peak, want)
		}
		for _, name := range []string{"c3", "u1", "d0"} {
			if err == nil || !strings.Contains(err.Error(), "refused "+name) {
				t.Errorf("parallel %d: error %v does not name %s", parallel, err, name)
			}
		}
	}
}
