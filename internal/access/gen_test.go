package access

import (
	"fmt"
	"math/rand"
	randv2 "math/rand/v2"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// byteSource draws small choices from fuzz input; past its end it yields
// zeros, so every input makes a valid snapshot.
type byteSource struct {
	b []byte
	i int
}

func (s *byteSource) byte() byte {
	if s.i >= len(s.b) {
		return 0
	}
	s.i++
	return s.b[s.i-1]
}

// intn returns a number in [0, n).
func (s *byteSource) intn(n int) int { return int(s.byte()) % n }

func (s *byteSource) bool() bool { return s.byte()&1 == 1 }

func (s *byteSource) done() bool { return s.i >= len(s.b) }

// The small universe the generator draws from: few names, so that objects
// collide and interact.
var (
	genUsers    = []string{"alice", "bob", "carol", "dave", "erin"}
	genGroups   = []string{"data", "ops", "admins", "ghosts"}
	genOrgs     = []string{"", "acme", "globex"}
	genProfiles = []string{"full", "full", "reader", "editor", "", "unknown"}
	genDNS      = []string{"CN=Data, OU=Groups,DC=corp", "cn=data,ou=groups,dc=corp", "cn=ops,dc=corp", "Admins"}
	genGlobals  = []iamv1alpha1.GlobalPermission{"admin", "createProjects", "writeUnisolatedCode", "createProjectsFromApps", "createProjectsFromMacros"}
	genRes      = []iamv1alpha1.ResourceRef{
		{Type: "dataset", Name: "sales"}, {Type: "dataset", Name: "hr"}, {Type: "connection", Name: "pg"},
		{Type: "connection", Name: "s3"}, {Type: "project", Name: "churn"}, {Type: "environment", Name: "py311"},
		{Type: "codeEnv", Name: "gpu"}, {Type: "deployment", Name: "scoring"}, {Type: "notebook", Name: "bad"},
		{Type: "containerExecConfig", Name: "k8s-cpu"}, {Type: "deployerInfrastructure", Name: "prod"},
	}
	genConns = []string{"pg", "s3", "mysql"}
	genRoles = []iamv1alpha1.Role{"Consumer", "Editor", "Owner", "Consumer", "Owner", "Admin"}
	genEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

func pick[T any](s *byteSource, xs []T) T { return xs[s.intn(len(xs))] }

func subset[T any](s *byteSource, xs []T) []T {
	var out []T
	seen := map[int]bool{}
	for n := s.intn(len(xs) + 1); n > 0; n-- {
		i := s.intn(len(xs))
		if !seen[i] {
			seen[i] = true
			out = append(out, xs[i])
		}
	}
	return out
}

func genUser(s *byteSource, name string) iamv1alpha1.User {
	u := iamv1alpha1.User{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(genEpoch.Add(time.Duration(s.intn(4)) * time.Hour))},
		Spec: iamv1alpha1.UserSpec{Login: name, Profile: pick(s, genProfiles), Organization: pick(s, genOrgs),
			Groups: subset(s, genGroups), DirectoryGroups: subset(s, genDNS)},
	}
	if s.intn(5) == 0 {
		f := false
		u.Spec.Active = &f
	}
	return u
}

func genGroup(s *byteSource, name string) iamv1alpha1.Group {
	g := iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: iamv1alpha1.GroupSpec{GlobalPermissions: subset(s, genGlobals), LDAPGroups: subset(s, genDNS)}}
	if s.intn(3) != 0 { // admin is rarer than the others
		var keep []iamv1alpha1.GlobalPermission
		for _, p := range g.Spec.GlobalPermissions {
			if p != "admin" {
				keep = append(keep, p)
			}
		}
		g.Spec.GlobalPermissions = keep
	}
	return g
}

func genLicense(s *byteSource) *iamv1alpha1.License {
	if s.intn(8) == 0 {
		return nil
	}
	l := &iamv1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: "license"}, Spec: iamv1alpha1.LicenseSpec{Profiles: []iamv1alpha1.Profile{
		{Name: "full", Seats: int32(1 + s.intn(4)), MaxRole: pick(s, []iamv1alpha1.Role{"", "Owner", "Editor"})},
		{Name: "reader", Seats: int32(s.intn(4)), MaxRole: "Consumer", GlobalPermissions: []iamv1alpha1.GlobalPermission{}},
		{Name: "editor", Seats: int32(s.intn(4)), MaxRole: "Editor", GlobalPermissions: subset(s, genGlobals)},
	}}}
	if s.intn(6) == 0 {
		l.Spec.ExpiresAt = &metav1.Time{Time: genEpoch.Add(time.Duration(s.intn(3)-1) * 24 * time.Hour)}
	}
	return l
}

func genConnection(s *byteSource, name string) iamv1alpha1.Connection {
	c := iamv1alpha1.Connection{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: iamv1alpha1.ConnectionSpec{Type: "PostgreSQL"}}
	switch s.intn(4) {
	case 1:
		c.Spec.UsableBy = &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceAll}
	case 2:
		c.Spec.UsableBy = &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceGroups, Groups: subset(s, genGroups)}
	case 3:
		c.Spec.UsableBy = &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceNone}
	}
	// Derived, not drawn, so that every later draw stays as it was: the
	// details audience mirrors usableBy for names of even length, and the
	// credentials are per-user for the others (what Affected.Connections
	// follows).
	if len(name)%2 == 0 {
		c.Spec.DetailsReadableBy = c.Spec.UsableBy.DeepCopy()
	} else {
		c.Spec.Credentials.Mode = iamv1alpha1.CredentialModePerUser
	}
	return c
}

func genGrantee(s *byteSource) iamv1alpha1.Grantee {
	g := iamv1alpha1.Grantee{Role: pick(s, genRoles), AllowSharing: s.intn(3) == 0, CanUseData: s.bool()}
	switch s.intn(5) {
	case 0, 1:
		g.Kind, g.Name = iamv1alpha1.GranteeUser, pick(s, append(genUsers, "nobody"))
	case 2, 3:
		g.Kind, g.Name = iamv1alpha1.GranteeGroup, pick(s, genGroups)
	default:
		g.Kind, g.Name = iamv1alpha1.GranteeOrganization, pick(s, []string{"acme", "globex", "initech"})
	}
	return g
}

func genShare(s *byteSource, name string) iamv1alpha1.Share {
	sh := iamv1alpha1.Share{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: iamv1alpha1.ShareSpec{Resource: pick(s, genRes)}}
	seen := map[string]bool{}
	for n := 1 + s.intn(3); n > 0; n-- {
		g := genGrantee(s)
		if k := string(g.Kind) + "/" + g.Name; !seen[k] {
			seen[k] = true
			sh.Spec.Grantees = append(sh.Spec.Grantees, g)
		}
	}
	return sh
}

func genGrant(s *byteSource, name string) iamv1alpha1.ResourceGrant {
	res := pick(s, genRes)
	g := iamv1alpha1.ResourceGrant{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: iamv1alpha1.ResourceGrantSpec{Resource: res}}
	perms, _ := PermissionsOf(res.Type)
	if len(perms) == 0 {
		perms = p("view")
	}
	g.Spec.Permissions = subset(s, perms)
	if len(g.Spec.Permissions) == 0 || s.intn(10) == 0 {
		g.Spec.Permissions = append(g.Spec.Permissions, pick(s, []iamv1alpha1.Permission{"bogus", perms[0]}))
	}
	seen := map[string]bool{}
	for n := 1 + s.intn(2); n > 0; n-- {
		sub := iamv1alpha1.Subject{Kind: iamv1alpha1.SubjectUser, Name: pick(s, genUsers)}
		if s.bool() {
			sub = iamv1alpha1.Subject{Kind: iamv1alpha1.SubjectGroup, Name: pick(s, genGroups)}
		}
		if k := string(sub.Kind) + "/" + sub.Name; !seen[k] {
			seen[k] = true
			g.Spec.Subjects = append(g.Spec.Subjects, sub)
		}
	}
	return g
}

// genSnapshot builds a whole snapshot from fuzz bytes.
func genSnapshot(s *byteSource) Snapshot {
	snap := Snapshot{Now: genEpoch, License: genLicense(s)}
	for _, n := range genUsers {
		if s.intn(6) != 0 {
			snap.Users = append(snap.Users, genUser(s, n))
		}
	}
	for _, n := range genGroups[:3] {
		if s.intn(5) != 0 {
			snap.Groups = append(snap.Groups, genGroup(s, n))
		}
	}
	for _, n := range genConns {
		if s.intn(3) != 0 {
			snap.Connections = append(snap.Connections, genConnection(s, n))
		}
	}
	for i, n := 0, 1+s.intn(6); i < n; i++ {
		snap.Shares = append(snap.Shares, genShare(s, fmt.Sprintf("share-%d", i)))
	}
	for i, n := 0, s.intn(5); i < n; i++ {
		snap.ResourceGrants = append(snap.ResourceGrants, genGrant(s, fmt.Sprintf("grant-%d", i)))
	}
	return snap
}

// seededSnapshot is genSnapshot of 256 bytes drawn from a fixed seed, for
// property tests that run the same random worlds every time.
func seededSnapshot(seed, stream uint64) Snapshot {
	r := randv2.New(randv2.NewPCG(seed, stream))
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return genSnapshot(&byteSource{b: b})
}

// shuffled returns a copy of the snapshot with every slice shuffled.
func shuffled(s Snapshot, seed int64) Snapshot {
	r := rand.New(rand.NewSource(seed))
	out := s
	out.Users = shuffle(r, s.Users)
	out.Groups = shuffle(r, s.Groups)
	out.Connections = shuffle(r, s.Connections)
	out.Shares = shuffle(r, s.Shares)
	out.ResourceGrants = shuffle(r, s.ResourceGrants)
	for i := range out.Users {
		out.Users[i].Spec.Groups = shuffle(r, out.Users[i].Spec.Groups)
		out.Users[i].Spec.DirectoryGroups = shuffle(r, out.Users[i].Spec.DirectoryGroups)
	}
	for i := range out.Groups {
		out.Groups[i].Spec.GlobalPermissions = shuffle(r, out.Groups[i].Spec.GlobalPermissions)
		out.Groups[i].Spec.LDAPGroups = shuffle(r, out.Groups[i].Spec.LDAPGroups)
	}
	for i := range out.Shares {
		out.Shares[i].Spec.Grantees = shuffle(r, out.Shares[i].Spec.Grantees)
	}
	for i := range out.ResourceGrants {
		out.ResourceGrants[i].Spec.Subjects = shuffle(r, out.ResourceGrants[i].Spec.Subjects)
		out.ResourceGrants[i].Spec.Permissions = shuffle(r, out.ResourceGrants[i].Spec.Permissions)
	}
	return out
}

func shuffle[T any](r *rand.Rand, xs []T) []T {
	if xs == nil {
		return nil
	}
	out := append([]T(nil), xs...)
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}
