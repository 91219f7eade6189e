package directory

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/applytest"
)

// The applies of directory-synced Users, as the API server receives them:
// server-side apply removes whatever the directory's field manager stops
// applying, so a change of how the apply is built must send the same
// bodies (testdata/user-applies.json, JSON with sorted keys). A create
// with every field the sync sets, a create with only the required ones,
// an update under the User's UID, a deactivation, and an update that
// leaves an administrator's profile alone.
func TestUserAppliesGolden(t *testing.T) {
	c, rec := applytest.New(t)
	dir := &iamv1alpha1.Directory{ObjectMeta: metav1.ObjectMeta{Namespace: "acme", Name: "corp"}}
	w := &writer{client: c, dir: dir, parallel: 1, count: func(string) {}}
	current := func(name string) *iamv1alpha1.User {
		return &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Namespace: "acme", Name: name, UID: types.UID("uid-" + name)}}
	}
	full := entry{Login: "alice", DisplayName: "Alice Liddell", Email: "alice@example.com",
		Groups: []string{"cn=analysts,ou=groups,dc=example,dc=com", "data-science"}, Profile: "Engineer"}
	steps := []struct {
		kind string
		op   op
	}{
		{opCreate, op{Name: "alice", Login: "alice", Want: full, SetProfile: true}},
		{opCreate, op{Name: "bob", Login: "bob", Want: entry{Login: "bob"}}},
		{opUpdate, op{Name: "alice", Login: "alice", Current: current("alice"), Want: full, SetProfile: true}},
		{opDeactivate, op{Name: "carol", Login: "carol", Current: current("carol"),
			Want: entry{Login: "carol", DisplayName: "Carol", Groups: []string{"data-science"}}, Deactivate: true}},
		{opUpdate, op{Name: "dave", Login: "dave", Current: current("dave"), Want: entry{Login: "dave", Profile: "Viewer"}}},
	}
	for _, s := range steps {
		if err := w.one(context.Background(), s.op, s.kind); err != nil {
			t.Fatalf("%s %s: %v", s.kind, s.op.Name, err)
		}
	}
	rec.Golden(t, "testdata/user-applies.json")
}
