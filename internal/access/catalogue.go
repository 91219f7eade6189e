// Package access is the one definition of who may do what on the platform:
// the permission catalogue (resource types, their permissions and roles, the
// global permissions), the effective-permission computation that fills
// User.status, seat allocation, and the sharing rules the admission webhook
// enforces. It is pure: no client, no cluster, no clock of its own. The
// controllers, the webhook and the gatehouse CLI all call it, so they cannot
// disagree.
package access

import (
	"fmt"
	"math/bits"
	"sort"
	"strings"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// PermissionSet is a set of per-resource permissions of one resource type, one
// bit per permission in the type's catalogue order. A set means nothing
// without its type.
type PermissionSet uint64

// Contains reports whether every permission of o is in s.
func (s PermissionSet) Contains(o PermissionSet) bool { return o&^s == 0 }

// Len is the number of permissions in s.
func (s PermissionSet) Len() int { return bits.OnesCount64(uint64(s)) }

// The roles with their rank; rank 0 is "no role".
const (
	rankNone = iota
	rankConsumer
	rankEditor
	rankOwner
)

var rankRoles = [...]iamv1alpha1.Role{"", iamv1alpha1.RoleConsumer, iamv1alpha1.RoleEditor, iamv1alpha1.RoleOwner}

// roleRank returns the rank of a role (0 for an unknown or empty role).
func roleRank(r iamv1alpha1.Role) int {
	switch r {
	case iamv1alpha1.RoleConsumer:
		return rankConsumer
	case iamv1alpha1.RoleEditor:
		return rankEditor
	case iamv1alpha1.RoleOwner:
		return rankOwner
	}
	return rankNone
}

// RoleAtLeast reports whether role a is at least role b in the order
// Consumer < Editor < Owner. An empty or unknown role is below every role.
func RoleAtLeast(a, b iamv1alpha1.Role) bool { return roleRank(a) >= roleRank(b) }

// row is one row of a catalogue table: permissions and, per role column, y or
// n. The columns are C E O for most types, C CA E EA O for the types with
// data access, and C O for environment.
type row struct {
	perms []iamv1alpha1.Permission
	cells string
}

// typeDef is one resource type's table as CATALOGUE.md writes it.
type typeDef struct {
	t       iamv1alpha1.ResourceType
	columns string // "CEO", "C CA E EA O" or "CO"
	rows    []row
	// implies maps a permission to those it gives too (DSS implications);
	// "*" means every permission of the type.
	implies map[iamv1alpha1.Permission][]iamv1alpha1.Permission
	// manage are the permissions that let their holder change the type's
	// ResourceGrants (besides Owner and admin).
	manage []iamv1alpha1.Permission
	// share are the type's sharing permissions (SPEC rule 2; CATALOGUE.md):
	// holding one lets a user share up to its own role. They are, in order,
	// the permissions to add a grantee, to change a grantee's level and to
	// remove one (one name for all three on most types). None: only Owners
	// share; a data type (dataset, connection): Owner or allowSharing.
	share []iamv1alpha1.Permission
	// create is the global permission needed to create a resource of the
	// type, that is to make its first Share (SPEC rule 4); "" if none.
	create iamv1alpha1.GlobalPermission
}

func p(names ...string) []iamv1alpha1.Permission {
	out := make([]iamv1alpha1.Permission, len(names))
	for i, n := range names {
		out[i] = iamv1alpha1.Permission(n)
	}
	return out
}

// catalogue is CATALOGUE.md, table by table, row by row.
var catalogue = []typeDef{
	{
		t: iamv1alpha1.ResourceProject, columns: "CEO",
		rows: []row{
			{p("viewEverything"), "yyy"},
			{p("readProjectContent"), "yyy"},
			{p("readDashboards"), "yyy"},
			{p("launchIDEs", "makePredictions", "createEditFeatureLists", "setTarget", "deleteJobsFromQueue", "runAutopilot", "shareProject", "renameProject", "cloneProject"), "nyy"},
			{p("writeProjectContent", "runScenarios", "writeDashboards", "executeApp", "exportDatasetsData"), "nyy"},
			{p("deleteProject", "unlockHoldout"), "nny"},
			{p("admin", "editPermissions", "manageDashboardAuthorizations", "manageExposedElements", "publishToDataCollections", "shareToWorkspaces"), "nny"},
		},
		implies: map[iamv1alpha1.Permission][]iamv1alpha1.Permission{
			"admin":                    p("*"),
			"writeProjectContent":      p("readProjectContent", "runScenarios", "readDashboards", "writeDashboards"),
			"readProjectContent":       p("readDashboards"),
			"editPermissions":          p("readDashboards"),
			"writeDashboards":          p("readDashboards"),
			"shareToWorkspaces":        p("manageDashboardAuthorizations"),
			"publishToDataCollections": p("manageDashboardAuthorizations"),
		},
		manage: p("editPermissions"),
		share:  p("shareProject", "shareProject", "shareProject"),
		create: "createProjects",
	},
	{
		t: iamv1alpha1.ResourceDataset, columns: "C CA E EA O",
		rows: []row{
			{p("viewMetadata"), "yyyyy"},
			{p("downloadDataSample", "downloadDataset", "viewSampleData"), "nynyy"},
			{p("useForProjectCreation", "useForCustomModelTraining", "useForPredictions"), "nynyy"},
			{p("modifyMetadata"), "nnyyy"},
			{p("createVersion", "reload"), "nnnyy"},
			{p("delete"), "nnnny"},
		},
	},
	{
		t: iamv1alpha1.ResourceConnection, columns: "C CA E EA O",
		rows: []row{
			{p("view", "test"), "yyyyy"},
			{p("createDataSources", "listSchemasAndTables", "edit"), "nnyyy"},
			{p("delete"), "nnnny"},
			{p("use"), "nynyy"},
		},
	},
	{
		t: iamv1alpha1.ResourceDeployment, columns: "CEO",
		rows: []row{
			{p("consumePredictions"), "yyy"},
			{p("viewInInventory"), "nyy"},
			{p("getDataViaAPI"), "nyy"},
			{p("editMetadata"), "nyy"},
			{p("addUser"), "nyy"},
			{p("changePermissionLevels"), "nyy"},
			{p("removeUsers"), "nyy"},
			{p("replaceModel", "delete"), "nny"},
		},
		share: p("addUser", "changePermissionLevels", "removeUsers"),
	},
	{
		t: iamv1alpha1.ResourceModelPackage, columns: "CEO",
		rows: []row{
			{p("view", "deploy", "share"), "yyy"},
			{p("archive"), "nny"},
		},
		share: p("share", "share", "share"),
	},
	{
		t: iamv1alpha1.ResourceCustomModel, columns: "CEO",
		rows: []row{
			{p("useAndView"), "yyy"},
			{p("updateMetadataAndVersions"), "nyy"},
			{p("delete"), "nny"},
		},
	},
	{
		t: iamv1alpha1.ResourceEnvironment, columns: "CO",
		rows: []row{
			{p("useAndView"), "yy"},
			{p("updateMetadataAndVersions", "delete"), "ny"},
		},
	},
	{
		t: iamv1alpha1.ResourceApplication, columns: "CEO",
		rows: []row{
			{p("makePredictions"), "yyy"},
			{p("share"), "nyy"},
			{p("upgrade", "updateSettings"), "nyy"},
			{p("deactivate", "delete"), "nny"},
		},
		share: p("share", "share", "share"),
	},
	{
		t: iamv1alpha1.ResourceCodeEnv, columns: "CEO",
		rows: []row{
			{p("use"), "yyy"},
			{p("update"), "nyy"},
			{p("manageUsers"), "nny"},
		},
		manage: p("manageUsers"),
		share:  p("manageUsers", "manageUsers", "manageUsers"),
		create: "createCodeEnvs",
	},
	{
		t: iamv1alpha1.ResourceCluster, columns: "CEO",
		rows: []row{
			{p("use"), "yyy"},
			{p("operate"), "nyy"},
			{p("manageUsers"), "nny"},
		},
		manage: p("manageUsers"),
		share:  p("manageUsers", "manageUsers", "manageUsers"),
		create: "createClusters",
	},
	{
		// No sharing or management permission: only Owners (and
		// administrators) share it or change its grants.
		t: iamv1alpha1.ResourceContainerExecConfig, columns: "CEO",
		rows: []row{
			{p("use"), "yyy"},
		},
	},
	{
		t: iamv1alpha1.ResourceDeployerInfrastructure, columns: "CEO",
		rows: []row{
			{p("view"), "yyy"},
			{p("deploy"), "nyy"},
			{p("admin"), "nny"},
		},
		implies: map[iamv1alpha1.Permission][]iamv1alpha1.Permission{
			"admin":  p("deploy"),
			"deploy": p("view"),
		},
		manage: p("admin"),
		share:  p("admin", "admin", "admin"),
	},
}

// typeInfo is the compiled form of a typeDef.
type typeInfo struct {
	t      iamv1alpha1.ResourceType
	perms  []iamv1alpha1.Permission // catalogue order; bit i is perms[i]
	index  map[iamv1alpha1.Permission]int
	sorted []int // permission indexes in alphabetical order
	// roles are the type's roles, lowest first.
	roles []iamv1alpha1.Role
	// data is true for the types with data-access variants.
	data bool
	// role[rank][data] is the permission set of a role; zero for a role the
	// type lacks.
	role    [4][2]PermissionSet
	implies []PermissionSet // per permission, its closure (itself included)
	all     PermissionSet
	manage  PermissionSet
	// share[op] is the sharing permission of shareAdd, shareChange and
	// shareRemove (0: Owners only, or on data types Owner or allowSharing).
	share  [3]PermissionSet
	create iamv1alpha1.GlobalPermission
}

// The kinds of change to a Share's grantees, for typeInfo.share.
const (
	shareAdd = iota
	shareChange
	shareRemove
)

var (
	typeInfos   []*typeInfo
	typeByName  = map[iamv1alpha1.ResourceType]int{}
	typeNameCSV string
	// typeAlpha ranks the types alphabetically, the order of
	// User.status.resources.
	typeAlpha []int
	// connectionType is the connection type's index; connUse and
	// connViewUse its use and view+use permissions (the usableBy gate).
	connectionType       int
	connUse, connViewUse PermissionSet
)

func init() {
	names := make([]string, 0, len(catalogue))
	for _, d := range catalogue {
		ti := compileType(d)
		typeByName[d.t] = len(typeInfos)
		typeInfos = append(typeInfos, ti)
		names = append(names, string(d.t))
	}
	typeNameCSV = strings.Join(names, ", ")
	connectionType = typeByName[iamv1alpha1.ResourceConnection]
	ci := typeInfos[connectionType]
	connUse = PermissionSet(1) << ci.index["use"]
	connViewUse = connUse | PermissionSet(1)<<ci.index["view"]
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	typeAlpha = make([]int, len(names))
	for i, n := range names {
		typeAlpha[i] = sort.SearchStrings(sorted, n)
	}
}

// compileImplications sets ti.implies: each permission's direct
// implications ("*": every permission of the type), then their transitive
// closure.
func (ti *typeInfo) compileImplications(direct map[iamv1alpha1.Permission][]iamv1alpha1.Permission) {
	ti.implies = make([]PermissionSet, len(ti.perms))
	for i := range ti.perms {
		ti.implies[i] = PermissionSet(1) << i
	}
	for from, tos := range direct {
		i := ti.index[from]
		for _, to := range tos {
			if to == "*" {
				ti.implies[i] |= ti.all
				continue
			}
			ti.implies[i] |= PermissionSet(1) << ti.index[to]
		}
	}
	for changed := true; changed; {
		changed = false
		for i := range ti.implies {
			closed := ti.implies[i]
			for j := range ti.perms {
				if closed&(PermissionSet(1)<<j) != 0 {
					closed |= ti.implies[j]
				}
			}
			if closed != ti.implies[i] {
				ti.implies[i], changed = closed, true
			}
		}
	}
}

func compileType(d typeDef) *typeInfo {
	ti := &typeInfo{t: d.t, index: map[iamv1alpha1.Permission]int{}}
	cols := strings.Fields(d.columns)
	if len(cols) == 1 { // "CEO" or "CO": one letter per column
		cols = strings.Split(d.columns, "")
	}
	for _, r := range d.rows {
		for _, name := range r.perms {
			bit := PermissionSet(1) << len(ti.perms)
			ti.index[name] = len(ti.perms)
			ti.perms = append(ti.perms, name)
			ti.all |= bit
			for ci, col := range cols {
				if r.cells[ci] != 'y' {
					continue
				}
				switch col {
				case "C":
					ti.role[rankConsumer][0] |= bit
					if len(cols) != 5 {
						ti.role[rankConsumer][1] |= bit
					}
				case "CA":
					ti.role[rankConsumer][1] |= bit
				case "E":
					ti.role[rankEditor][0] |= bit
					if len(cols) != 5 {
						ti.role[rankEditor][1] |= bit
					}
				case "EA":
					ti.role[rankEditor][1] |= bit
				case "O":
					ti.role[rankOwner][0] |= bit
					ti.role[rankOwner][1] |= bit
				}
			}
		}
	}
	ti.data = len(cols) == 5
	for rank := rankConsumer; rank <= rankOwner; rank++ {
		if ti.role[rank][1] != 0 {
			ti.roles = append(ti.roles, rankRoles[rank])
		}
	}
	ti.sorted = make([]int, len(ti.perms))
	for i := range ti.sorted {
		ti.sorted[i] = i
	}
	sort.Slice(ti.sorted, func(a, b int) bool { return ti.perms[ti.sorted[a]] < ti.perms[ti.sorted[b]] })

	ti.compileImplications(d.implies)
	for _, m := range d.manage {
		ti.manage |= PermissionSet(1) << ti.index[m]
	}
	for op, s := range d.share {
		ti.share[op] = PermissionSet(1) << ti.index[s]
	}
	ti.create = d.create
	return ti
}

// info returns the compiled catalogue of a type, or an error listing the
// valid types.
func info(t iamv1alpha1.ResourceType) (*typeInfo, error) {
	i, ok := typeByName[t]
	if !ok {
		return nil, fmt.Errorf("unknown resource type %q: valid are %s", t, typeNameCSV)
	}
	return typeInfos[i], nil
}

// Types returns the resource types of the catalogue, in catalogue order.
func Types() []iamv1alpha1.ResourceType {
	out := make([]iamv1alpha1.ResourceType, len(typeInfos))
	for i, ti := range typeInfos {
		out[i] = ti.t
	}
	return out
}

// ValidType reports whether t is a resource type of the catalogue.
func ValidType(t iamv1alpha1.ResourceType) bool {
	_, ok := typeByName[t]
	return ok
}

// PermissionsOf returns the permissions of a resource type in catalogue
// order, or an error for an unknown type.
func PermissionsOf(t iamv1alpha1.ResourceType) ([]iamv1alpha1.Permission, error) {
	ti, err := info(t)
	if err != nil {
		return nil, err
	}
	return append([]iamv1alpha1.Permission(nil), ti.perms...), nil
}

// RolesOf returns the roles a resource type has, lowest first (environment
// has only Consumer and Owner).
func RolesOf(t iamv1alpha1.ResourceType) ([]iamv1alpha1.Role, error) {
	ti, err := info(t)
	if err != nil {
		return nil, err
	}
	return append([]iamv1alpha1.Role(nil), ti.roles...), nil
}

// HasDataAccess reports whether a type has the data-access variants of its
// roles (dataset and connection: canUseData turns Consumer into CA and Editor
// into EA).
func HasDataAccess(t iamv1alpha1.ResourceType) bool {
	ti, err := info(t)
	return err == nil && ti.data
}

// ValidRole returns nil when role exists for the type, else an error that
// says which roles do.
func ValidRole(t iamv1alpha1.ResourceType, role iamv1alpha1.Role) error {
	ti, err := info(t)
	if err != nil {
		return err
	}
	return ti.validRole(role)
}

func (ti *typeInfo) validRole(role iamv1alpha1.Role) error {
	rank := roleRank(role)
	if rank != rankNone && ti.role[rank][1] != 0 {
		return nil
	}
	valid := make([]string, len(ti.roles))
	for i, r := range ti.roles {
		valid[i] = string(r)
	}
	if rank != rankNone {
		return fmt.Errorf("%s has no %s role: use %s", ti.t, role, orList(valid))
	}
	return fmt.Errorf("unknown role %q for %s: valid are %s", role, ti.t, strings.Join(valid, ", "))
}

// orList joins words as "a, b or c".
func orList(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// RolePermissions returns the permissions a role gives on a type. dataAccess
// selects the data-access variant (CA, EA) on dataset and connection and is
// ignored elsewhere; Owner always has data access.
func RolePermissions(t iamv1alpha1.ResourceType, role iamv1alpha1.Role, dataAccess bool) (PermissionSet, error) {
	ti, err := info(t)
	if err != nil {
		return 0, err
	}
	if err := ti.validRole(role); err != nil {
		return 0, err
	}
	return ti.roleSet(roleRank(role), dataAccess), nil
}

func (ti *typeInfo) roleSet(rank int, data bool) PermissionSet {
	if data {
		return ti.role[rank][1]
	}
	return ti.role[rank][0]
}

// capRank is the rank a profile's maxRole allows on a type: a role the type
// lacks (Editor on environment) caps at the next lower role it has.
func (ti *typeInfo) capRank(maxRank int) int {
	for maxRank > rankNone && ti.role[maxRank][1] == 0 {
		maxRank--
	}
	return maxRank
}

// ValidPermission reports whether p is a permission of type t.
func ValidPermission(t iamv1alpha1.ResourceType, perm iamv1alpha1.Permission) bool {
	ti, err := info(t)
	if err != nil {
		return false
	}
	_, ok := ti.index[perm]
	return ok
}

// ParsePermissions turns permission names into a set of type t. The error
// names the first unknown permission and lists the valid ones.
func ParsePermissions(t iamv1alpha1.ResourceType, perms []iamv1alpha1.Permission) (PermissionSet, error) {
	ti, err := info(t)
	if err != nil {
		return 0, err
	}
	return ti.parse(perms)
}

func (ti *typeInfo) parse(perms []iamv1alpha1.Permission) (PermissionSet, error) {
	var s PermissionSet
	for _, perm := range perms {
		i, ok := ti.index[perm]
		if !ok {
			return 0, ti.unknownPermission(perm)
		}
		s |= PermissionSet(1) << i
	}
	return s, nil
}

func (ti *typeInfo) unknownPermission(perm iamv1alpha1.Permission) error {
	valid := make([]string, len(ti.perms))
	for i, q := range ti.perms {
		valid[i] = string(q)
	}
	return fmt.Errorf("unknown permission %q for %s: valid are %s", perm, ti.t, strings.Join(valid, ", "))
}

// Implied returns perms with everything they imply (DSS project implications:
// admin gives every project permission, writeProjectContent gives
// readProjectContent, ...). Types without implications return perms as is.
func Implied(t iamv1alpha1.ResourceType, perms PermissionSet) PermissionSet {
	ti, err := info(t)
	if err != nil {
		return perms
	}
	return ti.implied(perms)
}

func (ti *typeInfo) implied(perms PermissionSet) PermissionSet {
	out := perms
	for rest := uint64(perms); rest != 0; rest &= rest - 1 {
		out |= ti.implies[bits.TrailingZeros64(rest)]
	}
	return out
}

// Names returns the permission names of a set of type t, sorted
// alphabetically.
func Names(t iamv1alpha1.ResourceType, perms PermissionSet) []iamv1alpha1.Permission {
	ti, err := info(t)
	if err != nil {
		return nil
	}
	return ti.namesOf(perms)
}

// namesOf returns the sorted names of a set, nil for the empty set.
func (ti *typeInfo) namesOf(perms PermissionSet) []iamv1alpha1.Permission {
	if perms == 0 {
		return nil
	}
	out := make([]iamv1alpha1.Permission, 0, perms.Len())
	for _, i := range ti.sorted {
		if perms&(PermissionSet(1)<<i) != 0 {
			out = append(out, ti.perms[i])
		}
	}
	return out
}

// ManagementPermissions returns the permissions that let a non-Owner change a
// type's ResourceGrants: editPermissions on project, manageUsers on codeEnv
// and cluster, admin on deployerInfrastructure; none elsewhere (only Owners
// and administrators).
func ManagementPermissions(t iamv1alpha1.ResourceType) PermissionSet {
	ti, err := info(t)
	if err != nil {
		return 0
	}
	return ti.manage
}

// GlobalSet is a set of global permissions, one bit per permission in the
// catalogue's order.
type GlobalSet uint32

// globalList is CATALOGUE.md's list of global permissions, in its order.
var globalList = []iamv1alpha1.GlobalPermission{
	"admin", "createProjects", "createProjectsFromMacros", "createProjectsFromTemplates",
	"createProjectsFromApps", "writeInRootProjectFolder", "createWorkspaces", "shareToWorkspaces",
	"createDataCollections", "publishToDataCollections", "writeIsolatedCode", "writeUnisolatedCode",
	"createActiveWebContent", "createCodeEnvs", "manageCodeEnvs", "createClusters", "manageClusters",
	"createCodeStudioTemplates", "manageCodeStudioTemplates", "developPlugins", "editLibFolders",
	"createPersonalConnections", "viewIndexedHiveConnections", "manageUserDefinedMeanings",
	"createPublishedAPIServices", "createPublishedProjects", "manageFeatureStore",
}

// globalImplies are the global implications besides admin (which implies all).
var globalImplies = map[iamv1alpha1.GlobalPermission][]iamv1alpha1.GlobalPermission{
	"createProjects": {"createProjectsFromMacros", "createProjectsFromTemplates"},
}

var (
	globalIndex   = map[iamv1alpha1.GlobalPermission]int{}
	globalSorted  []int
	globalClosure []GlobalSet
	// AllGlobal is the set of every global permission.
	AllGlobal GlobalSet
)

func init() {
	for i, g := range globalList {
		globalIndex[g] = i
		AllGlobal |= 1 << i
		globalSorted = append(globalSorted, i)
	}
	sort.Slice(globalSorted, func(a, b int) bool { return globalList[globalSorted[a]] < globalList[globalSorted[b]] })
	globalClosure = make([]GlobalSet, len(globalList))
	for i := range globalList {
		globalClosure[i] = 1 << i
	}
	globalClosure[globalIndex[iamv1alpha1.GlobalAdmin]] = AllGlobal
	for from, tos := range globalImplies {
		for _, to := range tos {
			globalClosure[globalIndex[from]] |= 1 << globalIndex[to]
		}
	}
}

// adminBit is the admin global permission as a set.
var adminBit = GlobalSet(1) << 0

// GlobalPermissions returns every global permission in catalogue order.
func GlobalPermissions() []iamv1alpha1.GlobalPermission {
	return append([]iamv1alpha1.GlobalPermission(nil), globalList...)
}

// ValidGlobalPermission reports whether g is a global permission.
func ValidGlobalPermission(g iamv1alpha1.GlobalPermission) bool {
	_, ok := globalIndex[g]
	return ok
}

// ParseGlobal turns global permission names into a set; the error names the
// first unknown one and lists the valid ones.
func ParseGlobal(perms []iamv1alpha1.GlobalPermission) (GlobalSet, error) {
	var s GlobalSet
	for _, g := range perms {
		i, ok := globalIndex[g]
		if !ok {
			valid := make([]string, len(globalList))
			for j, v := range globalList {
				valid[j] = string(v)
			}
			return 0, fmt.Errorf("unknown global permission %q: valid are %s", g, strings.Join(valid, ", "))
		}
		s |= 1 << i
	}
	return s, nil
}

// parseGlobalLenient returns the set of the known names in perms.
func parseGlobalLenient(perms []iamv1alpha1.GlobalPermission) GlobalSet {
	var s GlobalSet
	for _, g := range perms {
		if i, ok := globalIndex[g]; ok {
			s |= 1 << i
		}
	}
	return s
}

// ExpandGlobal returns s with its implications: admin gives every global
// permission; createProjects gives createProjectsFromMacros and
// createProjectsFromTemplates (not createProjectsFromApps).
func ExpandGlobal(s GlobalSet) GlobalSet {
	out := s
	for rest := uint32(s); rest != 0; rest &= rest - 1 {
		out |= globalClosure[bits.TrailingZeros32(rest)]
	}
	return out
}

// GlobalNames returns the names of a set, sorted alphabetically.
func GlobalNames(s GlobalSet) []iamv1alpha1.GlobalPermission {
	if s == 0 {
		return nil
	}
	out := make([]iamv1alpha1.GlobalPermission, 0, bits.OnesCount32(uint32(s)))
	for _, i := range globalSorted {
		if s&(1<<i) != 0 {
			out = append(out, globalList[i])
		}
	}
	return out
}

// Has reports whether s holds g.
func (s GlobalSet) Has(g iamv1alpha1.GlobalPermission) bool {
	i, ok := globalIndex[g]
	return ok && s&(1<<i) != 0
}
