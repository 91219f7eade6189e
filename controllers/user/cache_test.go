package user

import (
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
)

func written() []iamv1alpha1.ResourceAccess {
	return []iamv1alpha1.ResourceAccess{
		{Type: "dataset", Name: "sales", Role: "Editor", Permissions: []iamv1alpha1.Permission{"read", "write"},
			Via: []iamv1alpha1.AccessVia{{Kind: iamv1alpha1.ViaShare, Name: "sales-team", Subject: "Group/analysts", Role: "Editor"}}},
		{Type: "project", Name: "churn", Permissions: []iamv1alpha1.Permission{"readProjectContent", "runScenarios"},
			Via:      []iamv1alpha1.AccessVia{{Kind: iamv1alpha1.ViaResourceGrant, Name: "ops", Permissions: []iamv1alpha1.Permission{"runScenarios"}}},
			CappedBy: &iamv1alpha1.AccessCap{Profile: "reader"}},
		{Type: "dataset", Name: `odd "name", with [json]:`, Role: "Consumer"},
		// Strings outside the catalogue (written by another version) are
		// kept as they are.
		{Type: "notebook", Name: "ünïcode", Role: "Viewer", Permissions: []iamv1alpha1.Permission{"read", "someFuturePermission"}},
	}
}

func cachedUser(t *testing.T, w *WrittenResources, rs []iamv1alpha1.ResourceAccess) *iamv1alpha1.User {
	t.Helper()
	u := &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "alice", UID: "u-1", ResourceVersion: "42",
		Annotations:   map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{}", "team": "a"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}}
	u.Status.Resources = rs
	u.Status.ResourceCount = int32(len(rs))
	out, err := w.Transform(u)
	if err != nil {
		t.Fatal(err)
	}
	return out.(*iamv1alpha1.User)
}

// TestCacheTransform: the store keeps what the controller needs of
// status.resources — equality and the diff — and the cached User nothing
// of them, and no annotation of the cache's own.
func TestCacheTransform(t *testing.T) {
	w := NewWrittenResources()
	u := cachedUser(t, w, written())
	if u.Status.Resources != nil || u.ManagedFields != nil || u.Annotations["kubectl.kubernetes.io/last-applied-configuration"] != "" {
		t.Fatalf("the cached User still holds resources, managedFields or last-applied: %+v", u)
	}
	if len(u.Annotations) != 1 || u.Annotations["team"] != "a" || u.Status.ResourceCount != 4 {
		t.Errorf("the transform dropped more than it should: %+v", u)
	}

	changedVia := written()
	changedVia[0].Via = append(changedVia[0].Via, iamv1alpha1.AccessVia{Kind: iamv1alpha1.ViaShare, Name: "second", Subject: "User/alice", Role: "Consumer"})
	uncapped := written()
	uncapped[1].CappedBy = nil
	for _, tc := range []struct {
		name string
		want []iamv1alpha1.ResourceAccess
		same bool
	}{
		{"the list written", written(), true},
		{"one via more", changedVia, false},
		{"no longer capped", uncapped, false},
		{"one resource fewer", written()[:3], false},
		{"nothing", nil, false},
	} {
		same, err := w.Same(u, tc.want)
		if err != nil || same != tc.same {
			t.Errorf("%s: writtenResources = %v, %v; want %v", tc.name, same, err, tc.same)
		}
	}

	// The diff from the cached form is the diff from the full one.
	prev, err := w.Previous(u)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range written() {
		if p := prev[i]; p.Type != r.Type || p.Name != r.Name || p.Role != r.Role || !equality.Semantic.DeepEqual(p.Permissions, r.Permissions) {
			t.Errorf("entry %d decoded as %+v, want %+v", i, p, r)
		}
	}
	after := written()[1:]
	after[0].Permissions = after[0].Permissions[:1]
	after = append(after, iamv1alpha1.ResourceAccess{Type: "model", Name: "m", Role: "Owner", Permissions: []iamv1alpha1.Permission{"read"}})
	full := audit.Diff(&iamv1alpha1.UserStatus{Resources: written()}, &iamv1alpha1.UserStatus{Resources: after})
	fromCache := audit.Diff(&iamv1alpha1.UserStatus{Resources: prev}, &iamv1alpha1.UserStatus{Resources: after})
	if full.Message() != fromCache.Message() || full.Message() == "" {
		t.Errorf("diff from the cache %q, from the full list %q", fromCache.Message(), full.Message())
	}

	// Idempotent.
	again, err := w.Transform(u.DeepCopy())
	if err != nil || !equality.Semantic.DeepEqual(again, u) {
		t.Errorf("a second transform changed the User: %v\n%+v\n%+v", err, again, u)
	}
}

// TestCacheTransformEmptyAndStale: a User with no resources compares equal
// to none; a cached User of an older resourceVersion than the store's is
// told apart (errNotStored), never compared with another version's list.
func TestCacheTransformEmptyAndStale(t *testing.T) {
	w := NewWrittenResources()
	u := cachedUser(t, w, nil)
	if same, _ := w.Same(u, nil); !same {
		t.Error("no resources written and none wanted: not equal")
	}
	if same, _ := w.Same(u, written()); same {
		t.Error("no resources written and some wanted: equal")
	}

	old := cachedUser(t, w, written())
	newer := old.DeepCopy()
	newer.ResourceVersion = "43"
	newer.Status.Resources = written()[:1]
	if _, err := w.Transform(newer); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Same(old, written()); !errors.Is(err, errNotStored) {
		t.Errorf("Same of a version the store has moved past = %v, want errNotStored", err)
	}
	if same, err := w.Same(newer, written()[:1]); err != nil || !same {
		t.Errorf("Same of the stored version = %v, %v", same, err)
	}

	// Another User of the same name (deleted and created again) is not
	// taken for the stored one.
	other := newer.DeepCopy()
	other.UID = "u-2"
	other.Status.Resources, other.Status.ResourceCount = nil, 0
	if same, err := w.Same(other, nil); err != nil || !same {
		t.Errorf("Same of a new User of the same name = %v, %v", same, err)
	}
	w.Forget(types.NamespacedName{Namespace: "ns", Name: "alice"})
	if _, ok := w.entry(newer); ok {
		t.Error("Forget kept the entry")
	}

	// Read without the transform (a client that is not the manager's
	// cache), the full list is compared.
	plain := &iamv1alpha1.User{}
	plain.Status.Resources = written()
	if same, _ := w.Same(plain, written()); !same {
		t.Error("an untransformed User's resources are not recognised")
	}
	if prev, _ := w.Previous(plain); len(prev) != 4 || prev[0].Via == nil {
		t.Errorf("Previous of an untransformed User = %+v", prev)
	}
}

// FuzzResourcesEncoding: the compact copy gives back every type, name, role
// and permission, whatever the strings; and decoding any input returns an
// error rather than panicking.
func FuzzResourcesEncoding(f *testing.F) {
	f.Add("dataset", "sales", "Editor", "read", "write", 3)
	f.Add("", "", "", "", "", 0)
	f.Add("x\x00y", "\xff\xfe", "Owner", "readProjectContent", "", 200)
	f.Fuzz(func(t *testing.T, typ, name, role, p1, p2 string, n int) {
		n = n % 50
		if n < 0 {
			n = -n
		}
		rs := make([]iamv1alpha1.ResourceAccess, n)
		for i := range rs {
			rs[i] = iamv1alpha1.ResourceAccess{Type: iamv1alpha1.ResourceType(typ), Name: name + string(rune('a'+i%26)), Role: iamv1alpha1.Role(role)}
			if i%3 != 0 {
				rs[i].Permissions = []iamv1alpha1.Permission{iamv1alpha1.Permission(p1), iamv1alpha1.Permission(p2)}
			}
		}
		got, err := decodeResources(encodeResources(rs))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(rs) {
			t.Fatalf("%d entries back for %d", len(got), len(rs))
		}
		for i := range rs {
			if got[i].Type != rs[i].Type || got[i].Name != rs[i].Name || got[i].Role != rs[i].Role ||
				!equality.Semantic.DeepEqual(got[i].Permissions, rs[i].Permissions) {
				t.Fatalf("entry %d: %+v, want %+v", i, got[i], rs[i])
			}
		}
		_, _ = decodeResources(name) // arbitrary input: an error, never a panic
		_, _ = decodeResources(base64Of(name + typ))
	})
}

func base64Of(s string) string { return base64.RawStdEncoding.EncodeToString([]byte(s)) }

// BenchmarkCacheTransform: the cost per User of the transform, on a status
// of 130 resources (the scale harness's average).
func BenchmarkCacheTransform(b *testing.B) {
	rs := make([]iamv1alpha1.ResourceAccess, 0, 130)
	for i := range 130 {
		r := written()[i%3]
		r.Name = r.Name + string(rune('a'+i%26)) + string(rune('a'+i/26))
		rs = append(rs, r)
	}
	b.ReportAllocs()
	w := NewWrittenResources()
	var kept int
	for b.Loop() {
		u := &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "1"}}
		u.Status.Resources = rs
		if _, err := w.Transform(u); err != nil {
			b.Fatal(err)
		}
		e, _ := w.entry(u)
		kept = len(e.compact) + len(e.digest)
	}
	b.ReportMetric(float64(kept)/float64(len(rs)), "cached-bytes/entry")
}

// BenchmarkCachedUsers10000: the heap that 10,000 cached Users and their
// WrittenResources keep, each User read with 130 resources. The
// annotation codec this store replaced kept 59,335,360 bytes on the same
// input (measured with this function at the commit before).
func BenchmarkCachedUsers10000(b *testing.B) {
	var bytes uint64
	for b.Loop() {
		w := NewWrittenResources()
		bytes = cachedUsers10000(b, w.Transform)
		runtime.KeepAlive(w)
	}
	b.ReportMetric(float64(bytes), "heap-bytes")
	b.ReportMetric(float64(bytes)/10000, "heap-bytes/user")
}

// cachedUsers10000 builds 10,000 Users as the manager's cache holds them
// (each read from the API server with 130 resources, the scale harness's
// average, then passed through transform) and returns the heap they keep,
// store included, in bytes.
func cachedUsers10000(tb testing.TB, transform func(any) (any, error)) uint64 {
	tb.Helper()
	const users, perUser = 10000, 130
	base := written()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	kept := make([]*iamv1alpha1.User, 0, users)
	for n := range users {
		rs := make([]iamv1alpha1.ResourceAccess, perUser)
		for i := range rs {
			r := base[i%3]
			r.Name = fmt.Sprintf("%s-%d-%d", r.Name, n%97, i)
			r.Permissions = slices.Clone(r.Permissions)
			r.Via = slices.Clone(r.Via)
			rs[i] = r
		}
		u := &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: fmt.Sprintf("user-%05d", n),
			UID: types.UID(fmt.Sprintf("uid-%05d", n)), ResourceVersion: strconv.Itoa(1000 + n)}}
		u.Spec.Login = u.Name
		u.Status.Resources = rs
		u.Status.ResourceCount = perUser
		out, err := transform(u)
		if err != nil {
			tb.Fatal(err)
		}
		kept = append(kept, out.(*iamv1alpha1.User))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(kept)
	return after.HeapAlloc - before.HeapAlloc
}
