package access

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// queryWorld is the namespace of the who-can and explain tables: group
// data (alice, bob) shares dataset/sales at Editor, and may use the Global
// Connection pg and the PerUser Connection warehouse, which group ops (dan)
// may use too, and may test pg by a ResourceGrant. carol has the reader profile, zed is inactive. The object
// names sort otherwise than the logins (u1-alice is "alice", a-bob "bob").
func queryWorld() Snapshot {
	named := func(name, login, profile string, groups ...string) iamv1alpha1.User {
		u := user(name, profile, groups...)
		u.Spec.Login = login
		return u
	}
	zed := user("zed", "full", "data")
	zed.Spec.Active = ptr.To(false)
	pg := conn("pg", iamv1alpha1.AudienceGroups, "data")
	pg.Spec.Credentials.Mode = iamv1alpha1.CredentialModeGlobal
	warehouse := conn("warehouse", iamv1alpha1.AudienceGroups, "data", "ops")
	warehouse.Spec.Credentials.Mode = iamv1alpha1.CredentialModePerUser
	return Snapshot{
		Now:     genEpoch,
		License: license(),
		Users: []iamv1alpha1.User{named("u1-alice", "alice", "full", "data"), named("a-bob", "bob", "full", "data"),
			user("carol", "reader"), user("dan", "full", "ops"), zed},
		Groups:      []iamv1alpha1.Group{group("data"), group("ops")},
		Connections: []iamv1alpha1.Connection{pg, warehouse},
		Shares: []iamv1alpha1.Share{
			share("sales-team", "dataset/sales", to("Group", "data", "Editor")),
			share("sales-alice", "dataset/sales", to("User", "u1-alice", "Owner")),
			share("sales-carol", "dataset/sales", to("User", "carol", "Editor")),
			share("pg-dan", "connection/pg", to("User", "dan", "Editor")),
		},
		ResourceGrants: []iamv1alpha1.ResourceGrant{
			grant("churn-readers", "project/churn", []iamv1alpha1.Subject{{Kind: "Group", Name: "data"}}, "readProjectContent"),
			grant("ghost-view", "connection/ghost", []iamv1alpha1.Subject{{Kind: "User", Name: "a-bob"}}, "view"),
			grant("pg-testers", "connection/pg", []iamv1alpha1.Subject{{Kind: "Group", Name: "data"}}, "test"),
		},
	}
}

// queryCredentials is what is known of the users' own credentials for
// warehouse: alice's is ready, bob's invalid, nothing of dan's. It records
// whom it was asked about.
func queryCredentials(asked *[]string) CredentialLookup {
	return func(conn *iamv1alpha1.Connection, user string) (iamv1alpha1.CredentialStatus, bool) {
		*asked = append(*asked, conn.Name+"/"+user)
		switch user {
		case "u1-alice":
			return iamv1alpha1.CredentialStatus{Connection: conn.Name, Ready: true}, true
		case "a-bob":
			return iamv1alpha1.CredentialStatus{Connection: conn.Name, Reason: "Invalid", Message: "key password is missing."}, true
		}
		return iamv1alpha1.CredentialStatus{Connection: conn.Name}, false
	}
}

func TestWhoCan(t *testing.T) {
	type row struct {
		Login, Name string
		Role        iamv1alpha1.Role
		Ready       bool
		Known       bool
	}
	tests := map[string]struct {
		reason string
		perm   iamv1alpha1.Permission
		ref    string
		// holders and blocked by login; blocked nil unless the question is
		// use of a PerUser Connection.
		holders, blocked []row
		asked            []string
	}{
		"a permission every role holds": {
			reason:  "Every user a Share reaches is listed, sorted by login (not by object name), with its role after the profile's cap.",
			perm:    "viewMetadata",
			ref:     "dataset/sales",
			holders: []row{{Login: "alice", Name: "u1-alice", Role: "Owner"}, {Login: "bob", Name: "a-bob", Role: "Editor"}, {Login: "carol", Name: "carol", Role: "Consumer"}},
		},
		"a permission the cap removed": {
			reason:  "carol's Editor share is capped at Consumer by the reader profile, which removes modifyMetadata.",
			perm:    "modifyMetadata",
			ref:     "dataset/sales",
			holders: []row{{Login: "alice", Name: "u1-alice", Role: "Owner"}, {Login: "bob", Name: "a-bob", Role: "Editor"}},
		},
		"nobody": {
			reason:  "The holders are an empty list, not nil, so that JSON prints [].",
			perm:    "viewMetadata",
			ref:     "dataset/other",
			holders: []row{},
		},
		"the inactive user holds nothing": {
			reason:  "zed is in group data but holds no seat.",
			perm:    "readProjectContent",
			ref:     "project/churn",
			holders: []row{{Login: "alice", Name: "u1-alice"}, {Login: "bob", Name: "a-bob"}},
		},
		"use of a Global Connection asks for no credential": {
			reason:  "usableBy admits group data; dan's Share gives Editor but never use.",
			perm:    "use",
			ref:     "connection/pg",
			holders: []row{{Login: "alice", Name: "u1-alice"}, {Login: "bob", Name: "a-bob"}},
		},
		"use of a PerUser Connection needs the user's own credential": {
			reason:  "Only alice's credential is ready: bob's is invalid and nothing is known of dan's, so they are listed apart.",
			perm:    "use",
			ref:     "connection/warehouse",
			holders: []row{{Login: "alice", Name: "u1-alice", Ready: true, Known: true}},
			blocked: []row{{Login: "bob", Name: "a-bob", Known: true}, {Login: "dan", Name: "dan"}},
			asked:   []string{"warehouse/u1-alice", "warehouse/a-bob", "warehouse/dan"},
		},
		"view of a PerUser Connection asks for no credential": {
			reason:  "A credential is needed to use the Connection, not to view it.",
			perm:    "view",
			ref:     "connection/warehouse",
			holders: []row{{Login: "alice", Name: "u1-alice"}, {Login: "bob", Name: "a-bob"}, {Login: "dan", Name: "dan"}},
		},
	}
	snap := queryWorld()
	res := Compute(snap)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ref := refOf(tc.ref)
			var asked []string
			holders, blocked := WhoCan(&snap, res, tc.perm, ref, queryCredentials(&asked))
			rows := func(hs []Holder) []row {
				if hs == nil {
					return nil
				}
				out := []row{}
				for _, h := range hs {
					r := row{Login: h.Login, Name: h.Name, Role: h.Role}
					if h.Credential != nil {
						r.Ready, r.Known = h.Credential.Ready, *h.Known
					}
					if len(h.Via) == 0 {
						t.Errorf("%s holds %s on %s through nothing", h.Login, tc.perm, ref)
					}
					out = append(out, r)
				}
				return out
			}
			if diff := cmp.Diff(tc.holders, rows(holders)); diff != "" {
				t.Errorf("%s\nholders (-want +got):\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.blocked, rows(blocked)); diff != "" {
				t.Errorf("%s\nblocked (-want +got):\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.asked, asked); diff != "" {
				t.Errorf("%s\ncredentials asked (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

// TestWhoCanEveryCredentialReady: for use of a PerUser Connection, the
// users admitted without a credential are an empty list, not nil, when
// every credential is ready: the question was asked, and JSON says so.
func TestWhoCanEveryCredentialReady(t *testing.T) {
	snap := queryWorld()
	ready := func(conn *iamv1alpha1.Connection, _ string) (iamv1alpha1.CredentialStatus, bool) {
		return iamv1alpha1.CredentialStatus{Connection: conn.Name, Ready: true}, true
	}
	holders, blocked := WhoCan(&snap, Compute(snap), "use", refOf("connection/warehouse"), ready)
	if len(holders) != 3 || blocked == nil || len(blocked) != 0 {
		t.Errorf("holders %d, blocked %#v; want 3 holders and an empty, non-nil blocked", len(holders), blocked)
	}
}

func TestUserByLogin(t *testing.T) {
	res := Compute(queryWorld())
	for login, want := range map[string]string{"alice": "u1-alice", "u1-alice": "u1-alice", "carol": "carol", "mallory": ""} {
		got := ""
		if u := UserByLogin(res, login); u != nil {
			got = u.Name
		}
		if got != want {
			t.Errorf("UserByLogin(%q) = %q, want %q", login, got, want)
		}
	}
}

func TestDescribeVia(t *testing.T) {
	tests := map[string]struct {
		via  iamv1alpha1.AccessVia
		want string
	}{
		"share to the user":    {iamv1alpha1.AccessVia{Kind: iamv1alpha1.ViaShare, Name: "s", Subject: "user", Role: "Editor"}, "Share s gives Editor to kim directly"},
		"share to a group":     {iamv1alpha1.AccessVia{Kind: iamv1alpha1.ViaShare, Name: "s", Subject: "group/data", Role: "Consumer"}, "Share s gives Consumer to group data"},
		"share to everyone":    {iamv1alpha1.AccessVia{Kind: iamv1alpha1.ViaShare, Name: "s", Subject: "organization/acme", Role: "Consumer"}, "Share s gives Consumer to organization acme"},
		"grant of nothing":     {iamv1alpha1.AccessVia{Kind: iamv1alpha1.ViaResourceGrant, Name: "g", Subject: "user"}, "ResourceGrant g gives nothing to kim directly"},
		"grant of two":         {iamv1alpha1.AccessVia{Kind: iamv1alpha1.ViaResourceGrant, Name: "g", Subject: "group/ops", Permissions: p("use", "view")}, "ResourceGrant g gives use and view to group ops"},
		"usableBy All":         {iamv1alpha1.AccessVia{Kind: iamv1alpha1.ViaConnection, Name: "pg", Permissions: p("use", "view")}, "Connection pg's usableBy admits every user to use and view it"},
		"admin":                {iamv1alpha1.AccessVia{Kind: iamv1alpha1.ViaAdmin, Name: "admins"}, "admin through group admins gives Owner"},
		"a kind of the future": {iamv1alpha1.AccessVia{Kind: "Policy", Name: "p1"}, "Policy p1"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := DescribeVia(tc.via, "kim"); got != tc.want {
				t.Errorf("DescribeVia = %q, want %q", got, tc.want)
			}
		})
	}
}

// refOf parses TYPE/NAME.
func refOf(s string) iamv1alpha1.ResourceRef {
	t, n, _ := strings.Cut(s, "/")
	return iamv1alpha1.ResourceRef{Type: iamv1alpha1.ResourceType(t), Name: n}
}
