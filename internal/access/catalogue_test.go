package access

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// catalogueTable is one table of CATALOGUE.md as written there: the column
// headers and, per row, the permission cell and the y/n cells.
type catalogueTable struct {
	columns []string
	rows    [][2]string // {"perm1, perm2", "y n y"}
}

// The tables of CATALOGUE.md, row by row, cell by cell. Changing a cell here
// or in catalogue.go alone makes TestCatalogueTables fail.
var catalogueTables = map[iamv1alpha1.ResourceType]catalogueTable{
	"project": {[]string{"Consumer", "Editor", "Owner"}, [][2]string{
		{"viewEverything", "y y y"},
		{"readProjectContent", "y y y"},
		{"readDashboards", "y y y"},
		{"launchIDEs, makePredictions, createEditFeatureLists, setTarget, deleteJobsFromQueue, runAutopilot, shareProject, renameProject, cloneProject", "n y y"},
		{"writeProjectContent, runScenarios, writeDashboards, executeApp, exportDatasetsData", "n y y"},
		{"deleteProject, unlockHoldout", "n n y"},
		{"admin, editPermissions, manageDashboardAuthorizations, manageExposedElements, publishToDataCollections, shareToWorkspaces", "n n y"},
	}},
	"dataset": {[]string{"C", "CA", "E", "EA", "O"}, [][2]string{
		{"viewMetadata", "y y y y y"},
		{"downloadDataSample, downloadDataset, viewSampleData", "n y n y y"},
		{"useForProjectCreation, useForCustomModelTraining, useForPredictions", "n y n y y"},
		{"modifyMetadata", "n n y y y"},
		{"createVersion, reload", "n n n y y"},
		{"delete", "n n n n y"},
	}},
	"connection": {[]string{"C", "CA", "E", "EA", "O"}, [][2]string{
		{"view, test", "y y y y y"},
		{"createDataSources, listSchemasAndTables, edit", "n n y y y"},
		{"delete", "n n n n y"},
		{"use", "n y n y y"},
	}},
	"deployment": {[]string{"Consumer", "Editor", "Owner"}, [][2]string{
		{"consumePredictions", "y y y"},
		{"viewInInventory", "n y y"},
		{"getDataViaAPI", "n y y"},
		{"editMetadata", "n y y"},
		{"addUser", "n y y"},
		{"changePermissionLevels", "n y y"},
		{"removeUsers", "n y y"},
		{"replaceModel, delete", "n n y"},
	}},
	"modelPackage": {[]string{"Consumer", "Editor", "Owner"}, [][2]string{
		{"view, deploy, share", "y y y"},
		{"archive", "n n y"},
	}},
	"customModel": {[]string{"Consumer", "Editor", "Owner"}, [][2]string{
		{"useAndView", "y y y"},
		{"updateMetadataAndVersions", "n y y"},
		{"delete", "n n y"},
	}},
	"environment": {[]string{"Consumer", "Owner"}, [][2]string{
		{"useAndView", "y y"},
		{"updateMetadataAndVersions, delete", "n y"},
	}},
	"application": {[]string{"Consumer", "Editor", "Owner"}, [][2]string{
		{"makePredictions", "y y y"},
		{"share", "n y y"},
		{"upgrade, updateSettings", "n y y"},
		{"deactivate, delete", "n n y"},
	}},
	// CATALOGUE.md: "codeEnv: use, update, manageUsers; roles: Consumer →
	// use; Editor → use, update; Owner → all. cluster: use, operate,
	// manageUsers, same role map."
	"codeEnv": {[]string{"Consumer", "Editor", "Owner"}, [][2]string{
		{"use", "y y y"},
		{"update", "n y y"},
		{"manageUsers", "n n y"},
	}},
	"cluster": {[]string{"Consumer", "Editor", "Owner"}, [][2]string{
		{"use", "y y y"},
		{"operate", "n y y"},
		{"manageUsers", "n n y"},
	}},
	// CATALOGUE.md: "containerExecConfig: use (...); roles: Consumer → use;
	// Editor → use; Owner → use."
	"containerExecConfig": {[]string{"Consumer", "Editor", "Owner"}, [][2]string{
		{"use", "y y y"},
	}},
	// CATALOGUE.md: "deployerInfrastructure: view, deploy (...), admin
	// (...); ... roles: Consumer → view; Editor → view, deploy; Owner → all."
	"deployerInfrastructure": {[]string{"Consumer", "Editor", "Owner"}, [][2]string{
		{"view", "y y y"},
		{"deploy", "n y y"},
		{"admin", "n n y"},
	}},
}

// column maps a table header to a role and its data-access flag.
func column(h string) (iamv1alpha1.Role, bool) {
	switch h {
	case "C", "Consumer":
		return iamv1alpha1.RoleConsumer, false
	case "CA":
		return iamv1alpha1.RoleConsumer, true
	case "E", "Editor":
		return iamv1alpha1.RoleEditor, false
	case "EA":
		return iamv1alpha1.RoleEditor, true
	}
	return iamv1alpha1.RoleOwner, false
}

func splitNames(s string) []iamv1alpha1.Permission {
	var out []iamv1alpha1.Permission
	for _, f := range strings.Split(s, ",") {
		out = append(out, iamv1alpha1.Permission(strings.TrimSpace(f)))
	}
	return out
}

func TestCatalogueTables(t *testing.T) {
	if diff := cmp.Diff([]iamv1alpha1.ResourceType{"project", "dataset", "connection", "deployment", "modelPackage", "customModel", "environment", "application", "codeEnv", "cluster", "containerExecConfig", "deployerInfrastructure"}, Types()); diff != "" {
		t.Errorf("Types() (-want +got):\n%s", diff)
	}
	for typ, table := range catalogueTables {
		t.Run(string(typ), func(t *testing.T) {
			var wantPerms []iamv1alpha1.Permission
			for _, r := range table.rows {
				cells := strings.Fields(r[1])
				if len(cells) != len(table.columns) {
					t.Fatalf("row %q has %d cells for %d columns", r[0], len(cells), len(table.columns))
				}
				for _, perm := range splitNames(r[0]) {
					wantPerms = append(wantPerms, perm)
					for ci, h := range table.columns {
						role, data := column(h)
						set, err := RolePermissions(typ, role, data)
						if err != nil {
							t.Fatalf("RolePermissions(%s, %s, %v): %v", typ, role, data, err)
						}
						bit, err := ParsePermissions(typ, []iamv1alpha1.Permission{perm})
						if err != nil {
							t.Fatalf("ParsePermissions(%s, %s): %v", typ, perm, err)
						}
						if got, want := set.Contains(bit), cells[ci] == "y"; got != want {
							t.Errorf("%s: %s has %s = %v, CATALOGUE.md says %v", typ, h, perm, got, want)
						}
					}
				}
			}
			got, err := PermissionsOf(typ)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantPerms, got); diff != "" {
				t.Errorf("PermissionsOf(%s) (-want +got):\n%s", typ, diff)
			}
			// The roles of the type are the table's columns, and a type
			// without data-access columns ignores dataAccess.
			var wantRoles []iamv1alpha1.Role
			for _, h := range table.columns {
				if role, data := column(h); !data {
					wantRoles = append(wantRoles, role)
				}
			}
			gotRoles, _ := RolesOf(typ)
			if diff := cmp.Diff(wantRoles, gotRoles); diff != "" {
				t.Errorf("RolesOf(%s) (-want +got):\n%s", typ, diff)
			}
			if want := len(table.columns) == 5; HasDataAccess(typ) != want {
				t.Errorf("HasDataAccess(%s) = %v, want %v", typ, !want, want)
			}
			for _, role := range wantRoles {
				with, _ := RolePermissions(typ, role, true)
				without, _ := RolePermissions(typ, role, false)
				if role == iamv1alpha1.RoleOwner || !HasDataAccess(typ) {
					if with != without {
						t.Errorf("%s %s: dataAccess changes the set (%v vs %v) but must not", typ, role, Names(typ, with), Names(typ, without))
					}
				}
			}
		})
	}
	if len(catalogueTables) != len(Types()) {
		t.Errorf("test has %d tables, catalogue %d types", len(catalogueTables), len(Types()))
	}
}

func TestRoleErrors(t *testing.T) {
	tests := map[string]struct {
		typ     iamv1alpha1.ResourceType
		role    iamv1alpha1.Role
		wantErr string
	}{
		"environment has no Editor": {"environment", "Editor", "environment has no Editor role: use Consumer or Owner"},
		"unknown role":              {"dataset", "Admin", `unknown role "Admin" for dataset: valid are Consumer, Editor, Owner`},
		"unknown type":              {"notebook", "Owner", `unknown resource type "notebook": valid are project, dataset, connection, deployment, modelPackage, customModel, environment, application, codeEnv, cluster, containerExecConfig, deployerInfrastructure`},
		"environment Owner is fine": {"environment", "Owner", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := RolePermissions(tc.typ, tc.role, false)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.wantErr {
				t.Errorf("error = %q, want %q", got, tc.wantErr)
			}
		})
	}
}

func TestUnknownPermission(t *testing.T) {
	_, err := ParsePermissions("dataset", []iamv1alpha1.Permission{"viewMetadata", "foo"})
	want := `unknown permission "foo" for dataset: valid are viewMetadata, downloadDataSample, downloadDataset, viewSampleData, useForProjectCreation, useForCustomModelTraining, useForPredictions, modifyMetadata, createVersion, reload, delete`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
	if ValidPermission("connection", "downloadDataset") {
		t.Error("downloadDataset is valid on connection, want not")
	}
	if !ValidPermission("connection", "use") {
		t.Error("use is not valid on connection")
	}
}

func TestProjectImplications(t *testing.T) {
	all, _ := PermissionsOf("project")
	tests := map[string]struct {
		grant []iamv1alpha1.Permission
		want  []iamv1alpha1.Permission
	}{
		"admin gives every project permission": {p("admin"), all},
		"writeProjectContent": {p("writeProjectContent"),
			p("writeProjectContent", "readProjectContent", "runScenarios", "readDashboards", "writeDashboards")},
		"readProjectContent":             {p("readProjectContent"), p("readProjectContent", "readDashboards")},
		"editPermissions":                {p("editPermissions"), p("editPermissions", "readDashboards")},
		"writeDashboards":                {p("writeDashboards"), p("writeDashboards", "readDashboards")},
		"shareToWorkspaces":              {p("shareToWorkspaces"), p("shareToWorkspaces", "manageDashboardAuthorizations")},
		"publishToDataCollections":       {p("publishToDataCollections"), p("publishToDataCollections", "manageDashboardAuthorizations")},
		"runScenarios implies nothing":   {p("runScenarios"), p("runScenarios")},
		"readDashboards implies nothing": {p("readDashboards"), p("readDashboards")},
		"cumulative": {p("readProjectContent", "shareToWorkspaces"),
			p("readProjectContent", "readDashboards", "shareToWorkspaces", "manageDashboardAuthorizations")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			set, err := ParsePermissions("project", tc.grant)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]iamv1alpha1.Permission(nil), tc.want...)
			sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
			if diff := cmp.Diff(want, Names("project", Implied("project", set))); diff != "" {
				t.Errorf("Implied (-want +got):\n%s", diff)
			}
		})
	}
	// Other types have no implications.
	del, _ := ParsePermissions("dataset", p("delete"))
	if got := Implied("dataset", del); got != del {
		t.Errorf("dataset delete implies %v", Names("dataset", got))
	}
}

// TestDeployerInfrastructureImplications: CATALOGUE.md "admin ⊃ deploy ⊃
// view", and admin is the permission that manages its grants and shares
// (SPEC rule 2); containerExecConfig has neither, so only Owners do.
func TestDeployerInfrastructureImplications(t *testing.T) {
	const typ = iamv1alpha1.ResourceDeployerInfrastructure
	tests := map[string]struct {
		grant []iamv1alpha1.Permission
		want  []iamv1alpha1.Permission
	}{
		"admin gives deploy and view": {p("admin"), p("admin", "deploy", "view")},
		"deploy gives view":           {p("deploy"), p("deploy", "view")},
		"view implies nothing":        {p("view"), p("view")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			set, err := ParsePermissions(typ, tc.grant)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]iamv1alpha1.Permission(nil), tc.want...)
			sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
			if diff := cmp.Diff(want, Names(typ, Implied(typ, set))); diff != "" {
				t.Errorf("Implied (-want +got):\n%s", diff)
			}
		})
	}
	if diff := cmp.Diff(p("admin"), Names(typ, ManagementPermissions(typ))); diff != "" {
		t.Errorf("ManagementPermissions(%s) (-want +got):\n%s", typ, diff)
	}
	di, _ := info(typ)
	admin, _ := ParsePermissions(typ, p("admin"))
	if di.share != [3]PermissionSet{admin, admin, admin} {
		t.Errorf("%s sharing permissions = %v, want admin for every change", typ, di.share)
	}
	ce, _ := info(iamv1alpha1.ResourceContainerExecConfig)
	if ce.manage != 0 || ce.share != [3]PermissionSet{} || ce.create != "" {
		t.Errorf("containerExecConfig has a management, sharing or create permission (%v, %v, %q); CATALOGUE.md names none", ce.manage, ce.share, ce.create)
	}
}

func TestGlobalPermissions(t *testing.T) {
	want := []iamv1alpha1.GlobalPermission{
		"admin", "createProjects", "createProjectsFromMacros", "createProjectsFromTemplates",
		"createProjectsFromApps", "writeInRootProjectFolder", "createWorkspaces", "shareToWorkspaces",
		"createDataCollections", "publishToDataCollections", "writeIsolatedCode", "writeUnisolatedCode",
		"createActiveWebContent", "createCodeEnvs", "manageCodeEnvs", "createClusters", "manageClusters",
		"createCodeStudioTemplates", "manageCodeStudioTemplates", "developPlugins", "editLibFolders",
		"createPersonalConnections", "viewIndexedHiveConnections", "manageUserDefinedMeanings",
		"createPublishedAPIServices", "createPublishedProjects", "manageFeatureStore",
	}
	if len(want) != 27 {
		t.Fatalf("CATALOGUE.md lists 27 global permissions, test has %d", len(want))
	}
	if diff := cmp.Diff(want, GlobalPermissions()); diff != "" {
		t.Errorf("GlobalPermissions (-want +got):\n%s", diff)
	}
	tests := map[string]struct {
		have []iamv1alpha1.GlobalPermission
		want []iamv1alpha1.GlobalPermission
	}{
		"admin implies all": {[]iamv1alpha1.GlobalPermission{"admin"}, want},
		"createProjects": {[]iamv1alpha1.GlobalPermission{"createProjects"},
			[]iamv1alpha1.GlobalPermission{"createProjects", "createProjectsFromMacros", "createProjectsFromTemplates"}},
		"createProjectsFromApps alone": {[]iamv1alpha1.GlobalPermission{"createProjectsFromApps"},
			[]iamv1alpha1.GlobalPermission{"createProjectsFromApps"}},
		"writeUnisolatedCode implies nothing": {[]iamv1alpha1.GlobalPermission{"writeUnisolatedCode"},
			[]iamv1alpha1.GlobalPermission{"writeUnisolatedCode"}},
		"none": {nil, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := ParseGlobal(tc.have)
			if err != nil {
				t.Fatal(err)
			}
			w := append([]iamv1alpha1.GlobalPermission(nil), tc.want...)
			sort.Slice(w, func(i, j int) bool { return w[i] < w[j] })
			if diff := cmp.Diff(w, GlobalNames(ExpandGlobal(s))); diff != "" {
				t.Errorf("ExpandGlobal (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := ParseGlobal([]iamv1alpha1.GlobalPermission{"mayWriteUnsafeCode"}); err == nil || !strings.Contains(err.Error(), `unknown global permission "mayWriteUnsafeCode": valid are admin, createProjects`) {
		t.Errorf("ParseGlobal(mayWriteUnsafeCode) error = %v", err)
	}
}

// enumMarker returns the values of the +kubebuilder:validation:Enum marker
// directly above "type <name> string" in common_types.go.
func enumMarker(t *testing.T, typeName string) []string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "api", "v1alpha1", "common_types.go"))
	if err != nil {
		t.Fatalf("cannot read the API types: %v", err)
	}
	lines := strings.Split(string(src), "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) != "type "+typeName+" string" {
			continue
		}
		for j := i - 1; j >= 0 && strings.HasPrefix(strings.TrimSpace(lines[j]), "//"); j-- {
			if _, v, ok := strings.Cut(lines[j], "+kubebuilder:validation:Enum="); ok {
				return strings.Split(strings.TrimSpace(v), ";")
			}
		}
	}
	t.Fatalf("no Enum marker above type %s in common_types.go", typeName)
	return nil
}

func TestAPIEnumsMatchCatalogue(t *testing.T) {
	var globals []string
	for _, g := range GlobalPermissions() {
		globals = append(globals, string(g))
	}
	if diff := cmp.Diff(globals, enumMarker(t, "GlobalPermission")); diff != "" {
		t.Errorf("GlobalPermission enum differs from the catalogue (-catalogue +api):\n%s", diff)
	}
	var types []string
	for _, ty := range Types() {
		types = append(types, string(ty))
	}
	if diff := cmp.Diff(types, enumMarker(t, "ResourceType")); diff != "" {
		t.Errorf("ResourceType enum differs from the catalogue (-catalogue +api):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Consumer", "Editor", "Owner"}, enumMarker(t, "Role")); diff != "" {
		t.Errorf("Role enum (-want +api):\n%s", diff)
	}
}

func TestCapRank(t *testing.T) {
	env, _ := info("environment")
	if got := env.capRank(rankEditor); got != rankConsumer {
		t.Errorf("environment capped at Editor = rank %d, want Consumer", got)
	}
	ds, _ := info("dataset")
	if got := ds.capRank(rankEditor); got != rankEditor {
		t.Errorf("dataset capped at Editor = rank %d, want Editor", got)
	}
	if got := ManagementPermissions("project"); Names("project", got)[0] != "editPermissions" || got.Len() != 1 {
		t.Errorf("project management = %v", Names("project", got))
	}
}
