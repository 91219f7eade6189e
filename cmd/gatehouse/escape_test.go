package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"sigs.k8s.io/yaml"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/cli"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// hostile is what issue 23 found in a pull request's User: a carriage
// return, cursor up four lines, erase to the end of the screen, hidden
// text, then a right-to-left override.
const hostile = "\r\x1b[4A\x1b[J\x1b[8m\u202e"

// hostileWorld is one namespace with a row in every table of the CLI: seats
// granted, refused and capped, groups known and unknown, Shares, a grant,
// a Connection of one credential and one of per-user credentials (with a
// valid and an invalid credential Secret), a Directory, and two Users
// standing for one identity (a check finding).
const hostileWorld = `
apiVersion: iam.gatehouse.dev/v1alpha1
kind: License
metadata: {name: license, namespace: acme}
spec:
  profiles:
    - {name: designer, seats: 6, maxRole: Owner}
    - {name: reader, seats: 2, maxRole: Consumer, globalPermissions: []}
---
apiVersion: iam.gatehouse.dev/v1alpha1
kind: Group
metadata: {name: admins, namespace: acme}
spec: {globalPermissions: [admin]}
---
apiVersion: iam.gatehouse.dev/v1alpha1
kind: Group
metadata: {name: data-team, namespace: acme}
spec:
  globalPermissions: [createProjects]
  ldapGroups: ["CN=Data Team,OU=Groups,DC=acme,DC=example"]
---
apiVersion: iam.gatehouse.dev/v1alpha1
kind: User
metadata: {name: alice, namespace: acme, creationTimestamp: "2026-01-01T00:00:00Z"}
spec: {login: alice, profile: designer, groups: [admins], organization: acme}
---
apiVersion: iam.gatehouse.dev/v1alpha1
kind: User
metadata: {name: bob, namespace: acme, creationTimestamp: "2026-01-02T00:00:00Z"}
spec:
  login: bob
  profile: designer
  directoryGroups: ["cn=data team, ou=groups, dc=acme, dc=example"]
  organization: acme
---
apiVersion: iam.gatehouse.dev/v1alpha1
kind: User
metadata: {name: erin, namespace: acme, creationTimestamp: "2026-01-03T00:00:00Z"}
spec: {login: erin, profile: reader, groups: [data-team, ghosts], organization: acme}
---
apiVersion: iam.gatehouse.dev/v1alpha1
kind: User
metadata: {name: kim, namespace: acme, creationTimestamp: "2026-01-04T00:00:00Z"}
spec: {login: kim, profile: designer, groups: [data-team]}
---
apiVersion: iam.gatehouse.dev/v1alpha1
kind: User
metadata: {name: lee, namespace: acme, creationTimestamp: "2026-01-05T00:00:00Z"}
spec: {login: lee, profile: designer, groups: [data-team], displayName: Lee, email: lee@acme.example}
---
apiVersion: iam.gatehouse.dev/v1alpha1
kind: User
metadata: {name: mallory, namespace: acme, creationTimestamp: "2026-01-06T00:00:00Z"}
spec: {login: mallory, profile: designer, kubernetesUsername: bob}
---
apiVersion: iam.gatehouse.dev/v1alpha1
kind: User
metadata: {name: zed, namespace: acme, creationTimestamp: "2026-01-07T00:00:00Z"}
spec: {login: zed, profile: designer, active: false}
---
apiVersion: iam.gatehouse.dev/v1alpha1
kind: Connection
metadata: {name: pg, namespace: acme}
spec:
  type: PostgreSQL
  parameters: {host: db.acme.example, port: "5432", database: sales}
  credentials: {mode: Global, secretRef: {name: pg-credentials}}
  usableBy: {mode: Groups, groups: [data-team]}
---
apiVersion: iam.gatehouse.dev/v1alpha1
kind: Connection
metadata: {name: warehouse, namespace: acme}
spec:
  type: PostgreSQL
  credentials: {mode: PerUser, type: Basic}
  usableBy: {mode: Groups, groups: [data-team]}
---
apiVersion: v1
kind: Secret
metadata:
  name: warehouse-kim
  namespace: acme
  labels: {iam.gatehouse.dev/connection: warehouse, iam.gatehouse.dev/user: kim}
stringData: {username: kim, password: kims-secret-value}
---
apiVersion: v1
kind: Secret
metadata:
  name: warehouse-lee
  namespace: acme
  labels: {iam.gatehouse.dev/connection: warehouse, iam.gatehouse.dev/user: lee}
stringData: {username: lee}
---
apiVersion: iam.gatehouse.dev/v1alpha1
kind: Share
metadata: {name: sales, namespace: acme}
spec:
  resource: {type: dataset, name: sales}
  grantees:
    - {kind: User, name: bob, role: Owner}
    - {kind: Group, name: data-team, role: Editor, canUseData: true}
    - {kind: Organization, name: acme, role: Consumer}
---
apiVersion: iam.gatehouse.dev/v1alpha1
kind: Share
metadata: {name: pg-owners, namespace: acme}
spec:
  resource: {type: connection, name: pg}
  grantees:
    - {kind: User, name: bob, role: Owner}
    - {kind: User, name: kim, role: Editor, canUseData: true}
---
apiVersion: iam.gatehouse.dev/v1alpha1
kind: ResourceGrant
metadata: {name: churn-writers, namespace: acme}
spec:
  resource: {type: project, name: churn}
  subjects:
    - {kind: Group, name: data-team}
  permissions: [writeProjectContent]
---
apiVersion: iam.gatehouse.dev/v1alpha1
kind: Directory
metadata: {name: corp, namespace: acme}
spec:
  url: ldap://ldap.acme.example:389
  bindDN: cn=admin,dc=acme,dc=example
  bindPasswordSecretRef: {name: corp-bind, key: password}
  users: {baseDN: "ou=people,dc=acme,dc=example", filter: "(objectClass=inetOrgPerson)", loginAttributes: [uid]}
  defaultProfile: reader
`

// TestHostileStringsEscaped is issue 23's property: whatever string a pull
// request puts in any field of any object the CLI reads, neither its text
// output nor its error lets a control, bidi or other invisible character
// through. Each string of the world above in turn (stringsOf: every value,
// and every key that is data) gets the hostile payload appended, and the
// commands that print text run on the result. access and check run on
// every world (check reads objects as stored, so names a create refuses
// come through). On a world access takes, so do access --user, who-can and
// explain about the user or resource the mutated object is or names, and
// one more in turn of access --resource, who-can and explain about others,
// and access diff both ways: every field meets every command but the last
// ones, which share the worlds so that the test takes seconds. The payload
// must show, escaped, in the output of each command but diff and in
// errors, so that the property is not held by commands that never print it.
func TestHostileStringsEscaped(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // the input root
	docs := parseWorld(t, hostileWorld)
	original, mutated := filepath.Join(dir, "original.yaml"), filepath.Join(dir, "mutated.yaml")
	writeWorld(t, original, docs)
	if out, err := runCLI(t, "access", "-f", original); err != nil || strings.Contains(out, `\`) {
		t.Fatalf("the world itself: %v\n%s", err, out)
	}
	shown := map[string]int{}
	runs, turn := 0, 0
	for i := range docs {
		for _, path := range stringsOf(docs[i], nil) {
			world := slices.Clone(docs)
			world[i] = withHostile(t, docs[i], path)
			writeWorld(t, mutated, world)
			run := func(args ...string) error {
				runs++
				what := fmt.Sprintf("%s %v: gatehouse %s", docs[i]["kind"], path, strings.Join(args, " "))
				out, err := runCLI(t, args...)
				if r, raw := rawRune(out, true); raw {
					t.Errorf("%s: stdout holds %U raw:\n%q", what, r, out)
				}
				if strings.Contains(out, cli.Escape(hostile)) {
					shown[args[0]]++
				}
				if err != nil {
					var msg bytes.Buffer
					report(&msg, err)
					line, ok := strings.CutSuffix(msg.String(), "\n")
					if r, raw := rawRune(line, false); !ok || raw {
						t.Errorf("%s: the error is not one line of printable text (%U):\n%q", what, r, msg.String())
					}
					if strings.Contains(line, cli.Escape(hostile)) {
						shown["error"]++
					}
				}
				return err
			}
			refused := run("access", "-f", mutated) != nil
			run("check", "-f", mutated)
			if refused {
				continue // the others read the world as access does, and refuse it alike
			}
			own, others := moreCommands(world[i], mutated, original)
			for _, args := range own {
				run(args...)
			}
			run(others[turn%len(others)]...)
			turn++
		}
	}
	t.Logf("%d runs; the payload shown escaped: %v", runs, shown)
	// access diff prints logins, resource names, roles and permissions
	// only, which the CRDs' validation keeps printable: nothing hostile
	// gets that far, and its output is held to the rule above only.
	for _, cmd := range []string{"access", "who-can", "explain", "check", "error"} {
		if shown[cmd] == 0 {
			t.Errorf("%s never showed the payload: the test does not reach its output", cmd)
		}
	}
}

// moreCommands are the commands run besides access and check on the world
// written at mutated, in which doc is the mutated object: own ask about
// doc's own user or resource, or the ones it names (so that a mutated login
// or resource name is asked for); others are the rest, run in turn.
func moreCommands(doc map[string]any, mutated, original string) (own, others [][]string) {
	login, ref := "erin", "dataset/sales"
	spec, _ := doc["spec"].(map[string]any)
	meta, _ := doc["metadata"].(map[string]any)
	switch doc["kind"] {
	case "User":
		if l, ok := spec["login"].(string); ok {
			login = l
		}
	case "Share", "ResourceGrant":
		if r, ok := spec["resource"].(map[string]any); ok {
			ref = fmt.Sprintf("%v/%v", r["type"], r["name"])
		}
	case "Connection":
		ref = fmt.Sprintf("connection/%v", meta["name"])
	case "Secret":
		if l, ok := meta["labels"].(map[string]any); ok {
			login = fmt.Sprint(l[iamv1alpha1.LabelUser])
			ref = fmt.Sprintf("connection/%v", l[iamv1alpha1.LabelConnection])
		}
	}
	perm := "view"
	if t, _, ok := strings.Cut(ref, "/"); ok {
		if ps, err := access.PermissionsOf(iamv1alpha1.ResourceType(t)); err == nil {
			perm = string(ps[0])
			if slices.Contains(ps, "downloadDataset") {
				perm = "downloadDataset"
			} else if slices.Contains(ps, "use") {
				perm = "use"
			}
		}
	}
	own = [][]string{
		{"access", "-f", mutated, "--user", login},
		{"who-can", perm, ref, "-f", mutated},
		{"explain", login, ref, "-f", mutated},
	}
	others = [][]string{
		{"access", "-f", mutated, "--resource", ref},
		{"who-can", "use", "connection/warehouse", "-f", mutated},
		{"explain", "erin", "dataset/sales", "-f", mutated},
		{"access", "diff", "--before", original, "--after", mutated},
		{"explain", "lee", "connection/warehouse", "-f", mutated},
		{"access", "diff", "--before", mutated, "--after", original},
	}
	return own, others
}

// rawRune returns the first rune of s that a terminal could interpret or
// hide: not valid UTF-8, or not printable (a line end is allowed in text
// output, never in an error).
func rawRune(s string, lines bool) (rune, bool) {
	for i, r := range s {
		if r == utf8.RuneError && !strings.HasPrefix(s[i:], "\ufffd") {
			return r, true
		}
		if (r == '\n' && lines) || unicode.IsPrint(r) {
			continue
		}
		return r, true
	}
	return 0, false
}

// parseWorld splits a multi-document YAML into its objects.
func parseWorld(t *testing.T, s string) []map[string]any {
	t.Helper()
	var docs []map[string]any
	for _, d := range strings.Split(s, "\n---\n") {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(d), &m); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, m)
	}
	return docs
}

// writeWorld writes objects to path as one multi-document YAML.
func writeWorld(t *testing.T, path string, docs []map[string]any) {
	t.Helper()
	var b bytes.Buffer
	for _, d := range docs {
		y, err := yaml.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// stringsOf returns the path of every string of v: each string value (a
// path of keys and indices), and each key of a map whose keys are data
// (labels, annotations, a Connection's parameters, a Secret's data: a path
// ending in keyOf). The other keys are field names: one with the payload is
// an unknown field, whose error quotes it as any error is quoted.
func stringsOf(v any, at []any) [][]any {
	var out [][]any
	switch v := v.(type) {
	case string:
		out = append(out, slices.Clone(at))
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if len(at) > 0 && slices.Contains([]any{"labels", "annotations", "parameters", "data", "stringData"}, at[len(at)-1]) {
				out = append(out, append(slices.Clone(at), keyOf(k)))
			}
			out = append(out, stringsOf(v[k], append(slices.Clone(at), k))...)
		}
	case []any:
		for i, x := range v {
			out = append(out, stringsOf(x, append(slices.Clone(at), i))...)
		}
	}
	return out
}

// keyOf ends a path of stringsOf that names a map's key, not its value.
type keyOf string

func (k keyOf) String() string { return "(key " + string(k) + ")" }

// withHostile returns a copy of doc with the payload appended to the
// string at path.
func withHostile(t *testing.T, doc map[string]any, path []any) map[string]any {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	var parent any = c
	for i, p := range path {
		last := i == len(path)-1
		switch p := p.(type) {
		case keyOf:
			m := parent.(map[string]any)
			m[string(p)+hostile] = m[string(p)]
			delete(m, string(p))
		case string:
			m := parent.(map[string]any)
			if last {
				m[p] = m[p].(string) + hostile
			}
			parent = m[p]
		case int:
			l := parent.([]any)
			if last {
				l[p] = l[p].(string) + hostile
			}
			parent = l[p]
		}
	}
	return c
}

// TestTextOutputThroughEscape: the commands write text only with
// cli.Fprintf, which escapes every argument, never with fmt's printers or
// io.WriteString, which would let a string from the manifests through as
// it is (the credentials commands read a cluster, which the test above does
// not).
func TestTextOutputThroughEscape(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("internal", "*", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	printers := []string{"fmt.Fprintf", "fmt.Fprintln", "fmt.Fprint", "fmt.Printf", "fmt.Println", "fmt.Print", "io.WriteString"}
	for _, f := range files {
		dir := filepath.Base(filepath.Dir(f))
		if strings.HasSuffix(f, "_test.go") || dir == "cli" || dir == "dev" || dir == "input" {
			continue // cli escapes; dev passes on the logs of the processes it starts; input prints nothing
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && slices.Contains(printers, x.Name+"."+sel.Sel.Name) {
				t.Errorf("%s calls %s.%s: write text with cli.Fprintf, which escapes what it prints", f, x.Name, sel.Sel.Name)
			}
			return true
		})
	}
}
