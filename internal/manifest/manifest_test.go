package manifest

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeTree creates files (path relative to a new temporary directory →
// content) and returns the directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	writeInto(t, dir, files)
	return dir
}

// summary is what a test compares of a Document: where it came from and
// which object it is.
type summary struct {
	File  string // relative to the tree
	Index int
	Kind  string
	Name  string
}

func summarize(t *testing.T, dir string, docs []Document) []summary {
	t.Helper()
	out := make([]summary, 0, len(docs))
	for _, d := range docs {
		rel, err := filepath.Rel(dir, d.File)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, summary{File: filepath.ToSlash(rel), Index: d.Index, Kind: d.Object.GetKind(), Name: d.Object.GetName()})
	}
	return out
}

const (
	userAlice = "apiVersion: iam.gatehouse.dev/v1alpha1\nkind: User\nmetadata:\n  name: alice\nspec:\n  login: alice\n"
	userBob   = "apiVersion: iam.gatehouse.dev/v1alpha1\nkind: User\nmetadata:\n  name: bob\nspec:\n  login: bob\n"
	groupData = "apiVersion: iam.gatehouse.dev/v1alpha1\nkind: Group\nmetadata:\n  name: data-team\n"
	kustomize = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [users.yaml]\n"
)

func TestReadPaths(t *testing.T) {
	tests := map[string]struct {
		files map[string]string
		// paths to read, relative to the tree; empty reads the tree itself.
		paths []string
		// recursive reads subdirectories, as -R.
		recursive bool
		want      []summary
	}{
		"multi-document file": {
			files: map[string]string{"users.yaml": userAlice + "---\n" + userBob + "---\n" + groupData},
			want: []summary{
				{"users.yaml", 1, "User", "alice"},
				{"users.yaml", 2, "User", "bob"},
				{"users.yaml", 3, "Group", "data-team"},
			},
		},
		"empty documents are skipped, positions kept": {
			files: map[string]string{"users.yaml": "---\n" + userAlice + "---\n# only a comment\n---\n\n---\nnull\n---\n" + userBob + "---\n"},
			want: []summary{
				{"users.yaml", 1, "User", "alice"},
				{"users.yaml", 5, "User", "bob"},
			},
		},
		"a file with nothing in it": {
			files: map[string]string{"empty.yaml": "", "users.yaml": userAlice},
			want:  []summary{{"users.yaml", 1, "User", "alice"}},
		},
		"directory walked recursively in lexical order": {
			files: map[string]string{
				"b.yaml":        userBob,
				"a.yml":         userAlice,
				"sub/c.json":    `{"apiVersion": "iam.gatehouse.dev/v1alpha1", "kind": "Group", "metadata": {"name": "data-team"}}`,
				"README.md":     "# not a manifest\n",
				"notes.txt":     "kind: User\n",
				"sub/script.sh": "echo hi\n",
			},
			recursive: true,
			want: []summary{
				{"a.yml", 1, "User", "alice"},
				{"b.yaml", 1, "User", "bob"},
				{"sub/c.json", 1, "Group", "data-team"},
			},
		},
		"a directory without -R: its own files, of kubectl's extensions, case and all": {
			files: map[string]string{
				"b.yaml":     userBob,
				"a.YAML":     userAlice,
				"sub/c.json": `{"apiVersion": "iam.gatehouse.dev/v1alpha1", "kind": "Group", "metadata": {"name": "data-team"}}`,
			},
			want: []summary{{"b.yaml", 1, "User", "bob"}},
		},
		"a List and an object carrying items are unpacked, as kubectl does": {
			files: map[string]string{"list.yaml": "apiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(strings.TrimSpace(userAlice), "\n", "\n  ") +
				"\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: decoy}\nitems:\n- " + strings.ReplaceAll(strings.TrimSpace(groupData), "\n", "\n  ") + "\n"},
			want: []summary{{"list.yaml", 1, "User", "alice"}, {"list.yaml", 2, "Group", "data-team"}},
		},
		"a file named on the command line is read whatever its name": {
			files: map[string]string{"users.txt": userBob, "group": groupData},
			paths: []string{"users.txt", "group"},
			want: []summary{
				{"users.txt", 1, "User", "bob"},
				{"group", 1, "Group", "data-team"},
			},
		},
		"a stream of JSON objects": {
			files: map[string]string{"list.json": `{"apiVersion": "iam.gatehouse.dev/v1alpha1", "kind": "User", "metadata": {"name": "alice"}}
{"apiVersion": "iam.gatehouse.dev/v1alpha1", "kind": "Group", "metadata": {"name": "data-team"}} null
{"apiVersion": "iam.gatehouse.dev/v1alpha1", "kind": "User", "metadata": {"name": "bob"}}`},
			want: []summary{
				{"list.json", 1, "User", "alice"},
				{"list.json", 2, "Group", "data-team"},
				{"list.json", 4, "User", "bob"},
			},
		},
		"JSON documents separated as YAML ones": {
			files: map[string]string{"two.yaml": `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}}` + "\n---\n" + userBob},
			want: []summary{
				{"two.yaml", 1, "ConfigMap", "settings"},
				{"two.yaml", 2, "User", "bob"},
			},
		},
		"several paths, in the order given": {
			files: map[string]string{"z/users.yaml": userBob, "a/users.yaml": userAlice},
			paths: []string{"z", "a"},
			want: []summary{
				{"z/users.yaml", 1, "User", "bob"},
				{"a/users.yaml", 1, "User", "alice"},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := writeTree(t, tc.files)
			paths := []string{dir}
			if tc.paths != nil {
				paths = nil
				for _, p := range tc.paths {
					paths = append(paths, filepath.Join(dir, p))
				}
			}
			docs, err := Read(Options{Root: dir, Recursive: tc.recursive}, paths...)
			if err != nil {
				t.Fatalf("ReadPaths: %v", err)
			}
			if diff := cmp.Diff(tc.want, summarize(t, dir, docs)); diff != "" {
				t.Errorf("documents (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadPathsErrors(t *testing.T) {
	tests := map[string]struct {
		files map[string]string
		path  string // relative to the tree; empty reads the tree
		// want are the parts the message must contain; "FILE" stands for the
		// path of the offending file.
		want []string
		file string
	}{
		"invalid YAML names the file and document": {
			files: map[string]string{"a.yaml": userAlice, "b.yaml": userAlice + "---\nkind: User\nmetadata: {name: [unclosed\n"},
			file:  "b.yaml",
			want:  []string{"FILE (document 2) is not valid YAML"},
		},
		"invalid YAML in the first document": {
			files: map[string]string{"a.yaml": "kind: User\n  name: :bad\n\tindent\n"},
			file:  "a.yaml",
			want:  []string{"FILE (document 1) is not valid YAML"},
		},
		"a document without kind": {
			files: map[string]string{"a.yaml": userAlice + "---\napiVersion: v1\nmetadata: {name: x}\n"},
			file:  "a.yaml",
			want:  []string{"FILE (document 2) is not a Kubernetes object", "it has no kind"},
		},
		"a kustomization file named on the command line": {
			files: map[string]string{"prod/kustomization.yaml": kustomize, "prod/users.yaml": userAlice},
			path:  "prod/kustomization.yaml",
			file:  "prod",
			want:  []string{"FILE/kustomization.yaml is a kustomization, which is built rather than read: give its directory, -f FILE"},
		},
		"a path that does not exist": {
			files: map[string]string{},
			path:  "missing.yaml",
			file:  "missing.yaml",
			want:  []string{"cannot read FILE"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := writeTree(t, tc.files)
			path := dir
			if tc.path != "" {
				path = filepath.Join(dir, tc.path)
			}
			docs, err := ReadPaths(path)
			if err == nil {
				t.Fatalf("ReadPaths returned %d documents and no error", len(docs))
			}
			for _, w := range tc.want {
				w = strings.ReplaceAll(w, "FILE", filepath.Join(dir, tc.file))
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestDocumentSource(t *testing.T) {
	docs, err := Parse("users.yaml", []byte(userAlice+"---\n"+strings.Replace(userBob, "  name: bob\n", "  name: bob\n  namespace: demo\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range docs {
		got = append(got, d.Source())
	}
	want := []string{"users.yaml (document 1, User alice)", "users.yaml (document 2, User demo/bob)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Source (-want +got):\n%s", diff)
	}
}

func TestIsManifest(t *testing.T) {
	for name, want := range map[string]bool{
		"users.yaml":             true,
		"users.yml":              true,
		"users.json":             true,
		"USERS.YAML":             false, // kubectl skips it in a directory
		"dir/kustomization.yaml": false,
		"kustomization.yml":      false,
		"Kustomization":          false,
		"README.md":              false,
		"yaml":                   false,
	} {
		if got := IsManifest(name); got != want {
			t.Errorf("IsManifest(%q) = %t, want %t", name, got, want)
		}
	}
}
