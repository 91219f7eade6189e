package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/cli"
)

// gitops is the layout of issue 15: a base world and a prod overlay that
// sets the namespace and makes bob Owner of dataset/sales by a patch.
const gitops = "testdata/gitops"

// runCLIIn runs the gatehouse command in-process with stdin as its
// standard input.
func runCLIIn(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	out, _, err := execute(t, strings.NewReader(stdin), args...)
	return out, err
}

// wantUsageError fails unless err is a usage error (exit code 2) with
// exactly the message want and nothing went to stdout.
func wantUsageError(t *testing.T, out string, err error, want string) {
	t.Helper()
	var ee *cli.ExitError
	switch {
	case err == nil:
		t.Errorf("no error; stdout:\n%s", out)
	case !errors.As(err, &ee) || ee.Code != 2:
		t.Errorf("error %q is not a usage error (exit code 2)", err)
	case err.Error() != want:
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
	if out != "" {
		t.Errorf("stdout is not empty:\n%s", out)
	}
}

// TestKustomizeOverlay: an overlay is built with kustomize, so its
// namespace and its patch apply, as kubectl apply -k would apply them.
func TestKustomizeOverlay(t *testing.T) {
	out, err := runCLI(t, "access", "-f", gitops+"/overlays/prod")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Namespace prod: 3 users\n",
		"bob\n  TYPE/NAME      ROLE   PERMISSIONS\n  dataset/sales  Owner  createVersion,delete,",
		"carol\n  TYPE/NAME      ROLE      PERMISSIONS\n  dataset/sales  Consumer  viewMetadata\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("gatehouse access -f %s/overlays/prod does not say %q:\n%s", gitops, want, out)
		}
	}

	// The base alone: bob is Editor, in no namespace of its own.
	out, err = runCLI(t, "who-can", "modifyMetadata", "dataset/sales", "-f", gitops+"/base")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "\nbob   Editor  Share sales gives Editor to bob directly\n") {
		t.Errorf("gatehouse who-can on the base does not give bob Editor:\n%s", out)
	}
}

// TestKustomizeTreeRefused: the root of a GitOps repository is no
// kustomization; reading its files one by one would count the base and
// read the patch as an object, so it is refused with the one to build.
func TestKustomizeTreeRefused(t *testing.T) {
	t.Chdir(gitops)
	out, err := runCLI(t, "access", "-f", ".")
	wantUsageError(t, out, err, "the directory . holds kustomizations (base, overlays/prod): give the one to build with -f, e.g. -f overlays/prod")

	out, err = runCLI(t, "access", "-f", "overlays/prod/kustomization.yaml")
	wantUsageError(t, out, err, "overlays/prod/kustomization.yaml is a kustomization, which is built rather than read: give its directory, -f overlays/prod")
}

// TestKustomizeErrors: an object of a build is named by the kustomization
// and the object; a build that fails names the directory.
func TestKustomizeErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("good/kustomization.yaml", "namespace: prod\nresources: [users.yaml]\n")
	write("good/users.yaml", "apiVersion: iam.gatehouse.dev/v1alpha1\nkind: User\nmetadata: {name: alice}\nspec: {logn: alice}\n")
	write("bad/kustomization.yaml", "resources: [missing.yaml]\n")
	t.Chdir(dir)

	_, err := runCLI(t, "access", "-f", "good")
	if want := "good (kustomize build, User prod/alice): "; err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "spec.logn") {
		t.Errorf("error %v does not say %q", err, want)
	}
	_, err = runCLI(t, "access", "-f", "bad")
	if want := `bad/kustomization.yaml: "missing.yaml" is not a file or directory in the repository`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v does not start with %q", err, want)
	}
}

// gitRepo copies the gitops layout into a new git repository (in a parent
// directory of its own) and commits it twice: the second commit takes carol
// out of the analysts in the base. It returns the repository's directory.
func gitRepo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("--before-rev needs git: %v", err)
	}
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	for _, v := range []string{"GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"} {
		t.Setenv(v, "Gatehouse Test")
	}
	for _, v := range []string{"GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"} {
		t.Setenv(v, "test@gatehouse.invalid")
	}
	repo := filepath.Join(t.TempDir(), "repo")
	if err := os.CopyFS(repo, os.DirFS(gitops)); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("init", "--quiet", "--initial-branch=main")
	run("add", ".")
	run("commit", "--quiet", "--message", "the world")
	world := filepath.Join(repo, "base", "world.yaml")
	data, err := os.ReadFile(world)
	if err != nil {
		t.Fatal(err)
	}
	const carol = "  login: carol\n  profile: designer\n  groups: [analysts]\n"
	if !bytes.Contains(data, []byte(carol)) {
		t.Fatalf("%s has no %q", world, carol)
	}
	if err := os.WriteFile(world, bytes.Replace(data, []byte(carol), []byte("  login: carol\n  profile: designer\n"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	run("commit", "--quiet", "--all", "--message", "carol leaves the analysts")
	return repo
}

// TestAccessDiffBeforeRev: the GitOps review of a change, the overlay now
// against the overlay one commit earlier, in the checkout or, with --repo,
// from wherever it is run.
func TestAccessDiffBeforeRev(t *testing.T) {
	repo := gitRepo(t)
	const want = "carol\n  dataset/sales: - all access (was Consumer viewMetadata)\n"
	tests := map[string]struct {
		dir, repo, after string
	}{
		"at the top of the repository": {repo, "", "overlays/prod"},
		"outside it, with --repo":      {filepath.Dir(repo), "repo", "repo/overlays/prod"},
		"in a directory below the top": {filepath.Join(repo, "overlays"), "", "prod"},
		"with an absolute path":        {repo, "", filepath.Join(repo, "overlays", "prod")},
		"with absolute paths, outside": {t.TempDir(), repo, filepath.Join(repo, "overlays", "prod")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Chdir(tc.dir)
			args := []string{"access", "diff", "--before-rev", "HEAD~1", "--after", tc.after}
			if tc.repo != "" {
				args = append(args, "--repo", tc.repo)
			}
			got, err := runCLI(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("gatehouse access diff --before-rev HEAD~1 --after %s (-want +got):\n%s", tc.after, diff)
			}
		})
	}

	t.Run("against the last commit", func(t *testing.T) {
		t.Chdir(repo)
		got, err := runCLI(t, "access", "diff", "--before-rev", "main", "--after", "overlays/prod")
		if err != nil || got != "No user gains or loses anything.\n" {
			t.Errorf("gatehouse access diff --before-rev main = %q, %v; want no change", got, err)
		}
	})

	t.Run("a file of the base", func(t *testing.T) {
		t.Chdir(repo)
		got, err := runCLI(t, "access", "diff", "--before-rev", "HEAD~1", "--after", "base/world.yaml")
		if err != nil || got != want {
			t.Errorf("gatehouse access diff --before-rev HEAD~1 --after base/world.yaml = %q, %v; want %q", got, err, want)
		}
	})
}

func TestAccessDiffBeforeRevErrors(t *testing.T) {
	repo := gitRepo(t)
	if err := os.CopyFS(filepath.Join(repo, "overlays", "staging"), os.DirFS(filepath.Join(repo, "overlays", "prod"))); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "users.yaml"), []byte("apiVersion: iam.gatehouse.dev/v1alpha1\nkind: User\nmetadata: {name: alice}\nspec: {login: alice}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		args []string
		want string // "REPO" stands for the repository's directory
	}{
		"an unknown revision": {[]string{"--before-rev", "v9", "--after", "overlays/prod"},
			`unknown revision "v9" in the git repository REPO: give a commit, branch or tag it has (a remote's branch may need a git fetch first)`},
		"an option for a revision": {[]string{"--before-rev=--output=x", "--after", "overlays/prod"},
			`unknown revision "--output=x" in the git repository REPO: give a commit, branch or tag it has (a remote's branch may need a git fetch first)`},
		"a path the revision does not have": {[]string{"--before-rev", "HEAD", "--after", "overlays/staging"},
			"overlays/staging did not exist at revision HEAD of the git repository REPO: compare with a revision that has it, or give the before side with --before"},
		"both --before and --before-rev": {[]string{"--before-rev", "HEAD", "--before", "overlays/prod", "--after", "overlays/prod"},
			"give the before side with --before or with --before-rev, not both"},
		"standard input with --before-rev": {[]string{"--before-rev", "HEAD", "--after", "-"},
			"--before-rev reads the --after paths at a git revision, and standard input (-) has none: give --after files or directories of a git repository, or the before side with --before"},
		"standard input on both sides": {[]string{"--before", "-", "--after", "-"},
			"standard input (-) can be read only once: give it to --before or to --after, not both"},
		"no before side": {[]string{"--after", "overlays/prod"},
			"give the manifests before the change with --before, or a git revision to read the --after paths at with --before-rev"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Chdir(repo)
			out, err := runCLI(t, append([]string{"access", "diff"}, tc.args...)...)
			wantUsageError(t, out, err, strings.ReplaceAll(tc.want, "REPO", repo))
		})
	}

	t.Run("not in a git repository", func(t *testing.T) {
		t.Chdir(outside)
		out, err := runCLI(t, "access", "diff", "--before-rev", "HEAD", "--after", "users.yaml")
		var ee *cli.ExitError
		if !errors.As(err, &ee) || ee.Code != 2 || out != "" {
			t.Fatalf("gatehouse access diff outside a repository = %q, %v; want a usage error", out, err)
		}
		for _, want := range []string{"cannot find the git repository of the working directory " + outside + " (", "): --before-rev reads the --after paths at a revision of the repository the working directory is in; run gatehouse in the checkout, name the checkout with --repo, or give the before side with --before"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
	})

	t.Run("a revision whose manifests do not build", func(t *testing.T) {
		t.Chdir(repo)
		good, err := os.ReadFile("base/world.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("base/world.yaml", append(good, "kind: [\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("git", "commit", "--quiet", "--all", "--message", "broken").CombinedOutput(); err != nil {
			t.Fatalf("git commit: %v\n%s", err, out)
		}
		if err := os.WriteFile("base/world.yaml", good, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = runCLI(t, "access", "diff", "--before-rev", "HEAD", "--after", "overlays/prod")
		// The export's temporary paths are named as git names them.
		if want := "kustomize cannot build the kustomization in HEAD:overlays/prod: "; err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), os.TempDir()) {
			t.Errorf("error %v does not start with %q, or names a temporary directory", err, want)
		}
	})
}

// helmTemplate renders the chart with bin/helm, which make test builds
// before the tests.
func helmTemplate(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join("..", "..", "bin", "helm"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%v: build it with make helm (make test does, before the tests)", err)
	}
	home := t.TempDir()
	cmd := exec.Command(bin, append([]string{"template"}, args...)...)
	cmd.Env = append(os.Environ(),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm template %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return string(out)
}

// TestHelmStdin: `helm template … | gatehouse access -f -` says what the
// same objects say as files.
func TestHelmStdin(t *testing.T) {
	rendered := helmTemplate(t, "demo", "testdata/chart", "--namespace", "acme")
	for _, args := range [][]string{
		{"access"},
		{"access", "-o", "json"},
		{"who-can", "delete", "dataset/sales"},
		{"explain", "carol", "dataset/sales"},
	} {
		fromFile, err := runCLI(t, append(args, "-f", "testdata/chart-world.yaml")...)
		if err != nil {
			t.Fatal(err)
		}
		fromHelm, err := runCLIIn(t, rendered, append(args, "-f", "-")...)
		if err != nil {
			t.Fatalf("helm template … | gatehouse %s -f -: %v", strings.Join(args, " "), err)
		}
		if diff := cmp.Diff(fromFile, fromHelm); diff != "" {
			t.Errorf("gatehouse %s: -f testdata/chart-world.yaml (-) and -f - from helm (+) differ:\n%s", strings.Join(args, " "), diff)
		}
	}
	if out, _ := runCLI(t, "access", "-f", "testdata/chart-world.yaml"); !strings.HasPrefix(out, "Namespace acme: 3 users\n") {
		t.Errorf("the chart's world is not the three users of acme:\n%s", out)
	}

	// Standard input with files: each object is named by where it came from.
	_, err := runCLIIn(t, rendered, "access", "-f", "-", "-f", "testdata/chart-world.yaml")
	if want := "is defined twice, also in standard input (document "; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v does not say %q", err, want)
	}
	out, err := runCLIIn(t, rendered, "access", "-f", "-", "-f", "-")
	wantUsageError(t, out, err, "- (standard input) is given twice: it can be read only once")

	// And on one side of a diff: the chart with carol no longer an analyst.
	after := helmTemplate(t, "demo", "testdata/chart", "--namespace", "acme", "--set", "analysts={alice}", "--set", "owners={bob,carol}")
	got, err := runCLIIn(t, after, "access", "diff", "--before", "testdata/chart-world.yaml", "--after", "-")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got, "carol\n  dataset/sales: role Consumer -> Owner;") {
		t.Errorf("gatehouse access diff --after - does not make carol Owner:\n%s", got)
	}
}
