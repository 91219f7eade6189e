package admission_test

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// TestShareWebhookLatency measures the round trip of a Share update through
// the API server and the Share webhook (p50, p99 of 300) while 60 users of
// one group are recomputed over and over. A measurement, not a check: it
// runs only with GATEHOUSE_LATENCY=1 (figures in BENCHMARKS.md).
func TestShareWebhookLatency(t *testing.T) {
	if os.Getenv("GATEHOUSE_LATENCY") == "" {
		t.Skip("a measurement: set GATEHOUSE_LATENCY=1 to run it")
	}
	ns := world(t)
	for i := range 60 {
		u := user(ns, fmt.Sprintf("load%02d", i), "designer")
		u.Spec.Groups = []string{"data"}
		if err := env.Client.Create(bg(), u); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the reconcile load: the group's global permissions flip
		defer wg.Done()
		perms := [][]iamv1alpha1.GlobalPermission{{"createProjects"}, {"createWorkspaces"}}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			var g iamv1alpha1.Group
			if err := env.Client.Get(bg(), client.ObjectKey{Namespace: ns, Name: "data"}, &g); err == nil {
				g.Spec.GlobalPermissions = perms[i%2]
				_ = env.Client.Update(bg(), &g)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	bob := as(t, "bob@acme.example")
	var took []time.Duration
	for i := range 300 {
		role := iamv1alpha1.Role("Consumer")
		if i%2 == 0 {
			role = "Editor"
		}
		for {
			var s iamv1alpha1.Share
			if err := env.Client.Get(bg(), client.ObjectKey{Namespace: ns, Name: "sales"}, &s); err != nil {
				t.Fatal(err)
			}
			for j := range s.Spec.Grantees {
				if s.Spec.Grantees[j].Name == "dan" {
					s.Spec.Grantees[j].Role = role
				}
			}
			start := time.Now()
			err := bob.Update(bg(), &s)
			if err == nil {
				took = append(took, time.Since(start))
				break
			}
			if !isConflict(err) {
				t.Fatalf("bob changing dan's role: %v", err)
			}
		}
	}
	close(stop)
	wg.Wait()
	slices.Sort(took)
	t.Logf("Share update through the webhook under load: p50 %s, p99 %s, max %s (n=%d, %s)",
		took[len(took)/2].Round(10*time.Microsecond), took[len(took)*99/100].Round(10*time.Microsecond), took[len(took)-1].Round(10*time.Microsecond),
		len(took), metav1.Now().Format(time.RFC3339))
}

func isConflict(err error) bool { return apierrors.IsConflict(err) }
