package main

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

// ciDoc is the page on running gatehouse on pull requests.
const ciDoc = "../../docs/ci.md"

// fence is one fenced code block of a Markdown page.
type fence struct{ lang, body string }

// fences returns the fenced code blocks of a Markdown page.
func fences(page string) []fence {
	var out []fence
	var cur *fence
	for line := range strings.Lines(page) {
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &fence{lang: strings.TrimSpace(strings.TrimPrefix(line, "```"))}
		case cur != nil && strings.TrimSpace(line) == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.body += line
		}
	}
	return out
}

// invocation finds a gatehouse command in a line of a code block: the
// binary, by name or path, and a subcommand that reads manifests.
var invocation = regexp.MustCompile(`(?:^|[\s/"])gatehouse"?\s+((?:access|check|who-can|explain)\b.*)$`)

// shellVar is a variable a command line expands.
var shellVar = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

// commandLine returns the arguments of a gatehouse command written in a
// shell line, cut before a pipe or a redirection, with vars expanded and
// double quotes removed; ok is false when the line runs none.
func commandLine(t *testing.T, line string, vars map[string]string) (args []string, ok bool) {
	t.Helper()
	m := invocation.FindStringSubmatch(strings.TrimRight(line, " \\\n"))
	if m == nil {
		return nil, false
	}
	cmd := m[1]
	if i := strings.IndexAny(cmd, "|>"); i >= 0 {
		cmd = cmd[:i]
	}
	cmd = shellVar.ReplaceAllStringFunc(cmd, func(v string) string {
		name := shellVar.FindStringSubmatch(v)[1]
		val, known := vars[name]
		if !known {
			t.Fatalf("%s: the command %q uses $%s, which this test does not know: add it", ciDoc, line, name)
		}
		return val
	})
	return strings.Fields(strings.ReplaceAll(cmd, `"`, "")), true
}

// TestCIDoc: every gatehouse command docs/ci.md gives runs as written on a
// repository laid out as the page's (overlays/prod built over base/), with
// the base branch fetched as origin/main; and its GitHub Actions job keeps
// the choices the page explains.
func TestCIDoc(t *testing.T) {
	data, err := os.ReadFile(ciDoc)
	if err != nil {
		t.Fatal(err)
	}
	blocks := fences(string(data))

	var job string
	for _, b := range blocks {
		if b.lang == "yaml" && strings.Contains(b.body, "\non:\n  pull_request:") {
			job = b.body
		}
	}
	if job == "" {
		t.Fatalf("%s has no GitHub Actions job (a yaml block with on: pull_request)", ciDoc)
	}
	checkGitHubJob(t, job)

	repo := gitRepo(t)
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	// The base branch before the pull request: the commit before carol
	// leaves the analysts.
	base := git("rev-parse", "HEAD~1")
	git("update-ref", "refs/remotes/origin/main", base)
	vars := map[string]string{"BASE_REF": "main", "CI_MERGE_REQUEST_DIFF_BASE_SHA": base, "RUNNER_TEMP": "/unused"}
	t.Chdir(repo)

	const wantDiff = "carol\n  dataset/sales: - all access (was Consumer viewMetadata)\n"
	ran := 0
	for _, b := range blocks {
		for line := range strings.Lines(b.body) {
			args, ok := commandLine(t, line, vars)
			if !ok {
				continue
			}
			if b.body == job { // the job's wrapper adds the CLI's own bound
				args = append(args, "--timeout", "2m")
			}
			ran++
			out, err := runCLI(t, args...)
			if err != nil {
				t.Errorf("gatehouse %s: %v\n%s", strings.Join(args, " "), err, out)
				continue
			}
			if slices.Equal(args[:2], []string{"access", "diff"}) && out != wantDiff {
				t.Errorf("gatehouse %s printed\n%s\nwant\n%s", strings.Join(args, " "), out, wantDiff)
			}
		}
	}
	if ran < 6 {
		t.Errorf("%s gives %d gatehouse commands; this test expects the example, the GitHub job's two, GitLab's two and systemd-run's", ciDoc, ran)
	}
}

// checkGitHubJob checks what docs/ci.md says of its job: pull_request and
// never pull_request_target, a read-only token, gatehouse installed before
// the checkout and run after it, no credentials left by the checkout, no
// expression written into a script, and pipefail where output is piped.
func checkGitHubJob(t *testing.T, job string) {
	t.Helper()
	type step struct {
		Name  string         `yaml:"name"`
		Uses  string         `yaml:"uses"`
		With  map[string]any `yaml:"with"`
		Run   string         `yaml:"run"`
		Shell string         `yaml:"shell"`
	}
	var wf struct {
		On          map[string]any    `yaml:"on"`
		Permissions map[string]string `yaml:"permissions"`
		Jobs        map[string]struct {
			Steps []step `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal([]byte(job), &wf); err != nil {
		t.Fatalf("the GitHub Actions job of %s is not YAML: %v", ciDoc, err)
	}
	if _, ok := wf.On["pull_request"]; !ok || len(wf.On) != 1 {
		t.Errorf("the job runs on %v, want pull_request alone", wf.On)
	}
	if len(wf.Permissions) != 1 || wf.Permissions["contents"] != "read" {
		t.Errorf("the job's permissions are %v, want contents: read alone", wf.Permissions)
	}
	if len(wf.Jobs) == 0 {
		t.Fatal("the workflow has no job")
	}
	for name, j := range wf.Jobs {
		checkout, install, gatehouse := -1, -1, -1
		for i, s := range j.Steps {
			if strings.Contains(s.Run, "${{") {
				t.Errorf("job %s, step %d (%s) writes an expression into its script: pass it through env", name, i, s.Name)
			}
			switch {
			case strings.HasPrefix(s.Uses, "actions/checkout@"):
				checkout = i
				if s.With["persist-credentials"] != false {
					t.Errorf("job %s: the checkout keeps its credentials: give persist-credentials: false", name)
				}
			case strings.Contains(s.Run, "go install"):
				install = i
			}
			for line := range strings.Lines(s.Run) {
				if !invocation.MatchString(strings.TrimSpace(line)) {
					continue
				}
				if gatehouse < 0 {
					gatehouse = i
				}
				if strings.Contains(line, "|") && s.Shell != "bash" {
					t.Errorf("job %s, step %d (%s) pipes gatehouse's output without pipefail: give shell: bash", name, i, s.Name)
				}
			}
		}
		if install < 0 || checkout <= install || gatehouse <= checkout {
			t.Errorf("job %s: gatehouse is installed at step %d, the pull request checked out at step %d and gatehouse run from step %d; want them in that order", name, install, checkout, gatehouse)
		}
	}
}
