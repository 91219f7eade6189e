package v1alpha1_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/config/crd"
)

// These tests read the generated CRDs (config/crd/bases, embedded) to check
// what `kubectl get` shows an administrator.

const readyJSONPath = `.status.conditions[?(@.type=="Ready")].status`

func loadCRDs(t *testing.T) map[string]*apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	crds, err := crd.Load()
	if err != nil {
		t.Fatal(err)
	}
	byKind := map[string]*apiextensionsv1.CustomResourceDefinition{}
	for _, c := range crds {
		byKind[c.Spec.Names.Kind] = c
	}
	return byKind
}

func TestCRDNames(t *testing.T) {
	shortNames := map[string]string{
		"License":       "lic",
		"User":          "pu",
		"Group":         "pg",
		"Directory":     "dir",
		"Connection":    "conn",
		"ResourceGrant": "rg",
		"Share":         "share",
	}
	crds := loadCRDs(t)
	if len(crds) != len(shortNames) {
		t.Errorf("%d CRDs, want %d (one per kind)", len(crds), len(shortNames))
	}
	for kind, short := range shortNames {
		t.Run(kind, func(t *testing.T) {
			c, ok := crds[kind]
			if !ok {
				t.Fatalf("no CRD for %s", kind)
			}
			if c.Spec.Group != iamv1alpha1.GroupVersion.Group {
				t.Errorf("group = %q, want %q", c.Spec.Group, iamv1alpha1.GroupVersion.Group)
			}
			if c.Spec.Scope != apiextensionsv1.NamespaceScoped {
				t.Errorf("scope = %s, want Namespaced: one namespace is one platform instance", c.Spec.Scope)
			}
			if !slices.Equal(c.Spec.Names.ShortNames, []string{short}) {
				t.Errorf("shortNames = %v, want [%s]", c.Spec.Names.ShortNames, short)
			}
			if !slices.Contains(c.Spec.Names.Categories, "gatehouse") {
				t.Errorf("categories = %v, want gatehouse among them (kubectl get gatehouse)", c.Spec.Names.Categories)
			}
			if len(c.Spec.Versions) != 1 || c.Spec.Versions[0].Name != iamv1alpha1.GroupVersion.Version ||
				!c.Spec.Versions[0].Served || !c.Spec.Versions[0].Storage {
				t.Fatalf("versions = %+v, want v1alpha1 alone, served and stored", c.Spec.Versions)
			}
			if sr := c.Spec.Versions[0].Subresources; sr == nil || sr.Status == nil {
				t.Errorf("no status subresource")
			}
		})
	}
}

func TestPrinterColumns(t *testing.T) {
	// The columns an administrator sees without -o wide, in order, where the
	// style guide names them; Ready and Age are checked for every kind.
	wantDefault := map[string][]string{
		"User": {"Login", "Profile", "Active", "Seat", "Ready", "Age"},
	}
	for kind, c := range loadCRDs(t) {
		t.Run(kind, func(t *testing.T) {
			v := c.Spec.Versions[0]
			cols := v.AdditionalPrinterColumns
			var shown []string
			byName := map[string]apiextensionsv1.CustomResourceColumnDefinition{}
			for _, col := range cols {
				byName[col.Name] = col
				if col.Priority == 0 {
					shown = append(shown, col.Name)
				}
				if err := schemaHasPath(v.Schema.OpenAPIV3Schema, col.JSONPath); err != "" {
					t.Errorf("column %s: %s", col.Name, err)
				}
			}
			ready, ok := byName["Ready"]
			switch {
			case !ok:
				t.Errorf("no Ready column; columns are %v", shown)
			case ready.JSONPath != readyJSONPath || ready.Priority != 0:
				t.Errorf("Ready column = %+v, want JSONPath %s at priority 0", ready, readyJSONPath)
			}
			age, ok := byName["Age"]
			switch {
			case !ok:
				t.Errorf("no Age column; columns are %v", shown)
			case age.Type != "date" || age.JSONPath != ".metadata.creationTimestamp" || age.Priority != 0:
				t.Errorf("Age column = %+v, want a date of .metadata.creationTimestamp at priority 0", age)
			case shown[len(shown)-1] != "Age":
				t.Errorf("columns are %v, want Age last as kubectl shows it for built-in kinds", shown)
			}
			if want, ok := wantDefault[kind]; ok && !slices.Equal(shown, want) {
				t.Errorf("default columns = %v, want %v", shown, want)
			}
		})
	}
}

var jsonPathFilter = regexp.MustCompile(`\[\?\(@\.([a-zA-Z]+)=="[^"]*"\)\]`)

// schemaHasPath reports, as a message, a printer-column JSONPath that names a
// field the schema does not have: such a column is always empty.
func schemaHasPath(s *apiextensionsv1.JSONSchemaProps, path string) string {
	if strings.HasPrefix(path, ".metadata.") {
		return ""
	}
	// .status.conditions[?(@.type=="Ready")].status: the filter field must
	// exist on the items; the path goes on below them.
	var filterFields []string
	for _, m := range jsonPathFilter.FindAllStringSubmatch(path, -1) {
		filterFields = append(filterFields, m[1])
	}
	plain := jsonPathFilter.ReplaceAllString(path, ".[]")
	cur := s
	for _, part := range strings.Split(strings.TrimPrefix(plain, "."), ".") {
		if part == "[]" {
			if cur.Items == nil || cur.Items.Schema == nil {
				return path + " filters something that is not a list"
			}
			cur = cur.Items.Schema
			for _, f := range filterFields {
				if _, ok := cur.Properties[f]; !ok {
					return path + " filters on " + f + ", which the list items do not have"
				}
			}
			continue
		}
		next, ok := cur.Properties[part]
		if !ok {
			return path + " names " + part + ", which the schema does not have"
		}
		cur = &next
	}
	return ""
}
