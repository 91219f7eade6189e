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
)

// Issue 23: `access diff --before-rev` runs in CI on a pull request, and
// everything in the checkout is the attacker's. These tests plant what an
// attacker can commit and check that the CLI runs none of it and reads the
// before side from the repository the CI checked out.

// carolRejoins is what the diff prints when the working tree puts carol
// back among the analysts (the world of testdata/gitops) and the revision
// is the one where she left (the last commit of gitRepo).
const carolRejoins = "carol\n  dataset/sales: + Consumer viewMetadata\n"

// gitIn runs git in dir and returns its standard output.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		t.Fatalf("git %s in %s: %v\n%s", strings.Join(args, " "), dir, err, stderr)
	}
	return string(out)
}

// writeFiles writes files (name → content, names with /) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// carolBack puts carol back among the analysts in the working tree of a
// repository made by gitRepo.
func carolBack(t *testing.T, repo string) {
	t.Helper()
	world, err := os.ReadFile(filepath.Join(gitops, "base", "world.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, repo, map[string]string{"base/world.yaml": string(world)})
}

// marker returns a shell command that creates the file name in dir, and
// passes its standard input through (as a filter must).
func marker(dir, name string) string {
	return "touch '" + filepath.Join(dir, name) + "'; cat"
}

// noMarkers fails the test when a command of the attacker or of the CI's
// configuration left a file in dir.
func noMarkers(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("%s ran: it wrote the marker %s", e.Name(), filepath.Join(dir, e.Name()))
	}
}

// plantBareRepository commits, as ordinary files of the pull request, a
// bare git repository whose directory is overlays/ itself: HEAD, config,
// objects/ and refs/ beside overlays/prod. git run anywhere below overlays/
// discovers it (core.worktree makes overlays/ its work tree), and its
// branch is the attacker's (HEAD~1 is the commit of its choice): a before
// side equal to the after side, so that the review shows no change, and a
// .gitattributes that puts every file through the attacker's smudge
// filter, which writes the marker "attacker-filter" in markers.
func plantBareRepository(t *testing.T, repo, markers string) {
	t.Helper()
	evil := filepath.Join(t.TempDir(), "evil")
	world, err := os.ReadFile(filepath.Join(repo, "base", "world.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	patch, err := os.ReadFile(filepath.Join(repo, "overlays", "prod", "bob-owns-sales.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, evil, map[string]string{
		".gitattributes":           "* filter=evil\n",
		"prod/kustomization.yaml":  "namespace: prod\nresources: [world.yaml]\npatches:\n  - path: bob-owns-sales.yaml\n",
		"prod/world.yaml":          string(world),
		"prod/bob-owns-sales.yaml": string(patch),
	})
	gitIn(t, evil, "init", "--quiet", "--initial-branch=main")
	gitIn(t, evil, "add", ".")
	gitIn(t, evil, "commit", "--quiet", "--message", "the before side the attacker wants reviewed")
	// HEAD~1 of the planted repository is that commit.
	gitIn(t, evil, "commit", "--quiet", "--allow-empty", "--message", "its child")
	commit := strings.TrimSpace(gitIn(t, evil, "rev-parse", "HEAD"))

	overlays := filepath.Join(repo, "overlays")
	if err := os.CopyFS(filepath.Join(overlays, "objects"), os.DirFS(filepath.Join(evil, ".git", "objects"))); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, overlays, map[string]string{
		"HEAD":            "ref: refs/heads/main\n",
		"refs/heads/main": commit + "\n",
		"config": "[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tworktree = .\n" +
			"[filter \"evil\"]\n\tsmudge = \"" + marker(markers, "attacker-filter") + "\"\n",
	})
	// Check that the plant works as the attack does: git run below
	// overlays/ takes it for the repository.
	if top := strings.TrimSpace(gitIn(t, filepath.Join(overlays, "prod"), "rev-parse", "--show-toplevel")); top != overlays {
		t.Fatalf("git in overlays/prod found the repository of %s, not the planted one of %s", top, overlays)
	}
}

// hostileCheckout makes the repository of gitRepo into a CI's checkout of
// a hostile pull request, and returns a directory that stays empty unless
// something runs:
//   - the revision the CI compares with (HEAD~1) holds a .gitattributes
//     that puts every file through the filter "evil" and leaves the
//     overlay's patch out of git archive, and the CI's .git/config
//     configures a smudge filter "evil" (as a CI configures LFS), hooks
//     and an fsmonitor, all writing markers;
//   - the pull request (HEAD, checked out) puts carol back among the
//     analysts and commits a bare repository under overlays/
//     (plantBareRepository).
func hostileCheckout(t *testing.T) (repo, markers string) {
	t.Helper()
	repo = gitRepo(t)
	markers = t.TempDir()
	writeFiles(t, repo, map[string]string{
		".gitattributes": "* filter=evil\n*.yaml export-subst\noverlays/prod/bob-owns-sales.yaml export-ignore\n",
	})
	gitIn(t, repo, "add", ".gitattributes")
	gitIn(t, repo, "commit", "--quiet", "--message", "attributes")

	carolBack(t, repo)
	plantBareRepository(t, repo, markers)
	gitIn(t, repo, "add", ".")
	gitIn(t, repo, "commit", "--quiet", "--message", "the pull request")

	// The CI's own configuration, set after the commits above (which would
	// run the hooks).
	gitIn(t, repo, "config", "filter.evil.smudge", marker(markers, "ci-filter"))
	script := func(name string) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\ntouch '"+filepath.Join(markers, name)+"'\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gitIn(t, repo, "config", "core.fsmonitor", script("fsmonitor"))
	hooks := filepath.Join(repo, ".git", "hooks")
	for _, hook := range []string{"post-checkout", "reference-transaction", "post-index-change", "pre-auto-gc", "post-merge", "post-rewrite"} {
		if err := os.Rename(script(hook), filepath.Join(hooks, hook)); err != nil {
			t.Fatal(err)
		}
	}
	return repo, markers
}

// TestBeforeRevBareRepositoryInCheckout is finding 2 of issue 23: a bare
// repository committed under overlays/ must neither run its filter nor
// choose the before side.
func TestBeforeRevBareRepositoryInCheckout(t *testing.T) {
	repo, markers := hostileCheckout(t)

	t.Run("from the top of the checkout", func(t *testing.T) {
		t.Chdir(repo)
		got, err := runCLI(t, "access", "diff", "--before-rev", "HEAD~1", "--after", "overlays/prod")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(carolRejoins, got); diff != "" {
			t.Errorf("the before side is not HEAD~1 of the checkout (-want +got):\n%s", diff)
		}
		noMarkers(t, markers)
	})

	t.Run("from the planted repository", func(t *testing.T) {
		// git would take overlays/ for the repository: the CLI refuses it.
		t.Chdir(filepath.Join(repo, "overlays"))
		out, err := runCLI(t, "access", "diff", "--before-rev", "HEAD~1", "--after", "prod")
		const want = "safe.bareRepository is 'explicit'"
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "name the checkout with --repo") {
			t.Errorf("gatehouse access diff in overlays/ = %q, %v; want an error saying %q and how to name the checkout", out, err, want)
		}
		noMarkers(t, markers)
	})

	t.Run("from the planted repository with --repo", func(t *testing.T) {
		t.Chdir(filepath.Join(repo, "overlays"))
		got, err := runCLI(t, "access", "diff", "--repo", "..", "--before-rev", "HEAD~1", "--after", "prod")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(carolRejoins, got); diff != "" {
			t.Errorf("the before side is not HEAD~1 of the checkout (-want +got):\n%s", diff)
		}
		noMarkers(t, markers)
	})
}

// TestBeforeRevRunsNothing: the CI's own filter, hooks and fsmonitor, and
// the attributes of the revision (export-ignore, export-subst, filter), do
// not apply: the files of the revision are read as git stores them.
func TestBeforeRevRunsNothing(t *testing.T) {
	repo, markers := hostileCheckout(t)
	t.Chdir(repo)
	for _, after := range []string{"overlays/prod", "base"} {
		got, err := runCLI(t, "access", "diff", "--before-rev", "HEAD~1", "--after", after)
		if err != nil {
			t.Fatalf("--after %s: %v", after, err)
		}
		if diff := cmp.Diff(carolRejoins, got); diff != "" {
			t.Errorf("--after %s (-want +got):\n%s", after, diff)
		}
	}
	noMarkers(t, markers)
}

// TestBeforeRevAtTheTop: --after . at the top of the repository (a
// kustomization there) reads the whole tree of the revision.
func TestBeforeRevAtTheTop(t *testing.T) {
	repo := gitRepo(t)
	writeFiles(t, repo, map[string]string{"kustomization.yaml": "resources: [overlays/prod]\n"})
	gitIn(t, repo, "add", "kustomization.yaml")
	gitIn(t, repo, "commit", "--quiet", "--message", "the top builds prod")
	carolBack(t, repo)
	for _, dir := range []string{repo, filepath.Join(repo, "base")} {
		t.Chdir(dir)
		after, _ := filepath.Rel(dir, repo)
		got, err := runCLI(t, "access", "diff", "--before-rev", "HEAD", "--after", after)
		if err != nil {
			t.Fatalf("in %s, --after %s: %v", dir, after, err)
		}
		if diff := cmp.Diff(carolRejoins, got); diff != "" {
			t.Errorf("in %s, --after %s (-want +got):\n%s", dir, after, diff)
		}
	}
}

// TestBeforeRevRepoFlag: the repository is the working directory's, or
// the one --repo names; an --after path outside it is refused, also
// through a symbolic link.
func TestBeforeRevRepoFlag(t *testing.T) {
	repo := gitRepo(t)
	carolBack(t, repo)
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{"users.yaml": "apiVersion: iam.gatehouse.dev/v1alpha1\nkind: User\nmetadata: {name: alice}\nspec: {login: alice}\n"})
	if err := os.Symlink(outside, filepath.Join(repo, "elsewhere")); err != nil {
		t.Fatal(err)
	}

	t.Run("--repo from outside", func(t *testing.T) {
		t.Chdir(outside)
		for _, r := range []string{repo, filepath.Join(repo, "overlays")} {
			got, err := runCLI(t, "access", "diff", "--repo", r, "--before-rev", "HEAD", "--after", filepath.Join(repo, "overlays", "prod"))
			if err != nil {
				t.Fatalf("--repo %s: %v", r, err)
			}
			if diff := cmp.Diff(carolRejoins, got); diff != "" {
				t.Errorf("--repo %s (-want +got):\n%s", r, diff)
			}
		}
	})

	tests := map[string]struct {
		dir  string
		args []string
		want string // REPO stands for the repository
	}{
		// --root / lets the after side read anywhere: the before side
		// still reads only the repository.
		"a path outside the repository": {repo, []string{"--root", "/", "--before-rev", "HEAD", "--after", filepath.Join(outside, "users.yaml")},
			filepath.Join(outside, "users.yaml") + " is outside the git repository REPO (found from the working directory): --before-rev reads the --after paths at a revision of that repository; give paths in it, run gatehouse in the checkout that holds them, or name that checkout with --repo"},
		"a link out of the repository": {repo, []string{"--root", "/", "--before-rev", "HEAD", "--after", "elsewhere/users.yaml"},
			"elsewhere/users.yaml is outside the git repository REPO (found from the working directory): --before-rev reads the --after paths at a revision of that repository; give paths in it, run gatehouse in the checkout that holds them, or name that checkout with --repo"},
		"a path outside the --repo": {repo, []string{"--before-rev", "HEAD", "--repo", outside, "--after", "overlays/prod"},
			"cannot find the git repository of --repo " + outside + " (fatal: not a git repository (or any of the parent directories): .git): give a directory of the checkout, e.g. its top, or the before side with --before"},
		"--repo without --before-rev": {repo, []string{"--repo", repo, "--before", "overlays/prod", "--after", "overlays/prod"},
			"--repo names the git repository of --before-rev: give --before-rev too, or leave out --repo"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Chdir(tc.dir)
			out, err := runCLI(t, append([]string{"access", "diff"}, tc.args...)...)
			wantUsageError(t, out, err, strings.ReplaceAll(tc.want, "REPO", repo))
		})
	}
}

// TestBeforeRevMaxInputBytes: the files of the revision are bounded.
func TestBeforeRevMaxInputBytes(t *testing.T) {
	repo := gitRepo(t)
	t.Chdir(repo)
	// A file the overlay does not read makes the tree larger than the
	// files the after side reads.
	if err := os.WriteFile("notes.txt", bytes.Repeat([]byte("x"), 50_000), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("git", "add", "notes.txt").CombinedOutput(); err != nil {
		t.Fatalf("git add: %v\n%s", err, out)
	}
	if out, err := exec.Command("git", "commit", "--quiet", "--message", "notes").CombinedOutput(); err != nil {
		t.Fatalf("git commit: %v\n%s", err, out)
	}
	out, err := runCLI(t, "access", "diff", "--max-input-bytes", "40000", "--before-rev", "HEAD", "--after", "overlays/prod")
	wantUsageError(t, out, err, "the tree of revision HEAD of the git repository "+repo+" holds more than 40000 bytes of files, the limit of --before-rev (it reads the whole tree): raise it with --max-input-bytes")
	out, err = runCLI(t, "access", "diff", "--max-input-bytes", "1000", "--before-rev", "HEAD", "--after", "overlays/prod")
	wantUsageError(t, out, err, "the input exceeds 1000 bytes when reading base/world.yaml (--max-input-bytes raises the limit)")

	got, err := runCLI(t, "access", "diff", "--max-input-bytes", "100000", "--before-rev", "HEAD", "--after", "overlays/prod")
	if err != nil || got != "No user gains or loses anything.\n" {
		t.Errorf("with --max-input-bytes 100000: %q, %v; want no change", got, err)
	}
	out, err = runCLI(t, "access", "diff", "--max-input-bytes", "0", "--before-rev", "HEAD", "--after", "overlays/prod")
	wantUsageError(t, out, err, "--max-input-bytes must be positive: it bounds what a pull request may make gatehouse do (see gatehouse access diff --help for the default)")
}

// TestBeforeRevTreeEntries: the tree of the revision is written as git
// stores it: a symbolic link as a link (here to a file beside it, which
// kustomize reads through it), an executable file, and a submodule as an
// empty directory.
func TestBeforeRevTreeEntries(t *testing.T) {
	repo := gitRepo(t)
	world, err := os.ReadFile(filepath.Join(repo, "base", "world.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, repo, map[string]string{
		"linked/kustomization.yaml": "resources: [users.yaml]\n",
		"linked/world.yaml":         string(world),
		"hack/run.sh":               "#!/bin/sh\n",
	})
	if err := os.Chmod(filepath.Join(repo, "hack", "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("world.yaml", filepath.Join(repo, "linked", "users.yaml")); err != nil {
		t.Fatal(err)
	}
	gitIn(t, repo, "add", ".")
	head := strings.TrimSpace(gitIn(t, repo, "rev-parse", "HEAD"))
	gitIn(t, repo, "update-index", "--add", "--cacheinfo", "160000,"+head+",vendor/sub")
	gitIn(t, repo, "commit", "--quiet", "--message", "a link, an executable and a submodule")
	if got := gitIn(t, repo, "ls-tree", "-r", "--format=%(objectmode) %(path)", "HEAD", "linked/users.yaml", "hack", "vendor"); got != "100755 hack/run.sh\n120000 linked/users.yaml\n160000 vendor/sub\n" {
		t.Fatalf("the tree holds:\n%s", got)
	}

	orig, err := os.ReadFile(filepath.Join(gitops, "base", "world.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, repo, map[string]string{"linked/world.yaml": string(orig)})
	t.Chdir(repo)
	got, err := runCLI(t, "access", "diff", "--before-rev", "HEAD", "--after", "linked")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(carolRejoins, got); diff != "" {
		t.Errorf("--after linked (-want +got):\n%s", diff)
	}
}
