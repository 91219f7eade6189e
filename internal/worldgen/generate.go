package worldgen

import (
	"fmt"
	"math/rand"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// groups draws the Groups of sh: the fixed ones, then the teams, each with
// up to two global permissions and every tenth with a directory group.
func groups(sh shape, cat Catalogue, r *rand.Rand) []iamv1alpha1.Group {
	out := append([]iamv1alpha1.Group(nil), sh.fixed...)
	for i := len(sh.fixed); i < sh.sizes.Groups; i++ {
		g := iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf(sh.teamName, i)}}
		for n := r.Intn(3); n > 0; n-- {
			g.Spec.GlobalPermissions = append(g.Spec.GlobalPermissions, cat.Globals[1+r.Intn(len(cat.Globals)-1)])
		}
		if sh.dedup {
			g.Spec.GlobalPermissions = unique(g.Spec.GlobalPermissions)
		}
		if i%10 == 0 {
			g.Spec.LDAPGroups = []string{fmt.Sprintf("cn=team %d,ou=groups,dc=corp,dc=example", i)}
		}
		out = append(out, g)
	}
	return out
}

// generate draws a world of sh. The order of the draws is the worlds'
// identity: keep it.
func generate(sh shape, cat Catalogue) *World {
	sz := sh.sizes
	r := rand.New(rand.NewSource(Seed)) //nolint:gosec // G404: a reproducible world, not a secret
	w := &World{Sizes: sz, License: sh.license(sz, cat)}
	dedup := func(xs []string) []string {
		if sh.dedup {
			return unique(xs)
		}
		return xs
	}

	fixed := len(sh.fixed)
	small := func() string { return fmt.Sprintf(sh.teamName, fixed+r.Intn(sz.Groups-fixed)) }
	w.Groups = groups(sh, cat, r)

	w.Users = users(w, sh, r, small)
	if sh.fullSeats {
		active := 0
		for _, u := range w.Users {
			if u.Spec.Profile == FullProfile && (u.Spec.Active == nil || *u.Spec.Active) {
				active++
			}
		}
		w.License.Spec.Profiles[2].Seats = int32(active)
	}
	someUser := func() string { return fmt.Sprintf("user-%05d", r.Intn(sz.Users)) }

	// Resources: the Connections, then others.
	var res []iamv1alpha1.ResourceRef
	w.Connections, res = resources(sh, r, small, dedup)

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
		w.Shares = append(w.Shares, sh)
	}
	for i, ref := range res {
		addShare(i, ref, []iamv1alpha1.Grantee{{Kind: "User", Name: someUser(), Role: "Owner", AllowSharing: true}}, r.Intn(3))
	}
	for i := len(res); i < sz.Shares; i++ {
		addShare(i, res[r.Intn(len(res))], nil, 1+r.Intn(4))
	}

	w.ResourceGrants = grants(sh, cat, r, res, someUser, small)
	return w
}

// resources draws the Connections (each usable by everyone, by groups or
// by nobody) and names the other resources, of types in proportion.
func resources(sh shape, r *rand.Rand, small func() string, dedup func([]string) []string) ([]iamv1alpha1.Connection, []iamv1alpha1.ResourceRef) {
	types := []iamv1alpha1.ResourceType{"dataset", "dataset", "dataset", "project", "project", "project", "deployment",
		"modelPackage", "customModel", "environment", "application", "codeEnv", "cluster"}
	var res []iamv1alpha1.ResourceRef
	var conns []iamv1alpha1.Connection
	for i := 0; i < sh.sizes.Connections; i++ {
		c := sh.conn(i)
		switch x := r.Intn(10); {
		case x < 3:
			c.Spec.UsableBy = &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceAll}
		case x < 8:
			c.Spec.UsableBy = &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceGroups, Groups: dedup([]string{small(), small()})}
			if x == 7 {
				c.Spec.UsableBy.Groups = append(c.Spec.UsableBy.Groups, "analytics")
			}
		}
		conns = append(conns, c)
		res = append(res, iamv1alpha1.ResourceRef{Type: "connection", Name: c.Name})
	}
	for i := len(res); i < sh.sizes.Resources; i++ {
		t := types[r.Intn(len(types))]
		res = append(res, iamv1alpha1.ResourceRef{Type: t, Name: fmt.Sprintf("%s-%05d", t, i)})
	}
	return conns, res
}

// grants draws the ResourceGrants: most on DSS projects, one to three
// permissions each, to one or two users or groups.
func grants(sh shape, cat Catalogue, r *rand.Rand, res []iamv1alpha1.ResourceRef, someUser, small func() string) []iamv1alpha1.ResourceGrant {
	var out []iamv1alpha1.ResourceGrant
	for i := 0; i < sh.sizes.Grants; i++ {
		ref := res[r.Intn(len(res))]
		if r.Intn(10) < 6 {
			ref = iamv1alpha1.ResourceRef{Type: "project", Name: fmt.Sprintf("project-dss-%04d", r.Intn(max(1, sh.sizes.Users/2)))}
		}
		perms, _ := cat.PermissionsOf(ref.Type)
		g := iamv1alpha1.ResourceGrant{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("grant-%05d", i)}, Spec: iamv1alpha1.ResourceGrantSpec{Resource: ref}}
		for n := 1 + r.Intn(3); n > 0; n-- {
			g.Spec.Permissions = append(g.Spec.Permissions, perms[r.Intn(len(perms))])
		}
		if sh.dedup {
			g.Spec.Permissions = unique(g.Spec.Permissions)
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
		out = append(out, g)
	}
	return out
}

// users draws the Users: profiles in proportion, the first ten
// administrators, 3 % inactive, the departments, 0–8 teams or directory
// groups each, and (with a cohort) every stride-th one in the cohort group.
func users(w *World, sh shape, r *rand.Rand, small func() string) []iamv1alpha1.User {
	sz := sh.sizes
	profiles := []string{"full-designer", "full-designer", "full-designer", "full-designer", "full-designer", "full-designer",
		"data-designer", "data-designer", FullProfile, ReaderProfile}
	stride := 0
	if sz.Cohort > 0 {
		stride = sz.Users / sz.Cohort
	}
	out := make([]iamv1alpha1.User, 0, sz.Users)
	for i := 0; i < sz.Users; i++ {
		name := fmt.Sprintf("user-%05d", i)
		u := iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: iamv1alpha1.UserSpec{Login: name, Profile: profiles[r.Intn(len(profiles))], Organization: fmt.Sprintf("org-%02d", r.Intn(sz.Orgs)),
				DirectoryGroups: []string{"cn=all staff,ou=groups,dc=corp,dc=example"}}}
		if !sh.epoch.IsZero() {
			u.CreationTimestamp = metav1.NewTime(sh.epoch.Add(time.Duration(i) * time.Minute))
		}
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
				u.Spec.DirectoryGroups = append(u.Spec.DirectoryGroups, fmt.Sprintf("CN=Team %d, OU=Groups, DC=corp, DC=example", 10*(1+r.Intn((sz.Groups-1)/10))))
			} else {
				u.Spec.Groups = append(u.Spec.Groups, small())
			}
		}
		if stride > 0 && i%stride == stride/2 && len(w.Cohort) < sz.Cohort {
			u.Spec.Groups = append(u.Spec.Groups, CohortGroup)
			u.Labels = map[string]string{CohortLabel: "true"}
			w.Cohort = append(w.Cohort, name)
		}
		if sh.dedup {
			u.Spec.Groups = unique(u.Spec.Groups)
			u.Spec.DirectoryGroups = unique(u.Spec.DirectoryGroups)
		}
		out = append(out, u)
	}
	return out
}

// unique removes repeated elements, keeping the first of each.
func unique[T comparable](in []T) []T {
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
