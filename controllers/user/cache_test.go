package user

import (
	"encoding/base64"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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

func cachedUser(t *testing.T, rs []iamv1alpha1.ResourceAccess) *iamv1alpha1.User {
	t.Helper()
	u := &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "alice", ResourceVersion: "42",
		Annotations:   map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{}", "team": "a"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}}
	u.Status.Resources = rs
	u.Status.ResourceCount = int32(len(rs))
	out, err := CacheTransform(u)
	if err != nil {
		t.Fatal(err)
	}
	return out.(*iamv1alpha1.User)
}

// TestCacheTransform: the cached User keeps what the controller needs of
// status.resources — equality and the diff — and nothing else.
func TestCacheTransform(t *testing.T) {
	u := cachedUser(t, written())
	if u.Status.Resources != nil || u.ManagedFields != nil || u.Annotations["kubectl.kubernetes.io/last-applied-configuration"] != "" {
		t.Fatalf("the cached User still holds resources, managedFields or last-applied: %+v", u)
	}
	if u.Annotations["team"] != "a" || u.Status.ResourceCount != 4 {
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
		same, err := writtenResources(u, tc.want)
		if err != nil || same != tc.same {
			t.Errorf("%s: writtenResources = %v, %v; want %v", tc.name, same, err, tc.same)
		}
	}

	// The diff from the cached form is the diff from the full one.
	prev, err := previousResources(u)
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
	again, err := CacheTransform(u.DeepCopy())
	if err != nil || !equality.Semantic.DeepEqual(again, u) {
		t.Errorf("a second transform changed the User: %v\n%+v\n%+v", err, again, u)
	}
}

// TestCacheTransformEmptyAndForged: a User with no resources compares equal
// to none, and the cache annotations set on the server by hand (another
// resourceVersion) are never taken for the cache's.
func TestCacheTransformEmptyAndForged(t *testing.T) {
	u := cachedUser(t, nil)
	if same, _ := writtenResources(u, nil); !same {
		t.Error("no resources written and none wanted: not equal")
	}
	if same, _ := writtenResources(u, written()); same {
		t.Error("no resources written and some wanted: equal")
	}

	forged := &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Name: "bob", ResourceVersion: "7", Annotations: map[string]string{
		AnnotationCachedDigest:    "6:" + mustDigest(t, written()),
		AnnotationCachedResources: "[]",
	}}}
	forged.Status.Resources = []iamv1alpha1.ResourceAccess{{Type: "dataset", Name: "x", Role: "Owner"}}
	out, err := CacheTransform(forged)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*iamv1alpha1.User)
	if same, _ := writtenResources(got, written()); same {
		t.Error("a forged digest was believed")
	}
	if same, _ := writtenResources(got, []iamv1alpha1.ResourceAccess{{Type: "dataset", Name: "x", Role: "Owner"}}); !same {
		t.Error("the written resources of a User with forged annotations are not recognised")
	}

	// Read without the transform (a client that is not the manager's
	// cache), the full list is compared.
	plain := &iamv1alpha1.User{}
	plain.Status.Resources = written()
	if same, _ := writtenResources(plain, written()); !same {
		t.Error("an untransformed User's resources are not recognised")
	}
	if prev, _ := previousResources(plain); len(prev) != 4 || prev[0].Via == nil {
		t.Errorf("previousResources of an untransformed User = %+v", prev)
	}
}

func mustDigest(t *testing.T, rs []iamv1alpha1.ResourceAccess) string {
	t.Helper()
	d, err := resourcesDigest(rs)
	if err != nil {
		t.Fatal(err)
	}
	return d
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
	var kept int
	for b.Loop() {
		u := &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "1"}}
		u.Status.Resources = rs
		if _, err := CacheTransform(u); err != nil {
			b.Fatal(err)
		}
		kept = len(u.Annotations[AnnotationCachedResources]) + len(u.Annotations[AnnotationCachedDigest])
	}
	b.ReportMetric(float64(kept)/float64(len(rs)), "cached-bytes/entry")
}
