package outbound

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// credentialTypes are the credential types of the package, zero values.
// TestEveryCredentialRedacts fails on a type with a Secret field that is
// missing here.
var credentialTypes = map[string]any{
	"Basic":        Basic{},
	"KeyPair":      KeyPair{},
	"OAuth2":       OAuth2{},
	"OAuth2Client": OAuth2Client{},
}

// secretName is a field name that holds a credential value: such a field
// must be a Secret.
var secretName = regexp.MustCompile(`(?i)password|passphrase|secret|token$|privatekey|accesskey`)

// structTypes returns the exported struct types the package's source
// declares, by name, with their fields' names and type expressions.
func structTypes(t *testing.T) map[string]map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, e.Name(), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok || !ts.Name.IsExported() {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return true
			}
			fields := map[string]string{}
			for _, fl := range st.Fields.List {
				for _, name := range fl.Names {
					fields[name.Name] = fmt.Sprint(fl.Type)
				}
			}
			out[ts.Name.Name] = fields
			return true
		})
	}
	return out
}

// TestEveryCredentialRedacts finds every struct type of the package that
// holds a credential and prints it every way with every field set: its
// secret fields are Secrets, exported (fmt prints an unexported field
// without its methods), and no printer shows them.
func TestEveryCredentialRedacts(t *testing.T) {
	types := structTypes(t)
	for name, fields := range types {
		holds := false
		for field, typ := range fields {
			switch {
			case typ == "Secret" && !ast.IsExported(field):
				t.Errorf("%s.%s is an unexported Secret: fmt prints it without its methods; export it", name, field)
			case typ == "Secret":
				holds = true
			case secretName.MatchString(field):
				t.Errorf("%s.%s (%s) looks like a credential value; make it a Secret", name, field, typ)
			}
		}
		if _, ok := credentialTypes[name]; holds && !ok {
			t.Errorf("credential type %s is not in credentialTypes: add it, so that this test prints it", name)
		}
	}
	for name, zero := range credentialTypes {
		if _, ok := types[name]; !ok {
			t.Errorf("credentialTypes lists %s, which the package does not declare", name)
		}
		v, secrets := filled(zero)
		for pname, printer := range printers {
			out := printer(v)
			for _, s := range secrets {
				if strings.Contains(out, s) || strings.Contains(out, fmt.Sprintf("%x", s)) {
					t.Errorf("%s printed with %s shows a secret: %s", name, pname, out)
				}
			}
			if !strings.Contains(out, "redacted") {
				t.Errorf("%s printed with %s does not say <redacted>: %s", name, pname, out)
			}
		}
	}
}

// filled returns a copy of the struct zero with every string-like field
// set to a distinct value, and the values of its Secret fields.
func filled(zero any) (any, []string) {
	v := reflect.New(reflect.TypeOf(zero)).Elem()
	var secrets []string
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		switch {
		case f.Type() == reflect.TypeOf(Secret("")):
			s := "Sup3rSecret" + name
			secrets = append(secrets, s)
			f.SetString(s)
		case f.Kind() == reflect.String:
			f.SetString("visible-" + name)
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
			f.Set(reflect.ValueOf([]string{"visible-" + name}))
		}
	}
	return v.Interface(), secrets
}

// TestSecretRedacts prints a bare Secret every way.
func TestSecretRedacts(t *testing.T) {
	for pname, printer := range printers {
		if out := printer(Secret("Sup3rSecretValue")); strings.Contains(out, "Sup3r") || !strings.Contains(out, "redacted") {
			t.Errorf("Secret printed with %s: %s", pname, out)
		}
		if out := printer(Secret("")); !strings.Contains(out, "empty") {
			t.Errorf("empty Secret printed with %s: %s", pname, out)
		}
	}
}
