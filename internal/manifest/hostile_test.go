package manifest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

// The tests of this file read manifests as an attacker who opens a pull
// request writes them: they must not run a command, reach the network, read
// a file outside the input root, or exhaust the machine.

// TestNothingRemote: every remote form kustomize would fetch or clone, in
// every field that names a path, is refused naming the kustomization and
// the entry; git never runs and nothing connects. A transformer's config
// that names a URL (which no vetting reads) is refused by the sealed build.
func TestNothingRemote(t *testing.T) {
	tr := testenv.NewTrap(t)
	url := "http://" + tr.Addr + "/x.yaml"
	forms := []string{
		"file:///x?ref=--upload-pack=touch%20/tmp/pwned",
		"git::https://" + tr.Addr + "/org/repo//base?ref=main",
		"gh:org/repo//base",
		"github.com/org/repo//base?ref=v1",
		"github.com/org/repo",
		"ssh://git@" + tr.Addr + "/org/repo.git",
		"git@github.com:org/repo.git",
		"https://" + tr.Addr + "/org/repo.git//base",
		url,
	}
	fields := map[string]string{
		"resources":              "resources: [%q]\n",
		"bases":                  "bases: [%q]\n",
		"components":             "components: [%q]\n",
		"generators":             "generators: [%q]\n",
		"transformers":           "transformers: [%q]\n",
		"validators":             "validators: [%q]\n",
		"patches":                "resources: [users.yaml]\npatches: [{path: %q}]\n",
		"patchesStrategicMerge":  "resources: [users.yaml]\npatchesStrategicMerge: [%q]\n",
		"patchesJson6902":        "resources: [users.yaml]\npatchesJson6902: [{path: %q, target: {kind: User, name: alice}}]\n",
		"replacements":           "resources: [users.yaml]\nreplacements: [{path: %q}]\n",
		"openapi":                "resources: [users.yaml]\nopenapi: {path: %q}\n",
		"crds":                   "resources: [users.yaml]\ncrds: [%q]\n",
		"configurations":         "resources: [users.yaml]\nconfigurations: [%q]\n",
		"configMapGenerator":     "configMapGenerator: [{name: c, files: [%q]}]\n",
		"configMapGenerator key": "configMapGenerator: [{name: c, files: [\"k=%s\"]}]\n",
		"secretGenerator envs":   "secretGenerator: [{name: s, envs: [%q]}]\n",
	}
	for field, tmpl := range fields {
		for _, form := range forms {
			t.Run(field+" "+form, func(t *testing.T) {
				dir := writeTree(t, map[string]string{"kustomization.yaml": fmt.Sprintf(tmpl, form), "users.yaml": userAlice})
				_, err := Read(Options{Root: dir}, dir)
				if err == nil {
					t.Fatal("read with no error")
				}
				at := filepath.Join(dir, "kustomization.yaml") + ": "
				if !strings.HasPrefix(err.Error(), at) || !strings.Contains(err.Error(), "vendor it into the repository") {
					t.Errorf("error %q does not name %s and say to vendor it", err, at)
				}
			})
		}
	}
	t.Run("a local directory named as a repository", func(t *testing.T) {
		dir := writeTree(t, map[string]string{
			"kustomization.yaml":                     "resources: [github.com/org/repo]\n",
			"github.com/org/repo/kustomization.yaml": "resources: [users.yaml]\n",
			"github.com/org/repo/users.yaml":         userAlice,
		})
		if _, err := Read(Options{Root: dir}, dir); err == nil || !strings.Contains(err.Error(), "is remote") {
			t.Errorf("error %v; want the entry refused as remote (kustomize would clone it)", err)
		}
	})
	t.Run("an inline transformer on one line is no path", func(t *testing.T) {
		dir := writeTree(t, map[string]string{
			"kustomization.yaml": "resources: [users.yaml]\ntransformers:\n- '{apiVersion: builtin, kind: NamespaceTransformer, metadata: {name: ns, namespace: prod}}'\n",
			"users.yaml":         userAlice,
		})
		docs, err := Read(Options{Root: dir}, dir)
		if err != nil || len(docs) != 1 || docs[0].Object.GetNamespace() != "prod" {
			t.Errorf("read %d objects, %v; want alice in prod", len(docs), err)
		}
	})
	t.Run("a transformer config naming a URL", func(t *testing.T) {
		dir := writeTree(t, map[string]string{
			"kustomization.yaml": "resources: [users.yaml]\ntransformers: [patch.yaml]\n",
			"users.yaml":         userAlice,
			"patch.yaml":         "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: p}\npath: " + url + "\n",
		})
		_, err := Read(Options{Root: dir}, dir)
		if err == nil || !strings.Contains(err.Error(), "gatehouse reads nothing remote") {
			t.Errorf("error %v; want the sealed build's refusal", err)
		}
	})
	tr.Check(t)
	if p := os.Getenv("PATH"); !strings.Contains(p, tr.BinDir()) {
		t.Errorf("PATH is not restored after the builds: %q", p)
	}
}

// TestNothingOutsideTheRoot: a link to a file outside the root, or a base
// outside it, is refused wherever it is met, and the error never quotes the
// file.
func TestNothingOutsideTheRoot(t *testing.T) {
	const secret = `{"auths": {"registry": {"auth": "c2VjcmV0"}}}`
	outside := writeTree(t, map[string]string{"config.json": secret, "base/kustomization.yaml": "resources: [u.yaml]\n", "base/u.yaml": userBob})
	tests := map[string]struct {
		files map[string]string
		links map[string]string // link → target ("OUT" stands for the outside tree)
		read  string
	}{
		"a file link in a directory": {
			files: map[string]string{"m/users.yaml": userAlice},
			links: map[string]string{"m/zz.json": "OUT/config.json"},
			read:  "m",
		},
		"a link named on the command line": {
			links: map[string]string{"zz.json": "OUT/config.json"},
			read:  "zz.json",
		},
		"a directory link": {
			links: map[string]string{"m": "OUT"},
			read:  "m",
		},
		"a link among kustomize resources": {
			files: map[string]string{"k/kustomization.yaml": "resources: [zz.json]\n"},
			links: map[string]string{"k/zz.json": "OUT/config.json"},
			read:  "k",
		},
		"a link as a kustomize patch": {
			files: map[string]string{"k/kustomization.yaml": "resources: [u.yaml]\npatches: [{path: zz.json}]\n", "k/u.yaml": userAlice},
			links: map[string]string{"k/zz.json": "OUT/config.json"},
			read:  "k",
		},
		"a link as a generator's file": {
			files: map[string]string{"k/kustomization.yaml": "configMapGenerator: [{name: c, files: [zz.json]}]\n"},
			links: map[string]string{"k/zz.json": "OUT/config.json"},
			read:  "k",
		},
		"a kustomization below, linked outside": {
			files: map[string]string{"d/users.yaml": userAlice},
			links: map[string]string{"d/x/kustomization.yaml": "OUT/config.json"},
			read:  "d",
		},
		"a base outside the root": {
			files: map[string]string{"k/kustomization.yaml": "resources: [OUTREL/base]\n"},
			read:  "k",
		},
		"a base linked outside": {
			files: map[string]string{"k/kustomization.yaml": "resources: [b]\n"},
			links: map[string]string{"k/b": "OUT/base"},
			read:  "k",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			files := map[string]string{}
			root := t.TempDir()
			rel, err := filepath.Rel(filepath.Join(root, "k"), outside)
			if err != nil {
				t.Fatal(err)
			}
			for f, c := range tc.files {
				files[f] = strings.ReplaceAll(c, "OUTREL", rel)
			}
			writeInto(t, root, files)
			for link, target := range tc.links {
				p := filepath.Join(root, link)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(strings.ReplaceAll(target, "OUT", outside), p); err != nil {
					t.Fatal(err)
				}
			}
			t.Chdir(root)
			docs, err := Read(Options{Recursive: true}, tc.read)
			if err == nil {
				t.Fatalf("read %d objects and no error", len(docs))
			}
			if !errors.Is(err, errOutside) && !strings.Contains(err.Error(), "outside the input root") {
				t.Errorf("error %q does not say the path leaves the input root", err)
			}
			if strings.Contains(err.Error(), "auths") || strings.Contains(err.Error(), "c2VjcmV0") {
				t.Errorf("error %q quotes the file outside", err)
			}
		})
	}
}

// writeInto creates files under dir.
func writeInto(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// aliasBomb is YAML whose aliases, expanded, hold 9^levels strings.
func aliasBomb(levels int) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  a0: &a0 [\"lol\"]\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "  a%d: &a%d [", i, i)
		for j := range 9 {
			if j > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

// doubling is a kustomization tree of levels levels in which each level
// includes the next twice (under two name prefixes): 2^levels copies of one
// User.
func doubling(levels int) map[string]string {
	files := map[string]string{fmt.Sprintf("l%d/kustomization.yaml", levels): "resources: [u.yaml]\n", fmt.Sprintf("l%d/u.yaml", levels): userAlice}
	for i := levels - 1; i >= 0; i-- {
		files[fmt.Sprintf("l%d/kustomization.yaml", i)] = "resources: [a, b]\n"
		files[fmt.Sprintf("l%d/a/kustomization.yaml", i)] = fmt.Sprintf("namePrefix: a-\nresources: [../../l%d]\n", i+1)
		files[fmt.Sprintf("l%d/b/kustomization.yaml", i)] = fmt.Sprintf("namePrefix: b-\nresources: [../../l%d]\n", i+1)
	}
	return files
}

// TestLimits: each limit refuses what exceeds it, before it is expanded, and
// names the flag that raises it.
func TestLimits(t *testing.T) {
	big := strings.Repeat(userAlice+"---\n", 20)
	tests := map[string]struct {
		files  map[string]string
		read   string
		limits Limits
		flag   string
	}{
		"an alias bomb in a plain file": {
			files: map[string]string{"bomb.yaml": aliasBomb(9)},
			read:  "bomb.yaml", flag: "--max-yaml-aliases",
		},
		"an alias bomb in a kustomize resource": {
			files: map[string]string{"k/kustomization.yaml": "resources: [bomb.yaml]\n", "k/bomb.yaml": aliasBomb(9)},
			read:  "k", flag: "--max-yaml-aliases",
		},
		"an alias bomb in a kustomize patch": {
			files: map[string]string{"k/kustomization.yaml": "resources: [u.yaml]\npatches: [{path: bomb.yaml}]\n", "k/u.yaml": userAlice, "k/bomb.yaml": aliasBomb(9)},
			read:  "k", flag: "--max-yaml-aliases",
		},
		"deep nesting": {
			files: map[string]string{"deep.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: " + strings.Repeat("[", 300) + strings.Repeat("]", 300) + "\n"},
			read:  "deep.yaml", flag: "--max-yaml-depth",
		},
		"bases that double at each level": {
			files: doubling(20),
			read:  "l0", flag: "--max-objects",
		},
		"too many objects in files": {
			files: map[string]string{"m/a.yaml": big, "m/b.yaml": big},
			read:  "m", limits: Limits{Objects: 30}, flag: "--max-objects",
		},
		"too many bytes": {
			files: map[string]string{"m/a.yaml": big, "m/b.yaml": big},
			read:  "m", limits: Limits{InputBytes: int64(len(big)) + 10}, flag: "--max-input-bytes",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			writeInto(t, root, tc.files)
			t.Chdir(root)
			docs, err := Read(Options{Limits: tc.limits}, tc.read)
			if err == nil {
				t.Fatalf("read %d objects and no error", len(docs))
			}
			if !strings.Contains(err.Error(), tc.flag+" raises the limit") {
				t.Errorf("error %q does not name %s", err, tc.flag)
			}
		})
	}
	t.Run("a FIFO is refused, not waited on", func(t *testing.T) {
		root := t.TempDir()
		if err := syscall.Mkfifo(filepath.Join(root, "pipe.yaml"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Read(Options{Root: root}, root)
		if err == nil || !strings.Contains(err.Error(), "pipe.yaml: not a regular file") {
			t.Errorf("error %v; want the FIFO refused", err)
		}
	})
	t.Run("aliases within the limit are read", func(t *testing.T) {
		root := t.TempDir()
		writeInto(t, root, map[string]string{"a.yaml": aliasBomb(3)})
		if _, err := Read(Options{Root: root}, filepath.Join(root, "a.yaml")); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzRead reads any bytes as a manifest file and as a kustomize resource
// under small limits: it returns objects or an error, never panics, and
// stays within the limits.
func FuzzRead(f *testing.F) {
	for _, s := range []string{userAlice, userAlice + "---\n" + groupData, aliasBomb(4), "apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: ConfigMap, metadata: {name: x}}]\n",
		`{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "items": [{}]}`, "a: &a [*a]\n", "- [[[[[[]]]]]]\n", "kind: User\n"} {
		f.Add([]byte(s))
	}
	limits := Limits{InputBytes: 1 << 16, YAMLAliasNodes: 1000, YAMLDepth: 50, Objects: 100}
	f.Fuzz(func(t *testing.T, data []byte) {
		root := t.TempDir()
		writeInto(t, root, map[string]string{"m.yaml": string(data), "k/m.yaml": string(data), "k/kustomization.yaml": "resources: [m.yaml]\n"})
		for _, p := range []string{"m.yaml", "k"} {
			docs, err := Read(Options{Root: root, Limits: limits}, filepath.Join(root, p))
			if err == nil && len(docs) > limits.Objects {
				t.Errorf("%s: %d objects, over the limit", p, len(docs))
			}
			for _, d := range docs {
				if d.Object.GetKind() == "" || d.Object.GetAPIVersion() == "" {
					t.Errorf("%s: an object without kind or apiVersion: %s", p, d.Source())
				}
			}
		}
	})
}
