package access

import (
	"sync"
	"testing"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/worldgen"
)

// benchResources is the enterprise's number of resources.
var benchResources = worldgen.EnterpriseSizes.Resources

// enterprise is internal/worldgen's Enterprise world (the one the scale
// harness measures too, with its own preset) as a Snapshot.
func enterprise() Snapshot {
	w := worldgen.Enterprise(worldgen.Catalogue{Globals: GlobalPermissions(), PermissionsOf: PermissionsOf})
	return Snapshot{Now: w.Now, License: w.License, Users: w.Users, Groups: w.Groups, Connections: w.Connections,
		Shares: w.Shares, ResourceGrants: w.ResourceGrants}
}

var (
	enterpriseOnce sync.Once
	enterpriseSnap Snapshot
)

func benchSnapshot(b *testing.B) Snapshot {
	b.Helper()
	enterpriseOnce.Do(func() { enterpriseSnap = enterprise() })
	return enterpriseSnap
}

// BenchmarkCompute computes the whole enterprise: every user's effective
// permissions, seats, and the reports of every Share and ResourceGrant.
func BenchmarkCompute(b *testing.B) {
	s := benchSnapshot(b)
	b.ReportAllocs()
	b.ResetTimer()
	var pairs int
	for i := 0; i < b.N; i++ {
		res := Compute(s)
		pairs = 0
		for _, u := range res.Users {
			pairs += len(u.Resources)
		}
	}
	b.ReportMetric(float64(pairs), "user-resources")
}

// BenchmarkComputeUser applies one change to an Index (a Share of a team
// dataset edited back and forth) and recomputes one user it affects: what a
// controller does per event.
func BenchmarkComputeUser(b *testing.B) {
	s := benchSnapshot(b)
	ix := NewIndex(s)
	base := s.Shares[len(s.Shares)/2]
	target := "user-04242"
	v1 := base.DeepCopy()
	v1.Spec.Grantees = append(v1.Spec.Grantees, iamv1alpha1.Grantee{Kind: "User", Name: target, Role: "Editor"})
	v2 := base.DeepCopy()
	v2.Spec.Grantees = append(v2.Spec.Grantees, iamv1alpha1.Grantee{Kind: "User", Name: target, Role: "Owner", CanUseData: true})
	versions := []*iamv1alpha1.Share{v1, v2}
	b.ReportAllocs()
	b.ResetTimer()
	var n int
	for i := 0; i < b.N; i++ {
		affected, err := ix.Upsert(versions[i%2])
		if err != nil {
			b.Fatal(err)
		}
		n = len(affected.Users)
		if r := ix.ComputeUser(target); r == nil || r.Seat == "" {
			b.Fatal("no result")
		}
	}
	b.ReportMetric(float64(n), "affected")
}

// BenchmarkComputeUserAdmin recomputes an administrator, who is Owner on
// every one of the 20,000 resources: the worst single user.
func BenchmarkComputeUserAdmin(b *testing.B) {
	ix := NewIndex(benchSnapshot(b))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := ix.ComputeUser("user-00001"); len(r.Resources) < benchResources {
			b.Fatalf("admin reaches %d resources", len(r.Resources))
		}
	}
}

// BenchmarkAffectedUsersUserChange: a User's profile changes, which moves it
// between seat orders.
func BenchmarkAffectedUsersUserChange(b *testing.B) {
	s := benchSnapshot(b)
	ix := NewIndex(s)
	u1 := s.Users[5000].DeepCopy()
	u2 := u1.DeepCopy()
	u2.Spec.Profile = "reader"
	if u1.Spec.Profile == "reader" {
		u2.Spec.Profile = "full-designer"
	}
	versions := []*iamv1alpha1.User{u2, u1}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ix.Upsert(versions[i%2]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewIndex builds the indexes, the start-up cost of a controller.
func BenchmarkNewIndex(b *testing.B) {
	s := benchSnapshot(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		NewIndex(s)
	}
}
