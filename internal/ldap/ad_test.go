package ldap_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/ldap"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/adtest"
)

// The Active Directory tests run against a real Samba AD domain controller
// (adtest.Start) seeded with adtest's fixture, reading it as a Directory
// with only schema ActiveDirectory and the domain root would.

func adConfig(s *adtest.Server) ldap.Config {
	return ldap.Config{
		URL: s.URL, CABundle: s.CA.CertPEM, CASource: `Secret "ad-ca" key "ca.crt"`,
		BindDN: adtest.AdminDN, BindPassword: adtest.AdminPassword,
		BindPasswordSource: `Secret "ad-bind" key "password"`, Timeout: 20 * time.Second,
	}
}

func adQuery() ldap.Query {
	return ldap.Query{
		Schema: ldap.SchemaActiveDirectory,
		Users:  ldap.UserQuery{BaseDN: adtest.BaseDN},
		Groups: &ldap.GroupQuery{BaseDN: adtest.BaseDN},
	}
}

// adMemberships are the fixture's enabled people with their groups (by
// name, D: direct, N: nested) in the fixture's groups and Domain Users,
// sorted by DN as a snapshot sorts them.
var adMemberships = map[string][]string{
	"alice.archer": {"D:Domain Users", "D:Engineering"},
	"bob.brown":    {"D:Backend", "D:Domain Users", "N:Engineering"},
	"carol":        {"D:Domain Users", "D:Sales"},
	"dave.davis":   {"D:Contractors", "D:Domain Users", "N:Partners"},
	"eve.o'neil":   {"D:Domain Users", "D:Sales"},
	"frank-nomail": {"D:Domain Users", "D:Sales"},
	// Her only group is her primary group, which does not list her, and
	// Partners, which nests it.
	"grace.hopper": {"D:Contractors", "N:Partners"},
	// Domain Users, his primary group, lists nobody.
	"heidi": {"D:Domain Users"},
	// Two levels below Engineering.
	"ivan.ivanov": {"N:Backend", "D:Databases", "D:Domain Users", "N:Engineering"},
	"jdoe":        {"D:Domain Users", "D:Sales"},
}

func TestActiveDirectoryRead(t *testing.T) {
	t.Parallel()
	s := adtest.Start(t)
	c := dial(t, adConfig(s))
	snap := read(t, c, adQuery())

	// Exactly the enabled people: no computer (WS01$, SRV-DB$), no disabled
	// account (Mallory.Off, oscar, Peggy.Gone), no built-in account
	// (Administrator, Guest, krbtgt, dns-dc1); logins in lower case.
	want := map[string][]string{}
	for login, groups := range adMemberships {
		want[login] = groups
	}
	got := memberships(snap)
	for login, groups := range got {
		got[login] = onlyFixtureGroups(groups)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("users and groups (-want +got):\n%s", diff)
	}
	if len(snap.Skipped) != 0 {
		t.Errorf("skipped %v, want none", snap.Skipped)
	}

	byLogin := map[string]ldap.User{}
	for _, u := range snap.Users {
		byLogin[u.Login] = u
	}
	for login, want := range map[string][2]string{
		"alice.archer": {"Alice Archer", "alice.archer@gatehouse.test"},
		"dave.davis":   {"Dave Davis", "Dave.Davis@Gatehouse.test"},
		"frank-nomail": {"Frank Fischer", ""},
		"eve.o'neil":   {"Eve O'Neil", "eve@gatehouse.test"},
	} {
		u := byLogin[login]
		if u.DisplayName != want[0] || u.Email != want[1] {
			t.Errorf("%s: name %q, e-mail %q; want %q, %q", login, u.DisplayName, u.Email, want[0], want[1])
		}
	}

	groups := map[string]ldap.Group{}
	for _, g := range snap.Groups {
		groups[g.Name] = g
	}
	// Domain Users lists no one: its members are those whose primaryGroupID
	// is its RID, Grace.Hopper not among them.
	if diff := cmp.Diff([]string{"alice.archer", "bob.brown", "carol", "dave.davis", "eve.o'neil", "frank-nomail", "heidi", "ivan.ivanov", "jdoe"},
		groups["Domain Users"].Users); diff != "" {
		t.Errorf("Domain Users members (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"dave.davis", "grace.hopper"}, groups["Contractors"].Users); diff != "" {
		t.Errorf("Contractors members (-want +got):\n%s", diff)
	}
	// Databases lists a disabled user and a computer, which are not users.
	if got := groups["Databases"]; got.MemberCount != 3 || !cmp.Equal(got.Users, []string{"ivan.ivanov"}) {
		t.Errorf("Databases: %d members, users %v; want 3 members, users [ivan.ivanov]", got.MemberCount, got.Users)
	}
}

// onlyFixtureGroups keeps the groups of the fixture and Domain Users: the
// domain's other built-in groups are left out of the comparison.
func onlyFixtureGroups(groups []string) []string {
	keep := map[string]bool{"Domain Users": true}
	for _, g := range adtest.Groups {
		keep[g.CN] = true
	}
	out := []string{}
	for _, g := range groups {
		if keep[g[2:]] {
			out = append(out, g)
		}
	}
	return out
}

func TestActiveDirectoryLookup(t *testing.T) {
	t.Parallel()
	s := adtest.Start(t)
	c := dial(t, adConfig(s))
	ctx := context.Background()
	for login := range adMemberships {
		u, err := ldap.Lookup(ctx, c, adQuery(), login)
		if err != nil {
			t.Errorf("Lookup(%s): %v", login, err)
			continue
		}
		got := []string{}
		for _, g := range u.Groups {
			kind := "N:"
			if g.Direct {
				kind = "D:"
			}
			got = append(got, kind+g.Name)
		}
		if diff := cmp.Diff(adMemberships[login], onlyFixtureGroups(got)); diff != "" || u.Login != login {
			t.Errorf("Lookup(%s): login %s, groups (-want +got):\n%s", login, u.Login, diff)
		}
	}
	// Logins compare case-insensitively; the User's is the lower-case one.
	if u, err := ldap.Lookup(ctx, c, adQuery(), "Bob.Brown"); err != nil || u.Login != "bob.brown" {
		t.Errorf("Lookup(Bob.Brown) = %+v, %v; want login bob.brown", u, err)
	}
	for _, login := range []string{"mallory.off", "oscar", "WS01$", "Administrator", "krbtgt", "Guest"} {
		if _, err := ldap.Lookup(ctx, c, adQuery(), login); !errors.Is(err, ldap.ErrNotFound) {
			t.Errorf("Lookup(%s) = %v, want not found: a disabled, computer or built-in account", login, err)
		}
	}
}

// TestActiveDirectoryUserPrincipalName: an explicit loginAttributes
// overrides the preset's sAMAccountName; the rest of the preset stays.
func TestActiveDirectoryUserPrincipalName(t *testing.T) {
	t.Parallel()
	s := adtest.Start(t)
	c := dial(t, adConfig(s))
	q := adQuery()
	q.Users.LoginAttributes = []string{"userPrincipalName"}
	snap := read(t, c, q)
	want := []string{"alice@gatehouse.test", "bob.brown@gatehouse.test", "carol@gatehouse.test", "dave.davis@gatehouse.test",
		"eve.o'neil@gatehouse.test", "frank-nomail@gatehouse.test", "grace.hopper@gatehouse.test", "heidi@gatehouse.test",
		"ivan.ivanov@gatehouse.test", "judy.doe@gatehouse.test"}
	if diff := cmp.Diff(want, logins(snap)); diff != "" {
		t.Errorf("logins (-want +got):\n%s", diff)
	}
}
