package access

import (
	"strings"
	"testing"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

func TestExplain(t *testing.T) {
	tests := map[string]struct {
		reason      string
		user, ref   string
		wantAccess  bool
		wantRole    iamv1alpha1.Role
		wantUse     ConnectionUse
		wantAsked   int
		wantText    []string // lines of the text, in order
		notWantText []string
	}{
		"no seat": {
			reason: "An inactive user holds no seat, so nothing, whatever Shares say.",
			user:   "zed", ref: "dataset/sales",
			wantText: []string{"zed is in group data.",
				"zed holds no seat (None, Inactive): ",
				"A user without a seat has no permissions at all, so zed can do nothing on dataset/sales."},
			notWantText: []string{"Because:"},
		},
		"no access": {
			user: "a-bob", ref: "dataset/other",
			wantText: []string{"bob is in group data.",
				"bob has no access to dataset/other: no Share or ResourceGrant names bob, its groups or its organization, and no Connection admits it."},
		},
		"Shares combine": {
			reason: "alice is Editor through group data and Owner directly: the most permissive wins.",
			user:   "u1-alice", ref: "dataset/sales",
			wantAccess: true, wantRole: "Owner",
			wantText: []string{"alice is Owner on dataset/sales and holds ",
				"Because:",
				"  - Share sales-alice gives Owner to alice directly.",
				"  - Share sales-team gives Editor to group data.",
				"Shares combine: the most permissive role wins, and permissions add up."},
			notWantText: []string{"caps every role"},
		},
		"capped by the profile": {
			user: "carol", ref: "dataset/sales",
			wantAccess: true, wantRole: "Consumer",
			wantText: []string{"carol is Consumer on dataset/sales and holds ",
				"  - Share sales-carol gives Editor to carol directly.",
				"The profile reader caps every role at Consumer: the role was Editor and is now Consumer; it removed "},
			notWantText: []string{"Shares combine"},
		},
		"a grant gives no role": {
			user: "a-bob", ref: "project/churn",
			wantAccess: true,
			wantText: []string{"bob has no role on project/churn (no Share reaches bob, only ResourceGrant churn-readers) and holds readDashboards and readProjectContent.",
				"  - ResourceGrant churn-readers gives readDashboards and readProjectContent to group data."},
		},
		"no such Connection": {
			reason: "A ResourceGrant names a Connection that does not exist: nobody but administrators can use it.",
			user:   "a-bob", ref: "connection/ghost",
			wantAccess: true, wantUse: UseNoConnection,
			wantText: []string{"No Connection ghost exists in the manifests, so nobody but administrators can use it."},
		},
		"not admitted by usableBy": {
			reason: "dan's Share makes him Editor of pg, but pg's usableBy admits only group data.",
			user:   "dan", ref: "connection/pg",
			wantAccess: true, wantRole: "Editor", wantUse: UseNotAdmitted,
			wantText: []string{"Connection pg's usableBy does not admit dan, so dan cannot use it whatever a Share or grant says."},
		},
		"a Global Connection that admits the user": {
			user: "u1-alice", ref: "connection/pg",
			wantAccess: true, wantUse: UseNothingMore,
			reason: "Two contributions without a role: nothing says Shares combine.",
			wantText: []string{"alice has no role on connection/pg (no Share reaches alice, only ",
				"  - Connection pg's usableBy admits group data to use and view it.",
				"  - ResourceGrant pg-testers gives test to group data."},
			notWantText: []string{"credential", "Shares combine"},
		},
		"PerUser, credential ready": {
			user: "u1-alice", ref: "connection/warehouse",
			wantAccess: true, wantUse: UseReady, wantAsked: 1,
			wantText: []string{"Connection warehouse takes each user's own credential (mode PerUser), and alice's is ready."},
		},
		"PerUser, credential invalid": {
			user: "a-bob", ref: "connection/warehouse",
			wantAccess: true, wantUse: UseInvalid, wantAsked: 1,
			wantText: []string{"But Connection warehouse takes each user's own credential (mode PerUser), and bob has no valid one, so bob cannot use it yet: key password is missing."},
		},
		"PerUser, credential not checked yet": {
			user: "dan", ref: "connection/warehouse",
			wantAccess: true, wantUse: UseUnchecked, wantAsked: 1,
			wantText: []string{"Connection warehouse takes each user's own credential (mode PerUser), and the operator has not yet said whether dan has one (User dan's status.credentials)."},
		},
	}
	snap := queryWorld()
	res := Compute(snap)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			u := res.Users[tc.user]
			if u == nil {
				t.Fatalf("no user %s", tc.user)
			}
			var asked []string
			e := Explain(&snap, u, refOf(tc.ref), queryCredentials(&asked))
			if got := e.Access != nil; got != tc.wantAccess {
				t.Errorf("%s\naccess = %v, want %v", tc.reason, got, tc.wantAccess)
			}
			if e.Access != nil && e.Access.Role != tc.wantRole {
				t.Errorf("%s\nrole = %q, want %q", tc.reason, e.Access.Role, tc.wantRole)
			}
			if e.Use != tc.wantUse {
				t.Errorf("%s\nuse = %q, want %q", tc.reason, e.Use, tc.wantUse)
			}
			if len(asked) != tc.wantAsked {
				t.Errorf("credentials asked: %v, want %d", asked, tc.wantAsked)
			}
			lines, rest := e.Lines("manifests"), 0
			text := strings.Join(lines, "\n")
			for _, l := range lines {
				if strings.Contains(l, "\n") {
					t.Errorf("line %q holds a line end (the caller writes those)", l)
				}
			}
			for _, want := range tc.wantText {
				found := false
				for rest < len(lines) && !found {
					found = strings.HasPrefix(lines[rest], want)
					rest++
				}
				if !found {
					t.Errorf("%s\nno line %q (in order) in:\n%s", tc.reason, want, text)
				}
			}
			for _, not := range tc.notWantText {
				if strings.Contains(text, not) {
					t.Errorf("%s\ntext says %q:\n%s", tc.reason, not, text)
				}
			}
		})
	}
}

// TestExplainSource: where the namespace was read is named where nothing
// was found.
func TestExplainSource(t *testing.T) {
	snap := queryWorld()
	e := Explain(&snap, Compute(snap).Users["a-bob"], refOf("connection/ghost"), nil)
	if got, want := strings.Join(e.Lines("cluster"), "\n"), "No Connection ghost exists in the cluster,"; !strings.Contains(got, want) {
		t.Errorf("text does not say %q:\n%s", want, got)
	}
}
