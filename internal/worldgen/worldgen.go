// Package worldgen generates a deterministic namespace shaped like a large
// company, the one world the benchmarks of internal/access and the scale
// harness of test/scale measure: everyone in an all-staff directory group,
// two departments of thousands (engineering ~30 %, analytics ~20 %), small
// teams (users in 1–10 groups), ten administrators; every resource shared by
// an Owner, more Shares mostly to users, some to teams, a few to
// departments, all staff or an organization; DSS-style ResourceGrants on
// projects; Connections; a License with four profiles.
//
// Its random stream has a fixed seed, so a world is the same on every run
// and BENCHMARKS.md's figures stay comparable: change the order of its
// draws and every recorded figure changes meaning. Two presets differ only
// where the measurements need it (Enterprise for the benchmarks, Scale for
// the harness, which writes its world to an API server).
//
// It imports no Gatehouse package but the API types: the permission
// catalogue comes in through Catalogue, so internal/access's own tests can
// use it.
package worldgen

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// Seed is the random stream's seed.
const Seed = 20261123

// Sizes is the shape of a world.
type Sizes struct {
	Users, Groups, Resources, Shares, Grants, Connections, Orgs int
	// Cohort is the size of the cohort group (Scale only): every
	// Users/Cohort-th user is in it and labelled CohortLabel.
	Cohort int
}

// Catalogue is the permission catalogue (internal/access's
// GlobalPermissions and PermissionsOf).
type Catalogue struct {
	// Globals are the global permissions, "admin" first.
	Globals []iamv1alpha1.GlobalPermission
	// PermissionsOf lists the permissions of a resource type.
	PermissionsOf func(iamv1alpha1.ResourceType) ([]iamv1alpha1.Permission, error)
}

// World is a generated namespace: objects without namespace or status.
type World struct {
	Sizes Sizes
	// Now is the time the world is computed at (Enterprise only; Users
	// were created a minute apart from a year before).
	Now            time.Time
	License        *iamv1alpha1.License
	Users          []iamv1alpha1.User
	Groups         []iamv1alpha1.Group
	Connections    []iamv1alpha1.Connection
	Shares         []iamv1alpha1.Share
	ResourceGrants []iamv1alpha1.ResourceGrant
	// Cohort names the members of the cohort group, in order.
	Cohort []string
}

// Names the scale harness relies on.
const (
	CohortGroup   = "cohort"
	CohortLabel   = "scale.gatehouse.dev/cohort"
	LicenseName   = "license"
	ReaderProfile = "reader"
	// FullProfile is Scale's profile with exactly as many seats as active
	// users.
	FullProfile = "ai-consumer"
)

// EnterpriseSizes are the benchmarks' sizes: 10,000 users, 1,000 groups,
// 20,000 resources, 30,000 Shares, 20,000 ResourceGrants, 100 Connections,
// 20 organizations.
var EnterpriseSizes = Sizes{Users: 10000, Groups: 1000, Resources: 20000, Shares: 30000, Grants: 20000, Connections: 100, Orgs: 20}

// shape is what the presets choose; the draws are the same for both.
type shape struct {
	sizes     Sizes
	teamName  string // fmt format of a team's name
	fixed     []iamv1alpha1.Group
	license   func(Sizes, Catalogue) *iamv1alpha1.License
	epoch     time.Time // zero: no creation timestamps
	dedup     bool      // lists as the CRDs accept them, without repeats
	conn      func(i int) iamv1alpha1.Connection
	fullSeats bool // FullProfile's seats set to the active users of it
}

// Enterprise is the benchmarks' world (EnterpriseSizes): a License whose
// reader profile is over-committed, PostgreSQL Connections.
func Enterprise(cat Catalogue) *World {
	epoch := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	w := generate(shape{
		sizes:    EnterpriseSizes,
		teamName: "team-%03d",
		fixed: []iamv1alpha1.Group{
			{ObjectMeta: metav1.ObjectMeta{Name: "all-staff"}, Spec: iamv1alpha1.GroupSpec{LDAPGroups: []string{"CN=All Staff,OU=Groups,DC=corp,DC=example"}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "engineering"}, Spec: iamv1alpha1.GroupSpec{GlobalPermissions: []iamv1alpha1.GlobalPermission{"createProjects", "writeIsolatedCode", "createCodeEnvs"}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "analytics"}, Spec: iamv1alpha1.GroupSpec{GlobalPermissions: []iamv1alpha1.GlobalPermission{"createProjects", "createDataCollections"}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "admins"}, Spec: iamv1alpha1.GroupSpec{GlobalPermissions: []iamv1alpha1.GlobalPermission{"admin"}}},
		},
		license: func(Sizes, Catalogue) *iamv1alpha1.License {
			return &iamv1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: LicenseName}, Spec: iamv1alpha1.LicenseSpec{Profiles: []iamv1alpha1.Profile{
				{Name: "full-designer", Seats: 6500, MaxRole: "Owner"},
				{Name: "data-designer", Seats: 2000, MaxRole: "Owner", GlobalPermissions: []iamv1alpha1.GlobalPermission{
					"createProjects", "createWorkspaces", "shareToWorkspaces", "createDataCollections", "publishToDataCollections", "createCodeEnvs"}},
				{Name: FullProfile, Seats: 1000, MaxRole: "Consumer", GlobalPermissions: []iamv1alpha1.GlobalPermission{"createWorkspaces"}},
				{Name: ReaderProfile, Seats: 500, MaxRole: "Consumer", GlobalPermissions: []iamv1alpha1.GlobalPermission{}},
			}}}
		},
		epoch: epoch,
		conn: func(i int) iamv1alpha1.Connection {
			return iamv1alpha1.Connection{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("conn-%03d", i)}, Spec: iamv1alpha1.ConnectionSpec{Type: "PostgreSQL"}}
		},
	}, cat)
	w.Now = epoch.Add(365 * 24 * time.Hour)
	return w
}

// Scale is the scale harness's world of sz: lists without repeats (as the
// CRDs accept them), a cohort group of exactly sz.Cohort members for the
// share trials, Connections with Global credentials of an untestable type
// (so the operator never dials), the ai-consumer profile exactly full and
// the reader profile over-committed.
func Scale(sz Sizes, cat Catalogue) *World {
	return generate(shape{
		sizes:    sz,
		teamName: "team-%04d",
		fixed: []iamv1alpha1.Group{
			{ObjectMeta: metav1.ObjectMeta{Name: "all-staff"}, Spec: iamv1alpha1.GroupSpec{LDAPGroups: []string{"CN=All Staff,OU=Groups,DC=corp,DC=example"}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "engineering"}, Spec: iamv1alpha1.GroupSpec{GlobalPermissions: []iamv1alpha1.GlobalPermission{"createProjects", "createWorkspaces"}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "analytics"}, Spec: iamv1alpha1.GroupSpec{GlobalPermissions: []iamv1alpha1.GlobalPermission{"createProjects"}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "admins"}, Spec: iamv1alpha1.GroupSpec{GlobalPermissions: []iamv1alpha1.GlobalPermission{"admin"}}},
			{ObjectMeta: metav1.ObjectMeta{Name: CohortGroup}},
		},
		license: func(sz Sizes, cat Catalogue) *iamv1alpha1.License {
			return &iamv1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: LicenseName}, Spec: iamv1alpha1.LicenseSpec{Profiles: []iamv1alpha1.Profile{
				{Name: "full-designer", Seats: int32(sz.Users * 65 / 100), MaxRole: "Owner", GlobalPermissions: cat.Globals},
				{Name: "data-designer", Seats: int32(sz.Users / 5), MaxRole: "Owner", GlobalPermissions: []iamv1alpha1.GlobalPermission{
					"createProjects", "createWorkspaces", "shareToWorkspaces"}},
				{Name: FullProfile, Seats: 0, MaxRole: "Consumer", GlobalPermissions: []iamv1alpha1.GlobalPermission{"createWorkspaces"}},
				{Name: ReaderProfile, Seats: int32(sz.Users / 20), MaxRole: "Consumer", GlobalPermissions: []iamv1alpha1.GlobalPermission{}},
			}}}
		},
		dedup: true,
		conn: func(i int) iamv1alpha1.Connection {
			return iamv1alpha1.Connection{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("conn-%03d", i)}, Spec: iamv1alpha1.ConnectionSpec{
				Type:        "Snowflake",
				Credentials: iamv1alpha1.ConnectionCredentials{Mode: iamv1alpha1.CredentialModeGlobal, SecretRef: &iamv1alpha1.LocalSecretReference{Name: "conn-credentials"}},
			}}
		},
		fullSeats: true,
	}, cat)
}
