package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoTestPackages fails when a shipped binary links a package meant for
// tests: the test harnesses (internal/testenv/dbtest installs databases with apt),
// any package of the module whose name ends in "test", or the standard
// library's testing. No product package has a test name (the connection
// probe is internal/probe), so the rule has no exception.
func TestNoTestPackages(t *testing.T) {
	const module = "github.com/gatehouse-dev/gatehouse/"
	for _, bin := range []string{"./cmd/gatehouse", "./cmd/manager"} {
		cmd := exec.Command("go", "list", "-deps", bin)
		cmd.Dir = "../.."
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", bin, err, out)
		}
		for _, pkg := range strings.Fields(string(out)) {
			forbidden := pkg == "testing" ||
				(strings.HasPrefix(pkg, module) && strings.HasSuffix(pkg, "test"))
			if forbidden {
				t.Errorf("%s links %s, a package for tests: move what it needs into a package of the product (as internal/localdb is for internal/testenv/dbtest)", bin, pkg)
			}
		}
	}
}
