package scale

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// TestScaleRBAC measures the API server's authorization latency (a
// SubjectAccessReview, what every `get` of a Secret pays) when a
// Connection's details are readable by N users (GATEHOUSE_SCALE users;
// full: 10,000), laid out as the connection controller lays them out —
// RoleBindings of at most 500 subjects — against one binding of all N:
// the layout must not make the API server slower. Run with make bench-scale.
func TestScaleRBAC(t *testing.T) {
	if scaleEnv() == "" {
		t.Skip("set GATEHOUSE_SCALE=full (10,000 readers), small (1,000) or a number to measure RBAC at scale")
	}
	sz, err := sizesFor(scaleEnv())
	if err != nil {
		t.Fatal(err)
	}
	n := sz.Users
	env, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := env.Client
	for _, layout := range []struct {
		name   string
		chunks int
	}{{"one RoleBinding of all readers", 1}, {fmt.Sprintf("RoleBindings of at most 500 (%d)", (n+499)/500), (n + 499) / 500}} {
		ns := fmt.Sprintf("rbac-%d", layout.chunks)
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
		role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gatehouse:connection:warehouse"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}, ResourceNames: []string{"warehouse"}}}}
		if err := c.Create(ctx, role); err != nil {
			t.Fatal(err)
		}
		subjects := make([][]rbacv1.Subject, layout.chunks)
		for i := range n {
			subjects[i%layout.chunks] = append(subjects[i%layout.chunks], rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "user-" + strconv.Itoa(i)})
		}
		for k, subs := range subjects {
			b := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s-%d", role.Name, k)},
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name}, Subjects: subs}
			if err := c.Create(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		// The API server's RBAC authorizer sees the bindings through its own
		// informer: wait until it allows the last subject.
		for deadline := time.Now().Add(time.Minute); ; {
			sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: "user-" + strconv.Itoa(n-1),
				ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: "get", Resource: "secrets", Name: "warehouse"}}}
			if err := c.Create(ctx, sar); err != nil {
				t.Fatal(err)
			}
			if sar.Status.Allowed {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the API server never saw the bindings")
			}
			time.Sleep(50 * time.Millisecond)
		}
		// The last user of the last binding, and an outsider (the worst
		// cases: every subject is looked at).
		for _, who := range []string{"user-" + strconv.Itoa(n-1), "outsider"} {
			var took []time.Duration
			for range 300 {
				sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: who,
					ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: "get", Resource: "secrets", Name: "warehouse"}}}
				start := time.Now()
				if err := c.Create(ctx, sar, &client.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
				took = append(took, time.Since(start))
				if sar.Status.Allowed != (who != "outsider") {
					t.Fatalf("%s: allowed %v", who, sar.Status.Allowed)
				}
			}
			slices.Sort(took)
			t.Logf("%d readers, %s, SubjectAccessReview for %s: p50 %s, p99 %s", n, layout.name, who,
				took[len(took)/2].Round(10*time.Microsecond), took[len(took)*99/100].Round(10*time.Microsecond))
		}
	}
}
