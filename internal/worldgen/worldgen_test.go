package worldgen_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/worldgen"
)

var catalogue = worldgen.Catalogue{Globals: access.GlobalPermissions(), PermissionsOf: access.PermissionsOf}

// fingerprint is the SHA-256 of a world's objects in JSON.
func fingerprint(t *testing.T, w *worldgen.World) string {
	t.Helper()
	b, err := json.Marshal([]any{w.Now, w.License, w.Users, w.Groups, w.Connections, w.Shares, w.ResourceGrants, w.Cohort})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}

// fullScale is test/scale's GATEHOUSE_SCALE=full.
var fullScale = worldgen.Sizes{Users: 10000, Groups: 1000, Resources: 20000, Shares: 30000, Grants: 20000, Connections: 100, Orgs: 20, Cohort: 1000}

// TestWorldsUnchanged pins the worlds BENCHMARKS.md's figures were measured
// on (the same as the two generators this package replaced drew). A change
// of the generator that changes them makes every recorded figure
// incomparable: re-measure BENCHMARKS.md, then update the fingerprints.
func TestWorldsUnchanged(t *testing.T) {
	tests := map[string]struct {
		world *worldgen.World
		want  string
	}{
		"Enterprise":  {worldgen.Enterprise(catalogue), "2f889b4d7b2dace8e8dd81b56124343c7aad431f6257c1be32b8bff71c700bcc"},
		"Scale(full)": {worldgen.Scale(fullScale, catalogue), "dc39f12e3b96d4d4aa4bd2f1c5f7a5dad99f635b75b5033f02ffe027a7e748f8"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := fingerprint(t, tc.world); got != tc.want {
				t.Errorf("the world's fingerprint is %s, want %s", got, tc.want)
			}
		})
	}
}

// TestScaleIsValid: the Scale world's lists have no repeats (the CRDs
// reject them) and its cohort has exactly the size asked.
func TestScaleIsValid(t *testing.T) {
	sz := worldgen.Sizes{Users: 1000, Groups: 100, Resources: 2000, Shares: 3000, Grants: 2000, Connections: 10, Orgs: 20, Cohort: 500}
	w := worldgen.Scale(sz, catalogue)
	if len(w.Users) != sz.Users || len(w.Groups) != sz.Groups || len(w.Shares) != sz.Shares || len(w.ResourceGrants) != sz.Grants {
		t.Errorf("%d users, %d groups, %d shares, %d grants; want %+v", len(w.Users), len(w.Groups), len(w.Shares), len(w.ResourceGrants), sz)
	}
	if len(w.Cohort) != sz.Cohort {
		t.Errorf("a cohort of %d, want %d", len(w.Cohort), sz.Cohort)
	}
	for _, u := range w.Users {
		if repeated(u.Spec.Groups) || repeated(u.Spec.DirectoryGroups) {
			t.Fatalf("user %s has repeated groups: %v %v", u.Name, u.Spec.Groups, u.Spec.DirectoryGroups)
		}
	}
	for _, g := range w.ResourceGrants {
		if repeated(g.Spec.Permissions) {
			t.Fatalf("grant %s has repeated permissions: %v", g.Name, g.Spec.Permissions)
		}
	}
}

func repeated[T comparable](xs []T) bool {
	seen := map[T]bool{}
	for _, x := range xs {
		if seen[x] {
			return true
		}
		seen[x] = true
	}
	return false
}
