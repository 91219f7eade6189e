package access

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/builders"
)

// Small builders for readable scenarios.

// user is a User created at genEpoch, by value as a Snapshot holds it.
func user(name, profile string, groups ...string) iamv1alpha1.User {
	u := builders.User("", name, profile, groups...)
	u.CreationTimestamp = metav1.NewTime(genEpoch)
	return *u
}

func group(name string, global ...iamv1alpha1.GlobalPermission) iamv1alpha1.Group {
	return iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: iamv1alpha1.GroupSpec{GlobalPermissions: global}}
}

func share(name string, res string, grantees ...iamv1alpha1.Grantee) iamv1alpha1.Share {
	t, n, _ := strings.Cut(res, "/")
	return iamv1alpha1.Share{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: iamv1alpha1.ShareSpec{Resource: iamv1alpha1.ResourceRef{Type: iamv1alpha1.ResourceType(t), Name: n}, Grantees: grantees}}
}

func to(kind iamv1alpha1.GranteeKind, name string, role iamv1alpha1.Role) iamv1alpha1.Grantee {
	return iamv1alpha1.Grantee{Kind: kind, Name: name, Role: role}
}

func withData(g iamv1alpha1.Grantee) iamv1alpha1.Grantee { g.CanUseData = true; return g }

func grant(name, res string, subjects []iamv1alpha1.Subject, perms ...string) iamv1alpha1.ResourceGrant {
	t, n, _ := strings.Cut(res, "/")
	return iamv1alpha1.ResourceGrant{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: iamv1alpha1.ResourceGrantSpec{Resource: iamv1alpha1.ResourceRef{Type: iamv1alpha1.ResourceType(t), Name: n}, Subjects: subjects, Permissions: p(perms...)}}
}

func conn(name string, mode iamv1alpha1.AudienceMode, groups ...string) iamv1alpha1.Connection {
	c := iamv1alpha1.Connection{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: iamv1alpha1.ConnectionSpec{Type: "PostgreSQL"}}
	if mode != "" {
		c.Spec.UsableBy = &iamv1alpha1.Audience{Mode: mode, Groups: groups}
	}
	return c
}

// license has a full profile (Owner, all globals, 10 seats), a reader
// (Consumer, none) and an editor (Editor, createProjects only).
func license() *iamv1alpha1.License {
	return &iamv1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: "license"}, Spec: iamv1alpha1.LicenseSpec{Profiles: []iamv1alpha1.Profile{
		{Name: "full", Seats: 10},
		{Name: "reader", Seats: 10, MaxRole: "Consumer", GlobalPermissions: []iamv1alpha1.GlobalPermission{}},
		{Name: "editor", Seats: 10, MaxRole: "Editor", GlobalPermissions: []iamv1alpha1.GlobalPermission{"createProjects", "createProjectsFromTemplates"}},
	}}}
}

func TestComputeResources(t *testing.T) {
	tests := map[string]struct {
		snap Snapshot
		user string
		want []iamv1alpha1.ResourceAccess
	}{
		"share to a group at Editor": {
			snap: Snapshot{Users: []iamv1alpha1.User{user("alice", "full", "data")}, Groups: []iamv1alpha1.Group{group("data")},
				Shares: []iamv1alpha1.Share{share("sales-team", "dataset/sales", to("Group", "data", "Editor"))}},
			user: "alice",
			want: []iamv1alpha1.ResourceAccess{{Type: "dataset", Name: "sales", Role: "Editor", Permissions: p("modifyMetadata", "viewMetadata"),
				Via: []iamv1alpha1.AccessVia{{Kind: "Share", Name: "sales-team", Subject: "group/data", Role: "Editor"}}}},
		},
		"reader profile caps Editor at Consumer and removes modifyMetadata": {
			snap: Snapshot{Users: []iamv1alpha1.User{user("alice", "reader", "data")}, Groups: []iamv1alpha1.Group{group("data")},
				Shares: []iamv1alpha1.Share{share("sales-team", "dataset/sales", to("Group", "data", "Editor"))}},
			user: "alice",
			want: []iamv1alpha1.ResourceAccess{{Type: "dataset", Name: "sales", Role: "Consumer", Permissions: p("viewMetadata"),
				Via:      []iamv1alpha1.AccessVia{{Kind: "Share", Name: "sales-team", Subject: "group/data", Role: "Editor"}},
				CappedBy: &iamv1alpha1.AccessCap{Profile: "reader", MaxRole: "Consumer", RoleBefore: "Editor", Removed: p("modifyMetadata")}}},
		},
		"reader shared as Owner keeps data access (cap is CA)": {
			snap: Snapshot{Users: []iamv1alpha1.User{user("alice", "reader")},
				Shares: []iamv1alpha1.Share{share("s", "dataset/sales", to("User", "alice", "Owner"))}},
			user: "alice",
			want: []iamv1alpha1.ResourceAccess{{Type: "dataset", Name: "sales", Role: "Consumer",
				Permissions: p("downloadDataSample", "downloadDataset", "useForCustomModelTraining", "useForPredictions", "useForProjectCreation", "viewMetadata", "viewSampleData"),
				Via:         []iamv1alpha1.AccessVia{{Kind: "Share", Name: "s", Subject: "user", Role: "Owner"}},
				CappedBy: &iamv1alpha1.AccessCap{Profile: "reader", MaxRole: "Consumer", RoleBefore: "Owner",
					Removed: p("createVersion", "delete", "modifyMetadata", "reload")}}},
		},
		"canUseData makes Consumer CA": {
			snap: Snapshot{Users: []iamv1alpha1.User{user("alice", "full")},
				Shares: []iamv1alpha1.Share{share("s", "dataset/sales", withData(to("User", "alice", "Consumer")))}},
			user: "alice",
			want: []iamv1alpha1.ResourceAccess{{Type: "dataset", Name: "sales", Role: "Consumer",
				Permissions: p("downloadDataSample", "downloadDataset", "useForCustomModelTraining", "useForPredictions", "useForProjectCreation", "viewMetadata", "viewSampleData"),
				Via:         []iamv1alpha1.AccessVia{{Kind: "Share", Name: "s", Subject: "user", Role: "Consumer"}}}},
		},
		"shares are cumulative: CA from the organization and E from a group is CA ∪ E, not EA": {
			snap: Snapshot{Users: []iamv1alpha1.User{func() iamv1alpha1.User { u := user("alice", "full", "data"); u.Spec.Organization = "acme"; return u }()},
				Groups: []iamv1alpha1.Group{group("data")},
				Shares: []iamv1alpha1.Share{
					share("org", "dataset/sales", withData(to("Organization", "acme", "Consumer"))),
					share("team", "dataset/sales", to("Group", "data", "Editor")),
				}},
			user: "alice",
			want: []iamv1alpha1.ResourceAccess{{Type: "dataset", Name: "sales", Role: "Editor",
				Permissions: p("downloadDataSample", "downloadDataset", "modifyMetadata", "useForCustomModelTraining", "useForPredictions", "useForProjectCreation", "viewMetadata", "viewSampleData"),
				Via: []iamv1alpha1.AccessVia{
					{Kind: "Share", Name: "org", Subject: "organization/acme", Role: "Consumer"},
					{Kind: "Share", Name: "team", Subject: "group/data", Role: "Editor"},
				}}},
		},
		"grant with implications has no role": {
			snap: Snapshot{Users: []iamv1alpha1.User{user("alice", "full", "data")}, Groups: []iamv1alpha1.Group{group("data")},
				ResourceGrants: []iamv1alpha1.ResourceGrant{grant("churn-writers", "project/churn", []iamv1alpha1.Subject{{Kind: "Group", Name: "data"}}, "writeProjectContent")}},
			user: "alice",
			want: []iamv1alpha1.ResourceAccess{{Type: "project", Name: "churn",
				Permissions: p("readDashboards", "readProjectContent", "runScenarios", "writeDashboards", "writeProjectContent"),
				Via: []iamv1alpha1.AccessVia{{Kind: "ResourceGrant", Name: "churn-writers", Subject: "group/data",
					Permissions: p("readDashboards", "readProjectContent", "runScenarios", "writeDashboards", "writeProjectContent")}}}},
		},
		"a grant with an unknown permission gives nothing": {
			snap: Snapshot{Users: []iamv1alpha1.User{user("alice", "full")},
				ResourceGrants: []iamv1alpha1.ResourceGrant{grant("g", "project/churn", []iamv1alpha1.Subject{{Kind: "User", Name: "alice"}}, "readProjectContent", "fly")}},
			user: "alice",
		},
		"usableBy admits a group to view and use": {
			snap: Snapshot{Users: []iamv1alpha1.User{user("alice", "full", "data")}, Groups: []iamv1alpha1.Group{group("data")},
				Connections: []iamv1alpha1.Connection{conn("pg", "Groups", "data")}},
			user: "alice",
			want: []iamv1alpha1.ResourceAccess{{Type: "connection", Name: "pg", Permissions: p("use", "view"),
				Via: []iamv1alpha1.AccessVia{{Kind: "Connection", Name: "pg", Subject: "group/data", Permissions: p("use", "view")}}}},
		},
		"an Owner share does not give use on a connection usableBy does not admit": {
			snap: Snapshot{Users: []iamv1alpha1.User{user("alice", "full")},
				Connections: []iamv1alpha1.Connection{conn("pg", "")},
				Shares:      []iamv1alpha1.Share{share("s", "connection/pg", to("User", "alice", "Owner"))}},
			user: "alice",
			want: []iamv1alpha1.ResourceAccess{{Type: "connection", Name: "pg", Role: "Owner",
				Permissions: p("createDataSources", "delete", "edit", "listSchemasAndTables", "test", "view"),
				Via:         []iamv1alpha1.AccessVia{{Kind: "Share", Name: "s", Subject: "user", Role: "Owner"}}}},
		},
		"admin is Owner on every resource the namespace names": {
			snap: Snapshot{Users: []iamv1alpha1.User{user("root", "full", "admins")}, Groups: []iamv1alpha1.Group{group("admins", "admin")},
				Connections:    []iamv1alpha1.Connection{conn("pg", "")},
				Shares:         []iamv1alpha1.Share{share("s", "environment/py", to("User", "bob", "Consumer"))},
				ResourceGrants: []iamv1alpha1.ResourceGrant{grant("g", "codeEnv/gpu", []iamv1alpha1.Subject{{Kind: "User", Name: "bob"}}, "use")}},
			user: "root",
			want: []iamv1alpha1.ResourceAccess{
				{Type: "codeEnv", Name: "gpu", Role: "Owner", Permissions: p("manageUsers", "update", "use"),
					Via: []iamv1alpha1.AccessVia{{Kind: "Admin", Name: "admins", Subject: "group/admins", Role: "Owner"}}},
				{Type: "connection", Name: "pg", Role: "Owner", Permissions: p("createDataSources", "delete", "edit", "listSchemasAndTables", "test", "use", "view"),
					Via: []iamv1alpha1.AccessVia{{Kind: "Admin", Name: "admins", Subject: "group/admins", Role: "Owner"}}},
				{Type: "environment", Name: "py", Role: "Owner", Permissions: p("delete", "updateMetadataAndVersions", "useAndView"),
					Via: []iamv1alpha1.AccessVia{{Kind: "Admin", Name: "admins", Subject: "group/admins", Role: "Owner"}}},
			},
		},
		"editor profile on an environment caps at Consumer": {
			snap: Snapshot{Users: []iamv1alpha1.User{user("alice", "editor")},
				Shares: []iamv1alpha1.Share{share("s", "environment/py", to("User", "alice", "Owner"))}},
			user: "alice",
			want: []iamv1alpha1.ResourceAccess{{Type: "environment", Name: "py", Role: "Consumer", Permissions: p("useAndView"),
				Via:      []iamv1alpha1.AccessVia{{Kind: "Share", Name: "s", Subject: "user", Role: "Owner"}},
				CappedBy: &iamv1alpha1.AccessCap{Profile: "editor", MaxRole: "Editor", RoleBefore: "Owner", Removed: p("delete", "updateMetadataAndVersions")}}},
		},
		"Editor on an environment is invalid and gives nothing": {
			snap: Snapshot{Users: []iamv1alpha1.User{user("alice", "full")},
				Shares: []iamv1alpha1.Share{share("s", "environment/py", to("User", "alice", "Editor"))}},
			user: "alice",
		},
		"most permissive share wins and every contribution is listed": {
			snap: Snapshot{Users: []iamv1alpha1.User{user("alice", "full", "data")}, Groups: []iamv1alpha1.Group{group("data")},
				Shares: []iamv1alpha1.Share{share("s", "deployment/scoring", to("User", "alice", "Consumer"), to("Group", "data", "Owner"))}},
			user: "alice",
			want: []iamv1alpha1.ResourceAccess{{Type: "deployment", Name: "scoring", Role: "Owner",
				Permissions: p("addUser", "changePermissionLevels", "consumePredictions", "delete", "editMetadata", "getDataViaAPI", "removeUsers", "replaceModel", "viewInInventory"),
				Via: []iamv1alpha1.AccessVia{
					{Kind: "Share", Name: "s", Subject: "group/data", Role: "Owner"},
					{Kind: "Share", Name: "s", Subject: "user", Role: "Consumer"},
				}}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.snap.License = license()
			got := Compute(tc.snap).Users[tc.user]
			if diff := cmp.Diff(tc.want, got.Resources); diff != "" {
				t.Errorf("resources (-want +got):\n%s", diff)
			}
		})
	}
}

func TestComputeSeatsAndGlobals(t *testing.T) {
	at := func(u iamv1alpha1.User, h int) iamv1alpha1.User {
		u.CreationTimestamp = metav1.NewTime(genEpoch.Add(time.Duration(h) * time.Hour))
		return u
	}
	inactive := user("ivan", "full", "data")
	f := false
	inactive.Spec.Active = &f
	// A User a Directory synced and deactivated.
	left := user("lena", "full")
	left.Spec.Active, left.Spec.Source, left.Spec.Directory = &f, iamv1alpha1.UserSourceLDAP, "corp"
	left.Labels = map[string]string{iamv1alpha1.LabelDirectory: "corp"}
	small := license()
	small.Spec.Profiles[0].Seats = 2
	expired := license()
	expired.Spec.ExpiresAt = &metav1.Time{Time: genEpoch}

	type want struct {
		Groups  []string
		Unknown []string
		Seat    iamv1alpha1.SeatState
		Reason  string
		Global  []iamv1alpha1.GlobalPermission
		Message string // a substring of the message
	}
	tests := map[string]struct {
		license *iamv1alpha1.License
		users   []iamv1alpha1.User
		groups  []iamv1alpha1.Group
		want    map[string]want
	}{
		"seats go in order of creation, then name": {
			license: small,
			users:   []iamv1alpha1.User{at(user("zed", "full"), 0), at(user("bob", "full"), 1), at(user("amy", "full"), 1), at(inactive, 0), at(left, 0)},
			want: map[string]want{
				"zed":  {Seat: "Granted", Reason: "SeatGranted", Message: "zed holds a seat of profile full."},
				"amy":  {Seat: "Granted", Reason: "SeatGranted"},
				"bob":  {Seat: "Pending", Reason: "SeatLimitReached", Message: "All 2 seats of profile full are taken; bob waits"},
				"ivan": {Seat: "None", Reason: "Inactive", Groups: nil, Unknown: []string{"data"}, Message: "set spec.active to true"},
				"lena": {Seat: "None", Reason: "Inactive", Message: "It comes from Directory corp: if the directory deactivated it (its entry left the directory or no longer matches the users filter), put the user back into the directory"},
			},
		},
		"no License": {
			users: []iamv1alpha1.User{user("amy", "full")},
			want:  map[string]want{"amy": {Seat: "None", Reason: "NoLicense", Message: "apply a License"}},
		},
		"expired License": {
			license: expired,
			users:   []iamv1alpha1.User{user("amy", "full")},
			want:    map[string]want{"amy": {Seat: "None", Reason: "LicenseExpired", Message: "expired at 2026-01-01T00:00:00Z"}},
		},
		"unknown and empty profiles": {
			license: license(),
			users:   []iamv1alpha1.User{user("amy", "designer"), user("bob", "")},
			want: map[string]want{
				"amy": {Seat: "None", Reason: "ProfileUnknown", Message: `Profile "designer" is not in the License; set spec.profile to one of full, reader, editor`},
				"bob": {Seat: "None", Reason: "ProfileUnknown", Message: "bob has no profile; set spec.profile to one of the License's profiles: full, reader, editor."},
			},
		},
		"global permissions: union, within the profile, implications within the profile": {
			license: license(),
			users: []iamv1alpha1.User{user("amy", "full", "makers", "coders", "nope"), user("bob", "editor", "makers", "coders"),
				user("cid", "reader", "makers")},
			groups: []iamv1alpha1.Group{group("makers", "createProjects"), group("coders", "writeUnisolatedCode")},
			want: map[string]want{
				"amy": {Seat: "Granted", Reason: "SeatGranted", Groups: []string{"coders", "makers"}, Unknown: []string{"nope"},
					Global: []iamv1alpha1.GlobalPermission{"createProjects", "createProjectsFromMacros", "createProjectsFromTemplates", "writeUnisolatedCode"}},
				"bob": {Seat: "Granted", Reason: "SeatGranted", Groups: []string{"coders", "makers"},
					Global: []iamv1alpha1.GlobalPermission{"createProjects", "createProjectsFromTemplates"}},
				"cid": {Seat: "Granted", Reason: "SeatGranted", Groups: []string{"makers"}},
			},
		},
		"directory groups map case- and space-insensitively": {
			license: license(),
			users: []iamv1alpha1.User{func() iamv1alpha1.User {
				u := user("amy", "full")
				u.Spec.DirectoryGroups = []string{"CN=Data Scientists , OU=Groups, DC=Corp"}
				return u
			}()},
			groups: []iamv1alpha1.Group{func() iamv1alpha1.Group {
				g := group("data", "admin")
				g.Spec.LDAPGroups = []string{"cn=data  scientists,ou=groups,dc=corp"}
				return g
			}()},
			want: map[string]want{"amy": {Seat: "Granted", Reason: "SeatGranted", Groups: []string{"data"}, Global: GlobalNames(AllGlobal)}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res := Compute(Snapshot{Now: genEpoch, License: tc.license, Users: tc.users, Groups: tc.groups})
			for u, w := range tc.want {
				r := res.Users[u]
				got := want{Groups: r.Groups, Unknown: r.UnknownGroups, Seat: r.Seat, Reason: r.SeatReason, Global: r.GlobalPermissions, Message: w.Message}
				if !strings.Contains(r.SeatMessage, w.Message) {
					t.Errorf("%s: message %q does not contain %q", u, r.SeatMessage, w.Message)
				}
				if diff := cmp.Diff(w, got); diff != "" {
					t.Errorf("%s (-want +got):\n%s", u, diff)
				}
			}
		})
	}
}

func TestProfilesStatus(t *testing.T) {
	l := license()
	l.Spec.Profiles[1].Seats = 1
	users := []iamv1alpha1.User{user("a", "reader"), user("b", "reader"), user("c", "reader"), user("d", "full")}
	got := Compute(Snapshot{License: l, Users: users}).Profiles
	want := []iamv1alpha1.ProfileStatus{{Name: "full", Seats: 10, Used: 1}, {Name: "reader", Seats: 1, Used: 1, Pending: 2}, {Name: "editor", Seats: 10}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("profiles (-want +got):\n%s", diff)
	}
}

func TestReports(t *testing.T) {
	org := user("bob", "full", "data")
	org.Spec.Organization = "acme"
	snap := Snapshot{License: license(), Users: []iamv1alpha1.User{user("alice", "full", "data"), org}, Groups: []iamv1alpha1.Group{group("data")},
		Shares: []iamv1alpha1.Share{
			share("good", "dataset/sales", to("Group", "data", "Editor"), to("Organization", "acme", "Consumer")),
			share("bad", "environment/py", to("User", "alice", "Editor"), to("User", "zoe", "Owner"), to("Group", "ghosts", "Owner"), to("Organization", "initech", "Consumer"), to("User", "bob", "Owner")),
			share("weird", "notebook/x", to("User", "alice", "Owner")),
		},
		ResourceGrants: []iamv1alpha1.ResourceGrant{
			grant("typo", "dataset/sales", []iamv1alpha1.Subject{{Kind: "User", Name: "alice"}}, "viewMetadata", "download"),
			grant("fine", "codeEnv/gpu", []iamv1alpha1.Subject{{Kind: "Group", Name: "data"}, {Kind: "User", Name: "alice"}}, "use"),
		},
	}
	res := Compute(snap)
	want := map[string]*ObjectReport{
		"good": {Users: 2},
		"bad": {Users: 1, Problems: []Problem{
			{"UnknownGrantee", `Group "ghosts" does not exist in this namespace: create it or remove it from the list.`},
			{"UnknownGrantee", `No User has organization "initech": set it in a User's spec.organization or remove the grantee.`},
			{"UnknownGrantee", `User "zoe" does not exist in this namespace: create it or remove it from the list.`},
			{"UnknownRole", "User alice gets nothing: environment has no Editor role: use Consumer or Owner."},
		}},
		"weird": {Problems: []Problem{{"InvalidSpec", `The share gives nothing: unknown resource type "notebook": valid are project, dataset, connection, deployment, modelPackage, customModel, environment, application, codeEnv, cluster, containerExecConfig, deployerInfrastructure.`}}},
	}
	if diff := cmp.Diff(want, res.Shares); diff != "" {
		t.Errorf("share reports (-want +got):\n%s", diff)
	}
	wantGrants := map[string]*ObjectReport{
		"typo": {Problems: []Problem{{"UnknownPermission", `The grant gives nothing until this is fixed: unknown permission "download" for dataset: valid are viewMetadata, downloadDataSample, downloadDataset, viewSampleData, useForProjectCreation, useForCustomModelTraining, useForPredictions, modifyMetadata, createVersion, reload, delete.`}}},
		"fine": {Users: 2},
	}
	if diff := cmp.Diff(wantGrants, res.Grants); diff != "" {
		t.Errorf("grant reports (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int32{"data": 2}, res.GroupMembers); diff != "" {
		t.Errorf("group members (-want +got):\n%s", diff)
	}
}

func TestStatusTruncates(t *testing.T) {
	u := &UserResult{Seat: "Granted", SeatReason: "SeatGranted", Resources: make([]iamv1alpha1.ResourceAccess, MaxStatusResources+5)}
	st := u.Status()
	if len(st.Resources) != MaxStatusResources || !st.ResourcesTruncated || st.ResourceCount != MaxStatusResources+5 {
		t.Errorf("status lists %d of %d (truncated %v)", len(st.Resources), st.ResourceCount, st.ResourcesTruncated)
	}
	if len(st.Conditions) != 1 || st.Conditions[0].Status != metav1.ConditionTrue || st.Conditions[0].Type != "Licensed" {
		t.Errorf("conditions = %+v", st.Conditions)
	}
}

func TestGroupReport(t *testing.T) {
	sales := group("sales")
	sales.Spec.LDAPGroups = []string{"CN=Sales, OU=Groups,DC=acme", "cn=ghosts,ou=groups,dc=acme"}
	u := user("alice", "full")
	u.Spec.DirectoryGroups = []string{"cn=sales,ou=groups,dc=acme"}
	// Inactive users, local or through the directory, are not members.
	gone := user("carl", "full", "sales")
	gone.Spec.Active = ptr.To(false)
	left := user("dora", "full")
	left.Spec.DirectoryGroups, left.Spec.Active = []string{"cn=sales,ou=groups,dc=acme"}, ptr.To(false)
	ix := NewIndex(Snapshot{License: license(), Users: []iamv1alpha1.User{u, user("bob", "full", "sales"), gone, left}, Groups: []iamv1alpha1.Group{sales}})
	want := &GroupReport{Members: 2, Inactive: 2, UnmatchedLDAPGroups: []string{"cn=ghosts,ou=groups,dc=acme"}}
	if diff := cmp.Diff(want, ix.GroupReport("sales")); diff != "" {
		t.Errorf("group report (-want +got):\n%s", diff)
	}
	if n := ix.GroupMembers("sales"); n != 2 {
		t.Errorf("GroupMembers = %d, want the 2 active users", n)
	}
	if ix.GroupReport("nobody") != nil {
		t.Error("a group the Index does not hold has a report")
	}
}

// A change of one profile's seats touches only the users whose seat flips
// and that profile's pending users (whose message counts the seats), not
// the other users of the License.
func TestLicenseSeatChangeAffects(t *testing.T) {
	l := license()
	l.Spec.Profiles[0].Seats = 3
	var users []iamv1alpha1.User
	for i, n := range []string{"a", "b", "c", "d", "e"} {
		u := user(n, "full")
		u.CreationTimestamp = metav1.NewTime(genEpoch.Add(time.Duration(i) * time.Second))
		users = append(users, u)
	}
	users = append(users, user("r", "reader"), user("x", "editor"))
	ix := NewIndex(Snapshot{Now: genEpoch, License: l, Users: users})
	shrunk := l.DeepCopy()
	shrunk.Spec.Profiles[0].Seats = 2
	aff, err := ix.Upsert(shrunk)
	if err != nil {
		t.Fatal(err)
	}
	got := aff.Users
	if want := []string{"c", "d", "e"}; !slices.Equal(got, want) {
		t.Errorf("shrinking full from 3 to 2 seats touches %v, want %v (c loses its seat, d and e wait with a new count)", got, want)
	}
	capped := shrunk.DeepCopy()
	capped.Spec.Profiles[1].MaxRole = "Editor"
	if aff, _ := ix.Upsert(capped); !slices.Equal(aff.Users, []string{"r"}) {
		got := aff.Users
		t.Errorf("changing the reader profile's maxRole touches %v, want its user r", got)
	}
}

// TestResourceRanks: resources added after the Index was built get ranks
// between their neighbours', and when a gap runs out every rank is spaced
// out again; a user's resources come out in type-then-name order
// throughout, and removed resources leave the order.
func TestResourceRanks(t *testing.T) {
	s := Snapshot{License: license(), Users: []iamv1alpha1.User{user("ann", "full")},
		Shares: []iamv1alpha1.Share{share("s-a", "dataset/a", to("User", "ann", "Consumer")), share("s-z", "dataset/z", to("User", "ann", "Consumer"))}}
	ix := NewIndex(s)
	check := func(when string, want int) {
		t.Helper()
		for i := 1; i < len(ix.byRank); i++ {
			if a, b := ix.byRank[i-1], ix.byRank[i]; compareRes(a, b) >= 0 || a.rank >= b.rank {
				t.Fatalf("%s: %s (rank %d) before %s (rank %d)", when, a.key.name, a.rank, b.key.name, b.rank)
			}
		}
		if len(ix.byRank) != len(ix.resources) {
			t.Fatalf("%s: %d ranked resources, %d resources", when, len(ix.byRank), len(ix.resources))
		}
		var names []string
		for _, r := range ix.ComputeUser("ann").Resources {
			names = append(names, string(r.Type)+"/"+r.Name)
		}
		if len(names) != want {
			t.Fatalf("%s: ann reaches %d resources, want %d", when, len(names), want)
		}
		if !slices.IsSorted(names) {
			t.Fatalf("%s: resources out of order: %v", when, names)
		}
	}
	check("built", 2)
	// Each new name sorts just after the previous one, between it and
	// dataset/z: the gap halves every time, so it runs out (a renumber)
	// well before 64 insertions.
	name := "a"
	for i := range 64 {
		name += "a"
		if _, err := ix.Upsert(ptrTo(share(fmt.Sprintf("s%d", i), "dataset/"+name, to("User", "ann", "Consumer")))); err != nil {
			t.Fatal(err)
		}
		check(fmt.Sprintf("after %d insertions", i+1), i+3)
	}
	if _, err := ix.Upsert(ptrTo(share("s-b", "project/b", to("User", "ann", "Consumer")))); err != nil {
		t.Fatal(err)
	}
	check("another type", 67)
	for i := range 64 {
		if _, err := ix.Delete(KindShare, fmt.Sprintf("s%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	check("after deletions", 3)
}

func ptrTo[T any](v T) *T { return &v }
