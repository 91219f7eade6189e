package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/cli"
	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/input"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// runCLI runs the gatehouse command in-process.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, _, err := execute(t, nil, args...)
	return out, err
}

// execute runs the gatehouse command in-process, on the tests' day, with
// stdin as its standard input when not nil, and returns what it printed on
// standard output and standard error.
func execute(t *testing.T, stdin io.Reader, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	input.Now = func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) }
	t.Cleanup(func() { input.Now = time.Now })
	cmd := newRootCommand()
	var out, errOut bytes.Buffer
	if stdin != nil {
		cmd.SetIn(stdin)
	}
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestGolden(t *testing.T) {
	const fx = "testdata/fixture"
	tests := map[string][]string{
		"access-table":             {"access", "-f", fx},
		"access-json":              {"access", "-f", fx, "-o", "json"},
		"access-yaml-user":         {"access", "-f", fx, "-o", "yaml", "--user", "erin"},
		"access-resource":          {"access", "-f", fx, "--resource", "connection/pg"},
		"access-namespace":         {"access", "-f", "testdata/bad/two-namespaces.yaml", "-n", "two"},
		"who-can-download":         {"who-can", "downloadDataset", "dataset/sales", "-f", fx},
		"who-can-use-json":         {"who-can", "use", "connection/pg", "-f", fx, "-o", "json"},
		"who-can-nobody":           {"who-can", "deleteProject", "project/churn", "-f", fx + "/more"},
		"explain-capped":           {"explain", "erin", "dataset/sales", "-f", fx},
		"explain-connection":       {"explain", "dave", "connection/pg", "-f", fx},
		"explain-grant":            {"explain", "bob", "project/churn", "-f", fx},
		"explain-admin":            {"explain", "alice", "project/churn", "-f", fx},
		"explain-inactive":         {"explain", "zed", "dataset/sales", "-f", fx},
		"explain-no-access":        {"explain", "bob", "dataset/other", "-f", fx},
		"access-diff":              {"access", "diff", "--before", fx, "--after", "testdata/after"},
		"access-diff-nochange":     {"access", "diff", "--before", fx, "--after", fx},
		"check-clean":              {"check", "-f", fx},
		"who-can-use-peruser":      {"who-can", "use", "connection/warehouse", "-f", "testdata/peruser"},
		"who-can-use-peruser-json": {"who-can", "use", "connection/warehouse", "-f", "testdata/peruser", "-o", "json"},
		"explain-peruser-invalid":  {"explain", "lee", "connection/warehouse", "-f", "testdata/peruser"},
		"explain-peruser-ready":    {"explain", "kim", "connection/warehouse", "-f", "testdata/peruser"},
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := runCLI(t, args...)
			if err != nil {
				t.Fatalf("gatehouse %s: %v", strings.Join(args, " "), err)
			}
			golden := filepath.Join("testdata", "golden", name+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("gatehouse %s (-golden +got):\n%s", strings.Join(args, " "), diff)
			}
		})
	}
}

// TestBadInput: bad manifests or arguments exit with code 2, name the file
// and the object, and print nothing on stdout.
func TestBadInput(t *testing.T) {
	tests := map[string]struct {
		args    []string
		wantErr []string
	}{
		"unknown kind": {[]string{"access", "-f", "testdata/bad/unknown-kind.yaml"},
			[]string{"testdata/bad/unknown-kind.yaml (document 1, Widget w)", "unknown kind Widget in iam.gatehouse.dev/v1alpha1"}},
		"unknown field": {[]string{"access", "-f", "testdata/bad/unknown-field.yaml"},
			[]string{"testdata/bad/unknown-field.yaml (document 1, User alice)", `unknown field "spec.logn"`}},
		"unknown permission": {[]string{"who-can", "view", "connection/pg", "-f", "testdata/bad/bad-permission.yaml"},
			[]string{"testdata/bad/bad-permission.yaml (document 1, ResourceGrant g)", `unknown permission "fly" for dataset: valid are viewMetadata`}},
		"environment Editor": {[]string{"explain", "alice", "environment/py", "-f", "testdata/bad/env-editor.yaml"},
			[]string{"testdata/bad/env-editor.yaml (document 1, Share env)", `Share.iam.gatehouse.dev "env" is invalid: spec: Invalid value: environments have no Editor role`}},
		// Refused by the CRD's defaults and rules, as the API server
		// refuses them, not computed as if valid.
		"usableBy groups without mode": {[]string{"access", "-f", "testdata/bad/usableby-without-mode.yaml"},
			[]string{"testdata/bad/usableby-without-mode.yaml (document 1, Connection lake): " +
				`Connection.iam.gatehouse.dev "lake" is invalid: spec.usableBy: Invalid value: groups are listed exactly when mode is Groups`}},
		"negative seats": {[]string{"access", "-f", "testdata/bad/negative-seats.yaml"},
			[]string{"testdata/bad/negative-seats.yaml (document 1, License default): " +
				`License.iam.gatehouse.dev "default" is invalid: spec.profiles[0].seats: Invalid value: -5: spec.profiles[0].seats in body should be greater than or equal to 0`}},
		"not YAML": {[]string{"access", "-f", "testdata/bad/not-yaml.yaml"},
			[]string{"testdata/bad/not-yaml.yaml (document 1) is not valid YAML"}},
		"several namespaces": {[]string{"access", "-f", "testdata/bad/two-namespaces.yaml"},
			[]string{"the manifests hold several namespaces (one, two): choose one with -n"}},
		"a bad file among good ones": {[]string{"access", "-f", "testdata/fixture", "-f", "testdata/bad/unknown-field.yaml", "-n", "acme"},
			[]string{"unknown-field.yaml (document 1, User alice)"}},
		"missing file":         {[]string{"access", "-f", "testdata/nope"}, []string{"cannot read testdata/nope"}},
		"no files, no cluster": {[]string{"access"}, []string{"no manifests and no cluster: give files or directories with -f, or point KUBECONFIG (or --kubeconfig) at a cluster"}},
		"unknown permission argument": {[]string{"who-can", "fly", "dataset/sales", "-f", "testdata/fixture"},
			[]string{`unknown permission "fly" for dataset`}},
		"bad resource argument": {[]string{"explain", "alice", "sales", "-f", "testdata/fixture"}, []string{`"sales" is not TYPE/NAME`}},
		"unknown type argument": {[]string{"access", "--resource", "notebook/x", "-f", "testdata/fixture"},
			[]string{`unknown resource type "notebook"`}},
		"unknown user": {[]string{"explain", "mallory", "dataset/sales", "-f", "testdata/fixture"}, []string{`no User with login "mallory"`}},
		"bad output":   {[]string{"access", "-f", "testdata/fixture", "-o", "xml"}, []string{`unknown output format "xml"`}},
		"diff with a bad side": {[]string{"access", "diff", "--before", "testdata/fixture", "--after", "testdata/bad/unknown-kind.yaml"},
			[]string{"unknown kind Widget"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			// No cluster to fall back on.
			t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
			t.Setenv("HOME", t.TempDir())
			out, err := runCLI(t, tc.args...)
			if err == nil {
				t.Fatalf("no error; stdout:\n%s", out)
			}
			var ee *cli.ExitError
			if !errors.As(err, &ee) || ee.Code != 2 {
				t.Errorf("error %q is not a usage error (exit code 2)", err)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if out != "" {
				t.Errorf("stdout is not empty:\n%s", out)
			}
		})
	}
}

// TestSamples: the project's samples (config/samples) compute; with -update
// the table goes to docs/cli-example.txt for the README.
func TestSamples(t *testing.T) {
	samples := filepath.Join("..", "..", "config", "samples")
	if _, err := os.Stat(samples); err != nil {
		t.Skipf("no samples: %v", err)
	}
	out, err := runCLI(t, "access", "--root", filepath.Join("..", ".."), "-f", samples)
	if err != nil {
		t.Fatalf("gatehouse access -f config/samples: %v", err)
	}
	if !strings.Contains(out, "USER") || strings.Count(out, "\n") < 3 {
		t.Errorf("unexpected output:\n%s", out)
	}
	example := filepath.Join("..", "..", "docs", "cli-example.txt")
	text := "$ gatehouse access -f config/samples\n" + out
	if *update {
		if err := os.MkdirAll(filepath.Dir(example), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(example, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCheck: gatehouse check lists every object that breaks a perimeter
// rule, with its fix, and exits 1.
func TestCheck(t *testing.T) {
	got, err := runCLI(t, "check", "-f", "testdata/unsafe")
	var ee *cli.ExitError
	if !errors.As(err, &ee) || ee.Code != 1 {
		t.Fatalf("gatehouse check on unsafe objects: %v, want exit code 1", err)
	}
	for _, want := range []string{
		"User   bob",
		`stands for the Kubernetes identity "bob" together with User mallory`,
		`User   kcm`,
		`stands for the Kubernetes identity "system:kube-controller-manager", which belongs to Kubernetes`,
		`kubernetesGroup "system:authenticated" is a system: group`,
		`kubernetesGroup "gatehouse:break-glass" is an administrator or break-glass group`,
		`resource name "sales " is not printable`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("gatehouse check does not say %q:\n%s", want, got)
		}
	}
}
