package access

import (
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// Scale of the enterprise the benchmarks compute.
const (
	benchUsers       = 10000
	benchGroups      = 1000
	benchResources   = 20000
	benchShares      = 30000
	benchGrants      = 20000
	benchConnections = 100
	benchOrgs        = 20
)

// enterprise builds a deterministic namespace shaped like a large company:
// everyone in an all-staff directory group, two departments of thousands,
// about a thousand small teams (users in 1–10 groups), ten administrators;
// 20,000 resources each shared by an Owner, 30,000 Shares (mostly to users,
// some to teams, a few to departments, the company or an organization),
// 20,000 DSS-style ResourceGrants (mostly on projects, to teams and users),
// 100 Connections, and a License whose reader profile is over-committed.
func enterprise() Snapshot {
	r := rand.New(rand.NewSource(20261123))
	epoch := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	s := Snapshot{Now: epoch.Add(365 * 24 * time.Hour)}
	s.License = &iamv1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: "license"}, Spec: iamv1alpha1.LicenseSpec{Profiles: []iamv1alpha1.Profile{
		{Name: "full-designer", Seats: 6500, MaxRole: "Owner"},
		{Name: "data-designer", Seats: 2000, MaxRole: "Owner", GlobalPermissions: []iamv1alpha1.GlobalPermission{
			"createProjects", "createWorkspaces", "shareToWorkspaces", "createDataCollections", "publishToDataCollections", "createCodeEnvs"}},
		{Name: "ai-consumer", Seats: 1000, MaxRole: "Consumer", GlobalPermissions: []iamv1alpha1.GlobalPermission{"createWorkspaces"}},
		{Name: "reader", Seats: 500, MaxRole: "Consumer", GlobalPermissions: []iamv1alpha1.GlobalPermission{}},
	}}}

	small := func() string { return fmt.Sprintf("team-%03d", 4+r.Intn(benchGroups-4)) }
	s.Groups = append(s.Groups,
		iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: "all-staff"}, Spec: iamv1alpha1.GroupSpec{LDAPGroups: []string{"CN=All Staff,OU=Groups,DC=corp,DC=example"}}},
		iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: "engineering"}, Spec: iamv1alpha1.GroupSpec{GlobalPermissions: []iamv1alpha1.GlobalPermission{"createProjects", "writeIsolatedCode", "createCodeEnvs"}}},
		iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: "analytics"}, Spec: iamv1alpha1.GroupSpec{GlobalPermissions: []iamv1alpha1.GlobalPermission{"createProjects", "createDataCollections"}}},
		iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: "admins"}, Spec: iamv1alpha1.GroupSpec{GlobalPermissions: []iamv1alpha1.GlobalPermission{"admin"}}},
	)
	globals := GlobalPermissions()
	for i := 4; i < benchGroups; i++ {
		g := iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("team-%03d", i)}}
		for n := r.Intn(3); n > 0; n-- {
			g.Spec.GlobalPermissions = append(g.Spec.GlobalPermissions, globals[1+r.Intn(len(globals)-1)])
		}
		if i%10 == 0 {
			g.Spec.LDAPGroups = []string{fmt.Sprintf("cn=team %d,ou=groups,dc=corp,dc=example", i)}
		}
		s.Groups = append(s.Groups, g)
	}

	profiles := []string{"full-designer", "full-designer", "full-designer", "full-designer", "full-designer", "full-designer",
		"data-designer", "data-designer", "ai-consumer", "reader"}
	for i := 0; i < benchUsers; i++ {
		name := fmt.Sprintf("user-%05d", i)
		u := iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(epoch.Add(time.Duration(i) * time.Minute))},
			Spec: iamv1alpha1.UserSpec{Login: name, Profile: profiles[r.Intn(len(profiles))], Organization: fmt.Sprintf("org-%02d", r.Intn(benchOrgs)),
				DirectoryGroups: []string{"cn=all staff,ou=groups,dc=corp,dc=example"}}}
		if i < 10 {
			u.Spec.Profile = "full-designer"
			u.Spec.Groups = append(u.Spec.Groups, "admins")
		}
		if r.Intn(100) < 3 {
			f := false
			u.Spec.Active = &f
		}
		if r.Intn(100) < 30 {
			u.Spec.Groups = append(u.Spec.Groups, "engineering")
		} else if r.Intn(100) < 28 {
			u.Spec.Groups = append(u.Spec.Groups, "analytics")
		}
		for n := r.Intn(9); n > 0; n-- {
			if r.Intn(10) == 0 {
				u.Spec.DirectoryGroups = append(u.Spec.DirectoryGroups, fmt.Sprintf("CN=Team %d, OU=Groups, DC=corp, DC=example", 10*(1+r.Intn(99))))
			} else {
				u.Spec.Groups = append(u.Spec.Groups, small())
			}
		}
		s.Users = append(s.Users, u)
	}
	someUser := func() string { return fmt.Sprintf("user-%05d", r.Intn(benchUsers)) }

	// Resources: the 100 connections and 19,900 others.
	types := []iamv1alpha1.ResourceType{"dataset", "dataset", "dataset", "project", "project", "project", "deployment",
		"modelPackage", "customModel", "environment", "application", "codeEnv", "cluster"}
	var res []iamv1alpha1.ResourceRef
	for i := 0; i < benchConnections; i++ {
		c := iamv1alpha1.Connection{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("conn-%03d", i)}, Spec: iamv1alpha1.ConnectionSpec{Type: "PostgreSQL"}}
		switch x := r.Intn(10); {
		case x < 3:
			c.Spec.UsableBy = &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceAll}
		case x < 8:
			c.Spec.UsableBy = &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceGroups, Groups: []string{small(), small()}}
			if x == 7 {
				c.Spec.UsableBy.Groups = append(c.Spec.UsableBy.Groups, "analytics")
			}
		}
		s.Connections = append(s.Connections, c)
		res = append(res, iamv1alpha1.ResourceRef{Type: "connection", Name: c.Name})
	}
	for i := len(res); i < benchResources; i++ {
		t := types[r.Intn(len(types))]
		res = append(res, iamv1alpha1.ResourceRef{Type: t, Name: fmt.Sprintf("%s-%05d", t, i)})
	}
	roles := []iamv1alpha1.Role{"Consumer", "Consumer", "Editor", "Owner"}
	grantee := func(t iamv1alpha1.ResourceType) iamv1alpha1.Grantee {
		g := iamv1alpha1.Grantee{Role: roles[r.Intn(len(roles))], CanUseData: r.Intn(3) == 0, AllowSharing: r.Intn(5) == 0}
		if t == "environment" && g.Role == "Editor" {
			g.Role = "Consumer"
		}
		switch x := r.Intn(1000); {
		case x < 800:
			g.Kind, g.Name = "User", someUser()
		case x < 985:
			g.Kind, g.Name = "Group", small()
		case x < 995:
			g.Kind, g.Name = "Organization", fmt.Sprintf("org-%02d", r.Intn(benchOrgs))
		default:
			g.Kind, g.Name, g.Role = "Group", []string{"engineering", "analytics", "all-staff"}[r.Intn(3)], "Consumer"
		}
		return g
	}
	addShare := func(i int, ref iamv1alpha1.ResourceRef, first []iamv1alpha1.Grantee, n int) {
		sh := iamv1alpha1.Share{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("share-%05d", i)}, Spec: iamv1alpha1.ShareSpec{Resource: ref, Grantees: first}}
		seen := map[string]bool{}
		for _, g := range first {
			seen[string(g.Kind)+g.Name] = true
		}
		for ; n > 0; n-- {
			g := grantee(ref.Type)
			if !seen[string(g.Kind)+g.Name] {
				seen[string(g.Kind)+g.Name] = true
				sh.Spec.Grantees = append(sh.Spec.Grantees, g)
			}
		}
		s.Shares = append(s.Shares, sh)
	}
	for i, ref := range res {
		addShare(i, ref, []iamv1alpha1.Grantee{{Kind: "User", Name: someUser(), Role: "Owner", AllowSharing: true}}, r.Intn(3))
	}
	for i := len(res); i < benchShares; i++ {
		addShare(i, res[r.Intn(len(res))], nil, 1+r.Intn(4))
	}
	for i := 0; i < benchGrants; i++ {
		ref := res[r.Intn(len(res))]
		if r.Intn(10) < 6 {
			ref = iamv1alpha1.ResourceRef{Type: "project", Name: fmt.Sprintf("project-dss-%04d", r.Intn(5000))}
		}
		perms, _ := PermissionsOf(ref.Type)
		g := iamv1alpha1.ResourceGrant{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("grant-%05d", i)}, Spec: iamv1alpha1.ResourceGrantSpec{Resource: ref}}
		for n := 1 + r.Intn(3); n > 0; n-- {
			g.Spec.Permissions = append(g.Spec.Permissions, perms[r.Intn(len(perms))])
		}
		seen := map[string]bool{}
		for n := 1 + r.Intn(2); n > 0; n-- {
			sub := iamv1alpha1.Subject{Kind: "User", Name: someUser()}
			if r.Intn(2) == 0 {
				sub = iamv1alpha1.Subject{Kind: "Group", Name: small()}
			}
			if !seen[string(sub.Kind)+sub.Name] {
				seen[string(sub.Kind)+sub.Name] = true
				g.Spec.Subjects = append(g.Spec.Subjects, sub)
			}
		}
		s.ResourceGrants = append(s.ResourceGrants, g)
	}
	return s
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
		n = len(affected)
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
