package scale

import (
	"fmt"
	"os"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/worldgen"
)

// sizes is the shape of the generated namespace.
type sizes = worldgen.Sizes

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
	cohortGroup   = worldgen.CohortGroup
	cohortLabel   = worldgen.CohortLabel
	licenseName   = worldgen.LicenseName
	readerProfile = worldgen.ReaderProfile
	fullProfile   = worldgen.FullProfile
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

// generate builds internal/worldgen's Scale world of sz: the enterprise
// internal/access's benchmarks measure (same generator, same seed), with a
// cohort group of exactly sz.Cohort members for the share trials,
// Connections the operator never dials and a License whose ai-consumer
// profile is exactly full.
func generate(sz sizes) *world {
	w := worldgen.Scale(sz, worldgen.Catalogue{Globals: access.GlobalPermissions(), PermissionsOf: access.PermissionsOf})
	return &world{sizes: sz, license: w.License, users: w.Users, groups: w.Groups, connections: w.Connections,
		shares: w.Shares, resourceGrants: w.ResourceGrants, cohort: w.Cohort}
}
