package scale

import (
	"fmt"
	"math/rand"
	"os"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// sizes is the shape of the generated namespace.
type sizes struct {
	Users, Groups, Resources, Shares, Grants, Connections, Orgs int
	// Cohort is the size of the group the large-share trials share with.
	Cohort int
}

// sizesFor reads GATEHOUSE_SCALE: "full" is the enterprise
// (10,000 users, 1,000 groups, 20,000 resources, 30,000 Shares and 20,000
// ResourceGrants, 100 Connections); "small" is 1,000 users; a number is
// that many users. Everything else scales with the users.
func sizesFor(v string) (sizes, error) {
	n := 0
	switch v {
	case "full":
		n = 10000
	case "small":
		n = 1000
	default:
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 100 {
			return sizes{}, fmt.Errorf("GATEHOUSE_SCALE=%q: want full, small or a number of users (at least 100)", v)
		}
	}
	return sizes{
		Users: n, Groups: max(20, n/10), Resources: 2 * n, Shares: 3 * n, Grants: 2 * n,
		Connections: max(10, n/100), Orgs: 20, Cohort: min(1000, n/2),
	}, nil
}

// scaleEnv is the value of GATEHOUSE_SCALE.
func scaleEnv() string { return os.Getenv("GATEHOUSE_SCALE") }

// Names the trials rely on.
const (
	cohortGroup   = "cohort"
	cohortLabel   = "scale.gatehouse.dev/cohort"
	licenseName   = "license"
	readerProfile = "reader"
	fullProfile   = "ai-consumer"
)

// world is a generated namespace, objects without namespace or status.
type world struct {
	sizes          sizes
	license        *iamv1alpha1.License
	users          []iamv1alpha1.User
	groups         []iamv1alpha1.Group
	connections    []iamv1alpha1.Connection
	shares         []iamv1alpha1.Share
	resourceGrants []iamv1alpha1.ResourceGrant
	cohort         []string
}

// objects returns every object, in creation order (License, Groups,
// Connections, Users, Shares, ResourceGrants).
func (w *world) objects() [][]metav1.Object {
	var out [][]metav1.Object
	out = append(out, []metav1.Object{w.license})
	var gs, cs, us, ss, rs []metav1.Object
	for i := range w.groups {
		gs = append(gs, &w.groups[i])
	}
	for i := range w.connections {
		cs = append(cs, &w.connections[i])
	}
	for i := range w.users {
		us = append(us, &w.users[i])
	}
	for i := range w.shares {
		ss = append(ss, &w.shares[i])
	}
	for i := range w.resourceGrants {
		rs = append(rs, &w.resourceGrants[i])
	}
	return append(out, gs, cs, us, ss, rs)
}

// generate builds a deterministic namespace shaped like a large company, as
// internal/access's enterprise benchmark does (which a test package cannot
// import): everyone in an all-staff directory group, two departments of
// thousands (engineering ~30 %, analytics ~20 %), small teams (users in
// 1–10 groups), ten administrators, a cohort group of exactly sz.Cohort
// members for the share trials; every resource shared by an Owner, more
// Shares mostly to users, some to teams, a few to departments, all staff or
// an organization; DSS-style ResourceGrants; Connections (Global
// credentials of an untestable type, so the operator never dials), and a
// License with four profiles: reader over-committed, ai-consumer exactly
// full.
func generate(sz sizes) *world {
	r := rand.New(rand.NewSource(20261123))
	w := &world{sizes: sz}
	all := access.GlobalPermissions()
	w.license = &iamv1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: licenseName}, Spec: iamv1alpha1.LicenseSpec{Profiles: []iamv1alpha1.Profile{
		{Name: "full-designer", Seats: int32(sz.Users * 65 / 100), MaxRole: "Owner", GlobalPermissions: all},
		{Name: "data-designer", Seats: int32(sz.Users / 5), MaxRole: "Owner", GlobalPermissions: []iamv1alpha1.GlobalPermission{
			"createProjects", "createWorkspaces", "shareToWorkspaces"}},
		{Name: fullProfile, Seats: 0, MaxRole: "Consumer", GlobalPermissions: []iamv1alpha1.GlobalPermission{"createWorkspaces"}},
		{Name: readerProfile, Seats: int32(sz.Users / 20), MaxRole: "Consumer", GlobalPermissions: []iamv1alpha1.GlobalPermission{}},
	}}}

	team := func(i int) string { return fmt.Sprintf("team-%04d", i) }
	small := func() string { return team(5 + r.Intn(sz.Groups-5)) }
	w.groups = append(w.groups,
		iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: "all-staff"}, Spec: iamv1alpha1.GroupSpec{LDAPGroups: []string{"CN=All Staff,OU=Groups,DC=corp,DC=example"}}},
		iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: "engineering"}, Spec: iamv1alpha1.GroupSpec{GlobalPermissions: []iamv1alpha1.GlobalPermission{"createProjects", "createWorkspaces"}}},
		iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: "analytics"}, Spec: iamv1alpha1.GroupSpec{GlobalPermissions: []iamv1alpha1.GlobalPermission{"createProjects"}}},
		iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: "admins"}, Spec: iamv1alpha1.GroupSpec{GlobalPermissions: []iamv1alpha1.GlobalPermission{"admin"}}},
		iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: cohortGroup}},
	)
	for i := 5; i < sz.Groups; i++ {
		g := iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: team(i)}}
		for n := r.Intn(3); n > 0; n-- {
			g.Spec.GlobalPermissions = append(g.Spec.GlobalPermissions, all[1+r.Intn(len(all)-1)])
		}
		g.Spec.GlobalPermissions = dedup(g.Spec.GlobalPermissions)
		if i%10 == 0 {
			g.Spec.LDAPGroups = []string{fmt.Sprintf("cn=team %d,ou=groups,dc=corp,dc=example", i)}
		}
		w.groups = append(w.groups, g)
	}

	profiles := []string{"full-designer", "full-designer", "full-designer", "full-designer", "full-designer", "full-designer",
		"data-designer", "data-designer", fullProfile, readerProfile}
	stride := sz.Users / sz.Cohort
	fullUsers := 0
	for i := 0; i < sz.Users; i++ {
		name := fmt.Sprintf("user-%05d", i)
		u := iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: iamv1alpha1.UserSpec{Login: name, Profile: profiles[r.Intn(len(profiles))], Organization: fmt.Sprintf("org-%02d", r.Intn(sz.Orgs)),
				DirectoryGroups: []string{"cn=all staff,ou=groups,dc=corp,dc=example"}}}
		if i < 10 {
			u.Spec.Profile = "full-designer"
			u.Spec.Groups = append(u.Spec.Groups, "admins")
		}
		if r.Intn(100) < 3 {
			f := false
			u.Spec.Active = &f
		} else if u.Spec.Profile == fullProfile {
			fullUsers++
		}
		if r.Intn(100) < 30 {
			u.Spec.Groups = append(u.Spec.Groups, "engineering")
		} else if r.Intn(100) < 28 {
			u.Spec.Groups = append(u.Spec.Groups, "analytics")
		}
		for n := r.Intn(9); n > 0; n-- {
			if r.Intn(10) == 0 {
				u.Spec.DirectoryGroups = append(u.Spec.DirectoryGroups, fmt.Sprintf("CN=Team %d, OU=Groups, DC=corp, DC=example", 10*(1+r.Intn((sz.Groups-1)/10))))
			} else {
				u.Spec.Groups = append(u.Spec.Groups, small())
			}
		}
		if i%stride == stride/2 && len(w.cohort) < sz.Cohort {
			u.Spec.Groups = append(u.Spec.Groups, cohortGroup)
			u.Labels = map[string]string{cohortLabel: "true"}
			w.cohort = append(w.cohort, name)
		}
		u.Spec.Groups = dedup(u.Spec.Groups)
		u.Spec.DirectoryGroups = dedup(u.Spec.DirectoryGroups)
		w.users = append(w.users, u)
	}
	// The ai-consumer profile has exactly as many seats as active users.
	w.license.Spec.Profiles[2].Seats = int32(fullUsers)
	someUser := func() string { return fmt.Sprintf("user-%05d", r.Intn(sz.Users)) }

	types := []iamv1alpha1.ResourceType{"dataset", "dataset", "dataset", "project", "project", "project", "deployment",
		"modelPackage", "customModel", "environment", "application", "codeEnv", "cluster"}
	var res []iamv1alpha1.ResourceRef
	for i := 0; i < sz.Connections; i++ {
		c := iamv1alpha1.Connection{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("conn-%03d", i)}, Spec: iamv1alpha1.ConnectionSpec{
			Type:        "Snowflake",
			Credentials: iamv1alpha1.ConnectionCredentials{Mode: iamv1alpha1.CredentialModeGlobal, SecretRef: &iamv1alpha1.LocalSecretReference{Name: "conn-credentials"}},
		}}
		switch x := r.Intn(10); {
		case x < 3:
			c.Spec.UsableBy = &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceAll}
		case x < 8:
			c.Spec.UsableBy = &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceGroups, Groups: dedup([]string{small(), small()})}
			if x == 7 {
				c.Spec.UsableBy.Groups = append(c.Spec.UsableBy.Groups, "analytics")
			}
		}
		w.connections = append(w.connections, c)
		res = append(res, iamv1alpha1.ResourceRef{Type: "connection", Name: c.Name})
	}
	for i := len(res); i < sz.Resources; i++ {
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
			g.Kind, g.Name = "Organization", fmt.Sprintf("org-%02d", r.Intn(sz.Orgs))
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
		w.shares = append(w.shares, sh)
	}
	for i, ref := range res {
		addShare(i, ref, []iamv1alpha1.Grantee{{Kind: "User", Name: someUser(), Role: "Owner", AllowSharing: true}}, r.Intn(3))
	}
	for i := len(res); i < sz.Shares; i++ {
		addShare(i, res[r.Intn(len(res))], nil, 1+r.Intn(4))
	}
	for i := 0; i < sz.Grants; i++ {
		ref := res[r.Intn(len(res))]
		if r.Intn(10) < 6 {
			ref = iamv1alpha1.ResourceRef{Type: "project", Name: fmt.Sprintf("project-dss-%04d", r.Intn(max(1, sz.Users/2)))}
		}
		perms, _ := access.PermissionsOf(ref.Type)
		g := iamv1alpha1.ResourceGrant{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("grant-%05d", i)}, Spec: iamv1alpha1.ResourceGrantSpec{Resource: ref}}
		for n := 1 + r.Intn(3); n > 0; n-- {
			g.Spec.Permissions = append(g.Spec.Permissions, perms[r.Intn(len(perms))])
		}
		g.Spec.Permissions = dedup(g.Spec.Permissions)
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
		w.resourceGrants = append(w.resourceGrants, g)
	}
	return w
}

// dedup removes repeated elements, keeping the first of each (the CRDs'
// set-typed lists reject duplicates).
func dedup[T comparable](in []T) []T {
	seen := make(map[T]bool, len(in))
	out := in[:0]
	for _, v := range in {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
