package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/cli"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// The tests of this file run the CLI on manifests an attacker wrote, as CI
// runs it on a pull request (issue 23).

// runCLI2 runs the gatehouse command in-process in dir and returns its
// standard output and standard error.
func runCLI2(t *testing.T, dir string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	t.Chdir(dir)
	return execute(t, strings.NewReader(""), args...)
}

// tree writes files into a new directory and returns it.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// every command that reads manifests, reading the path P.
var readingCommands = [][]string{
	{"access", "-f", "P"},
	{"access", "-f", "P", "--user", "alice"},
	{"access", "-f", "P", "-o", "json"},
	{"who-can", "viewMetadata", "dataset/sales", "-f", "P"},
	{"explain", "alice", "dataset/sales", "-f", "P"},
	{"check", "-f", "P"},
	{"access", "diff", "--before", "P", "--after", "P"},
}

func withPath(args []string, p string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if a == "P" {
			out[i] = p
		}
	}
	return out
}

const hostileUser = "apiVersion: iam.gatehouse.dev/v1alpha1\nkind: User\nmetadata: {name: alice}\nspec: {login: alice}\n"

// TestNoCommandNoNetwork: finding 1 and 3. A kustomization with a resource
// that makes kustomize run git with an --upload-pack of the attacker's,
// or fetch from a server: every command refuses it (exit code 2), naming
// the kustomization, and no git runs and nothing connects.
func TestNoCommandNoNetwork(t *testing.T) {
	tr := testenv.NewTrap(t)
	for _, res := range []string{
		"file:///x?ref=--upload-pack=id%3E%262%3Bhead%20-2%20/etc/passwd%3E%262%20%23",
		"http://" + tr.Addr + "/world.yaml",
		"git::http://" + tr.Addr + "/org/repo//base",
		"ssh://git@" + tr.Addr + "/org/repo.git//base",
	} {
		dir := tree(t, map[string]string{
			"overlay/kustomization.yaml": fmt.Sprintf("resources: [users.yaml, %q]\n", res),
			"overlay/users.yaml":         hostileUser,
		})
		for _, args := range readingCommands {
			args := withPath(args, "overlay")
			t.Run(res+" "+strings.Join(args, " "), func(t *testing.T) {
				out, _, err := runCLI2(t, dir, args...)
				var ee *cli.ExitError
				if !errors.As(err, &ee) || ee.Code != 2 || out != "" {
					t.Fatalf("gatehouse %s = %q, %v; want a usage error and no output", strings.Join(args, " "), out, err)
				}
				if !strings.Contains(err.Error(), "overlay/kustomization.yaml: ") || !strings.Contains(err.Error(), "vendor it into the repository") {
					t.Errorf("error %q does not name the kustomization and say to vendor the resource", err)
				}
				if strings.Contains(err.Error(), "root:") {
					t.Errorf("error %q quotes /etc/passwd", err)
				}
			})
		}
	}
	tr.Check(t)
}

// TestNoFileOutside: finding 4. A link in a -f directory to a credential
// file outside the checkout is refused, and its content is never printed.
func TestNoFileOutside(t *testing.T) {
	outside := tree(t, map[string]string{"config.json": `{"auths": {"registry.example": {"auth": "c2VjcmV0OnNlY3JldA=="}}}`})
	dir := tree(t, map[string]string{"m/users.yaml": hostileUser})
	if err := os.Symlink(filepath.Join(outside, "config.json"), filepath.Join(dir, "m", "zz.json")); err != nil {
		t.Fatal(err)
	}
	for _, args := range readingCommands {
		args := withPath(args, "m")
		out, errOut, err := runCLI2(t, dir, args...)
		if err == nil || !strings.Contains(err.Error(), "m/zz.json is a symbolic link, or lies under one, that leads outside the input root") {
			t.Errorf("gatehouse %s: error %v; want the link refused", strings.Join(args, " "), err)
		}
		for _, s := range []string{out, errOut, fmt.Sprint(err)} {
			if strings.Contains(s, "auths") || strings.Contains(s, "c2VjcmV0") {
				t.Errorf("gatehouse %s printed the file outside: %q", strings.Join(args, " "), s)
			}
		}
	}
}

// TestTheObjectsKubectlApplies: finding 5. A Group hidden in a ConfigMap's
// items is read, as kubectl apply creates it; decoys that kubectl skips (a
// subdirectory without -R, .YAML) are not, and a warning says so.
func TestTheObjectsKubectlApplies(t *testing.T) {
	const license = "apiVersion: iam.gatehouse.dev/v1alpha1\nkind: License\nmetadata: {name: default}\nspec:\n  profiles: [{name: designer, seats: 1}]\n"
	admin := "apiVersion: iam.gatehouse.dev/v1alpha1\nkind: User\nmetadata: {name: mallory, creationTimestamp: \"2026-01-02T00:00:00Z\"}\nspec: {login: mallory, profile: designer, groups: [hidden-admins]}\n"
	decoy := func(name string) string {
		return "apiVersion: iam.gatehouse.dev/v1alpha1\nkind: User\nmetadata: {name: " + name + ", creationTimestamp: \"2026-01-01T00:00:00Z\"}\nspec: {login: " + name + ", profile: designer}\n"
	}
	dir := tree(t, map[string]string{
		"m/license.yaml": license,
		"m/mallory.yaml": admin,
		"m/hidden.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: innocent}\nitems:\n" +
			"- apiVersion: iam.gatehouse.dev/v1alpha1\n  kind: Group\n  metadata: {name: hidden-admins}\n  spec: {globalPermissions: [admin]}\n",
		"m/decoy.YAML":     decoy("decoy-a"),
		"m/sub/decoy.yaml": decoy("decoy-b"),
	})
	out, errOut, err := runCLI2(t, dir, "access", "-f", "m")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "mallory") || !strings.Contains(out, "Granted") || !strings.Contains(out, "admin") {
		t.Errorf("mallory is not shown as a seated admin:\n%s", out)
	}
	if strings.Contains(out, "decoy") {
		t.Errorf("a decoy kubectl skips was read:\n%s", out)
	}
	for _, w := range []string{"m/decoy.YAML is not read", "the subdirectories of m are not read (m/sub)"} {
		if !strings.Contains(errOut, w) {
			t.Errorf("standard error does not warn %q:\n%s", w, errOut)
		}
	}
	out, _, err = runCLI2(t, dir, "access", "-R", "-f", "m")
	if err != nil || !strings.Contains(out, "decoy-b") || strings.Contains(out, "decoy-a") {
		t.Errorf("with -R, the subdirectory is read and .YAML still is not: %v\n%s", err, out)
	}
}

// TestOtherNamespacesSaid: finding 8. Objects of another namespace than
// the one read are counted in a warning.
func TestOtherNamespacesSaid(t *testing.T) {
	dir := tree(t, map[string]string{"m.yaml": hostileUser + "---\n" + strings.Replace(hostileUser, "{name: alice}", "{name: bob, namespace: other}", 1)})
	_, errOut, err := runCLI2(t, dir, "access", "-f", "m.yaml", "-n", "default")
	if err != nil {
		t.Fatal(err)
	}
	if want := "1 Gatehouse objects of other namespaces than default are not read (other: 1): give -n to read one of them"; !strings.Contains(errOut, want) {
		t.Errorf("standard error %q does not say %q", errOut, want)
	}
	// A namespace of which the manifests hold nothing is a mistake, not a
	// clean check.
	namespaced := strings.Replace(hostileUser, "{name: alice}", "{name: alice, namespace: staging}", 1) + "---\n" +
		strings.Replace(hostileUser, "{name: alice}", "{name: bob, namespace: other}", 1)
	if err := os.WriteFile(filepath.Join(dir, "n.yaml"), []byte(namespaced), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{{"check", "-f", "n.yaml", "-n", "prod"}, {"access", "-f", "n.yaml", "-n", "prod"}} {
		out, _, err := runCLI2(t, dir, cmd...)
		var ee *cli.ExitError
		if !errors.As(err, &ee) || ee.Code != 2 || out != "" || !strings.Contains(err.Error(), "the manifests hold no Gatehouse object of namespace prod; 2 Gatehouse objects of other namespaces") {
			t.Errorf("gatehouse %s = %q, %v; want a usage error naming the namespaces", strings.Join(cmd, " "), out, err)
		}
	}
}

// TestBounded: finding 6. Output and time are bounded, each with the flag
// that raises the limit; what fits is still printed.
func TestBounded(t *testing.T) {
	var world strings.Builder
	world.WriteString("apiVersion: iam.gatehouse.dev/v1alpha1\nkind: License\nmetadata: {name: default}\nspec:\n  profiles: [{name: designer, seats: 200}]\n")
	for i := range 60 {
		fmt.Fprintf(&world, "---\napiVersion: iam.gatehouse.dev/v1alpha1\nkind: User\nmetadata: {name: u%d}\nspec: {login: u%d, profile: designer, organization: acme}\n", i, i)
		fmt.Fprintf(&world, "---\napiVersion: iam.gatehouse.dev/v1alpha1\nkind: Share\nmetadata: {name: s%d}\nspec:\n  resource: {type: dataset, name: d%d}\n  grantees: [{kind: Organization, name: acme, role: Consumer}]\n", i, i)
	}
	dir := tree(t, map[string]string{"world.yaml": world.String()})
	var ee *cli.ExitError
	for _, format := range []string{"table", "json", "yaml"} {
		out, _, err := runCLI2(t, dir, "access", "-f", "world.yaml", "-o", format, "--max-output-bytes", "4096")
		if !errors.As(err, &ee) || ee.Code != 2 || !strings.Contains(err.Error(), "the output exceeds 4096 bytes (--max-output-bytes raises the limit)") {
			t.Errorf("-o %s: error %v; want the output limit", format, err)
		}
		if len(out) > 4096 || (format != "table" && len(out) == 0) {
			t.Errorf("-o %s: %d bytes printed; want what fits, streamed, within the limit", format, len(out))
		}
	}
	if _, _, err := runCLI2(t, dir, "access", "-f", "world.yaml"); err != nil {
		t.Errorf("within the default limit: %v", err)
	}
	_, _, err := runCLI2(t, dir, "access", "-f", "world.yaml", "--timeout", "1ns")
	if !errors.As(err, &ee) || ee.Code != 2 || !strings.Contains(err.Error(), "gave up after 1ns (--timeout raises the limit)") {
		t.Errorf("error %v; want the time limit", err)
	}
}

// TestUnknownFlagIsUsage: a command line the CLI does not understand is bad
// input (exit code 2), as a job's author expects of every input error.
func TestUnknownFlagIsUsage(t *testing.T) {
	_, _, err := runCLI2(t, t.TempDir(), "access", "--no-such-flag")
	var ee *cli.ExitError
	if !errors.As(err, &ee) || ee.Code != 2 {
		t.Errorf("error %v; want a usage error (exit code 2)", err)
	}
}
