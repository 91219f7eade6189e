package ldap_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/ldap"
	"github.com/gatehouse-dev/gatehouse/internal/ldapdn"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/ldaptest"
)

// The integration tests run against a real OpenLDAP slapd that each test
// starts for itself (ldaptest.Start), in parallel.

func adminConfig(s *ldaptest.Server) ldap.Config {
	return ldap.Config{
		URL: s.URL, BindDN: s.AdminDN, BindPassword: s.AdminPassword,
		BindPasswordSource: `Secret "ldap-bind" key "password"`, Timeout: 10 * time.Second,
	}
}

func dial(t testing.TB, cfg ldap.Config) ldap.Conn {
	t.Helper()
	c, err := ldap.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Dial(%s): %v", cfg.URL, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func read(t *testing.T, c ldap.Conn, q ldap.Query) *ldap.Snapshot {
	t.Helper()
	snap, err := ldap.Read(context.Background(), c, q)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return snap
}

// memberships renders a snapshot as login -> group names (D: direct, N:
// nested), the form the tests compare.
func memberships(snap *ldap.Snapshot) map[string][]string {
	out := map[string][]string{}
	for _, u := range snap.Users {
		groups := []string{}
		for _, g := range u.Groups {
			kind := "N:"
			if g.Direct {
				kind = "D:"
			}
			groups = append(groups, kind+g.Name)
		}
		out[u.Login] = groups
	}
	return out
}

func logins(snap *ldap.Snapshot) []string {
	var out []string
	for _, u := range snap.Users {
		out = append(out, u.Login)
	}
	return out
}

func groupQuery(s *ldaptest.Server, member ldap.MemberAttribute, nested ldap.Nesting, depth int) ldap.Query {
	return ldap.Query{
		Users:  ldap.UserQuery{BaseDN: ldaptest.People(s.Suffix)},
		Groups: &ldap.GroupQuery{BaseDN: ldaptest.Groups(s.Suffix), MemberAttribute: member, Nested: nested, MaxNestingDepth: depth},
	}
}

func TestReadRFC2307(t *testing.T) {
	t.Parallel()
	s := ldaptest.Start(t, ldaptest.RFC2307Tree())
	c := dial(t, adminConfig(s))
	snap := read(t, c, groupQuery(s, ldap.MemberAttributeMemberUID, ldap.NestingNone, 0))

	want := map[string][]string{
		"alice": {"D:developers", "D:everyone"},
		"bob":   {"D:developers", "D:everyone"},
		"carol": {"D:everyone", "D:ops"},
		"dave":  {"D:everyone"},
	}
	if diff := cmp.Diff(want, memberships(snap)); diff != "" {
		t.Errorf("memberships (-want +got):\n%s", diff)
	}
	dave := snap.Users[3]
	if dave.DisplayName != "Dave D." || dave.Email != "dave@example.org" || dave.DN != "uid=dave,ou=people,dc=example,dc=org" {
		t.Errorf("dave = %+v", dave)
	}
	counts := map[string]int{}
	for _, g := range snap.Groups {
		counts[g.Name] = g.MemberCount
	}
	if diff := cmp.Diff(map[string]int{"developers": 2, "ops": 2, "everyone": 4, "empty": 0}, counts); diff != "" {
		t.Errorf("member counts (-want +got):\n%s", diff)
	}
	if len(snap.Skipped) != 1 || !strings.HasPrefix(snap.Skipped[0].DN, "cn=No Login,") {
		t.Errorf("skipped = %+v, want the entry without uid", snap.Skipped)
	}
	if snap.Stats.UserEntries != 5 || snap.Stats.GroupEntries != 4 {
		t.Errorf("stats = %+v", snap.Stats)
	}
}

func TestReadGroupOfNames(t *testing.T) {
	t.Parallel()
	s := ldaptest.Start(t, ldaptest.GroupOfNamesTree())
	c := dial(t, adminConfig(s))

	snap := read(t, c, groupQuery(s, ldap.MemberAttributeMember, ldap.NestingNone, 0))
	want := map[string][]string{
		"ann":    {"D:admins", "D:staff"},
		"ben":    {"D:staff"},
		"cid":    {"D:staff"},
		"jsmith": {"D:admins", "D:staff"},
	}
	if diff := cmp.Diff(want, memberships(snap)); diff != "" {
		t.Errorf("member: memberships (-want +got):\n%s", diff)
	}
	for _, g := range snap.Groups {
		if g.Name == "staff" && g.MemberCount != 5 {
			t.Errorf("staff has %d members, want 5 (the dangling uid=gone counts)", g.MemberCount)
		}
	}

	snap = read(t, c, groupQuery(s, ldap.MemberAttributeUniqueMember, ldap.NestingNone, 0))
	want = map[string][]string{"ann": {}, "ben": {"D:auditors"}, "cid": {"D:auditors"}, "jsmith": {}}
	if diff := cmp.Diff(want, memberships(snap)); diff != "" {
		t.Errorf("uniqueMember: memberships (-want +got):\n%s", diff)
	}
}

func TestReadNestedRecursive(t *testing.T) {
	t.Parallel()
	s := ldaptest.Start(t, ldaptest.NestedTree())
	c := dial(t, adminConfig(s))

	snap := read(t, c, groupQuery(s, ldap.MemberAttributeMember, ldap.NestingRecursive, 10))
	// top ⊃ mid ⊃ low ⊃ leaf; cyc-a ⊃ cyc-b ⊃ cyc-c ⊃ cyc-a; self ⊃ self.
	want := map[string][]string{
		"u1": {"N:cyc-a", "N:cyc-b", "D:cyc-c", "D:top"},
		"u2": {"D:mid", "D:self", "N:top"},
		"u3": {"D:low", "N:mid", "N:top"},
		"u4": {"D:leaf", "N:low", "N:mid", "N:top"},
		"u5": {"D:cyc-a", "N:cyc-b", "N:cyc-c"},
		"u6": {"N:cyc-a", "D:cyc-b", "N:cyc-c"},
	}
	if diff := cmp.Diff(want, memberships(snap)); diff != "" {
		t.Errorf("memberships (-want +got):\n%s", diff)
	}
	wantCycles := []string{
		"cn=cyc-a,ou=groups,dc=example,dc=org", "cn=cyc-b,ou=groups,dc=example,dc=org",
		"cn=cyc-c,ou=groups,dc=example,dc=org", "cn=self,ou=groups,dc=example,dc=org",
	}
	if diff := cmp.Diff(wantCycles, snap.Cycles); diff != "" {
		t.Errorf("cycles (-want +got):\n%s", diff)
	}

	// Depth 1: top reaches mid (u2) but not low (u3) or leaf (u4).
	snap = read(t, c, groupQuery(s, ldap.MemberAttributeMember, ldap.NestingRecursive, 1))
	for _, g := range snap.Groups {
		if g.Name == "top" {
			if diff := cmp.Diff([]string{"u1", "u2"}, g.Users); diff != "" {
				t.Errorf("top at depth 1 (-want +got):\n%s", diff)
			}
		}
	}
	if !contains(snap.DepthLimited, "cn=top,ou=groups,dc=example,dc=org") || contains(snap.DepthLimited, "cn=leaf,ou=groups,dc=example,dc=org") {
		t.Errorf("depth-limited = %v, want top and not leaf", snap.DepthLimited)
	}

	// None: direct members only.
	snap = read(t, c, groupQuery(s, ldap.MemberAttributeMember, ldap.NestingNone, 0))
	if got := memberships(snap)["u4"]; !cmp.Equal(got, []string{"D:leaf"}) {
		t.Errorf("u4 without nesting: %v, want [D:leaf]", got)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestReadPlanetExpress(t *testing.T) {
	t.Parallel()
	dir, err := ldaptest.PlanetExpressDir()
	if err != nil {
		t.Fatal(err)
	}
	tree, err := ldaptest.PlanetExpress(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := ldaptest.Start(t, tree)
	c := dial(t, ldap.Config{URL: s.URL, BindDN: ldaptest.PlanetExpressAdminDN, BindPassword: ldaptest.PlanetExpressAdminPassword})

	// The Directory defaults: (objectClass=person), uid, displayName/cn, mail,
	// groups by member with the default filter (which has objectClass=group).
	base := "ou=people,dc=planetexpress,dc=com"
	snap := read(t, c, ldap.Query{Users: ldap.UserQuery{BaseDN: base}, Groups: &ldap.GroupQuery{BaseDN: base}})

	type row struct{ Login, Name, Email string }
	var got []row
	for _, u := range snap.Users {
		got = append(got, row{u.Login, u.DisplayName, u.Email})
	}
	want := []row{
		{"amy", "Amy Wong", "amy@planetexpress.com"},
		{"bender", "Bender", "bender@planetexpress.com"},
		{"fry", "Fry", "fry@planetexpress.com"},
		{"hermes", "Hermes Conrad", "hermes@planetexpress.com"},
		{"leela", "Turanga Leela", "leela@planetexpress.com"},
		{"professor", "Professor Farnsworth", "professor@planetexpress.com"},
		{"zoidberg", "Zoidberg", "zoidberg@planetexpress.com"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	wantGroups := map[string][]string{
		"amy": {}, "bender": {"D:ship_crew"}, "fry": {"D:ship_crew"}, "hermes": {"D:admin_staff"},
		"leela": {"D:ship_crew"}, "professor": {"D:admin_staff"}, "zoidberg": {},
	}
	if diff := cmp.Diff(wantGroups, memberships(snap)); diff != "" {
		t.Errorf("memberships (-want +got):\n%s", diff)
	}
	var groups []string
	for _, g := range snap.Groups {
		groups = append(groups, g.DN+" "+strings.Join(g.Users, ","))
	}
	wantG := []string{
		"cn=admin_staff,ou=people,dc=planetexpress,dc=com hermes,professor",
		"cn=ship_crew,ou=people,dc=planetexpress,dc=com bender,fry,leela",
	}
	if diff := cmp.Diff(wantG, groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	if amy := snap.Users[0]; amy.DN != "cn=Amy Wong+sn=Kroker,ou=people,dc=planetexpress,dc=com" {
		t.Errorf("amy's DN = %q (a multi-valued RDN)", amy.DN)
	}

	// OnDemand: one user by login, with groups.
	u, err := ldap.Lookup(context.Background(), c, ldap.Query{Users: ldap.UserQuery{BaseDN: base}, Groups: &ldap.GroupQuery{BaseDN: base}}, "Professor")
	if err != nil {
		t.Fatal(err)
	}
	if u.Login != "professor" || u.Email != "professor@planetexpress.com" || len(u.Groups) != 1 || u.Groups[0].Name != "admin_staff" {
		t.Errorf("Lookup(Professor) = %+v", u)
	}
}

// More users than one page: the search pages (the proxy counts the
// SearchResultDone messages) and every user arrives.
func TestReadPagesMoreThanOnePage(t *testing.T) {
	t.Parallel()
	s := ldaptest.Start(t, ldaptest.BigTree(250, 3, 120))
	p := ldaptest.NewProxy(t, s.Addr)
	cfg := adminConfig(s)
	cfg.URL = p.URL
	c := dial(t, cfg)
	q := groupQuery(s, ldap.MemberAttributeMember, ldap.NestingNone, 0)
	q.PageSize = 100
	snap := read(t, c, q)
	if len(snap.Users) != 250 {
		t.Fatalf("%d users, want 250", len(snap.Users))
	}
	for i, u := range snap.Users {
		if want := ldaptest.BigUser(i); u.Login != want {
			t.Fatalf("user %d is %s, want %s", i, u.Login, want)
		}
	}
	for j, g := range snap.Groups {
		if g.MemberCount != 120 || len(g.Users) != 120 {
			t.Errorf("group %d: %d members, %d users; want 120", j, g.MemberCount, len(g.Users))
		}
	}
	// 3 pages of users (100, 100, 50) and 1 of groups.
	if got := p.SearchDones(); got != 4 {
		t.Errorf("the server sent %d SearchResultDone messages, want 4 (3 user pages, 1 group page)", got)
	}
}

// A connection lost after the first page is an error, never a partial
// success that would look like 150 users had left.
func TestReadConnectionLostMidPaging(t *testing.T) {
	t.Parallel()
	s := ldaptest.Start(t, ldaptest.BigTree(250, 0, 0))
	p := ldaptest.NewProxy(t, s.Addr)
	cfg := adminConfig(s)
	cfg.URL = p.URL
	c := dial(t, cfg)
	p.CutAfterSearchDone(1)

	seen := 0
	err := c.Search(context.Background(), ldap.SearchRequest{
		BaseDN: ldaptest.People(s.Suffix), Filter: "(objectClass=person)", Attributes: []string{"uid"}, PageSize: 100,
	}, func(*ldap.Entry) error { seen++; return nil })
	if err == nil {
		t.Fatalf("Search returned nil after %d entries over a connection cut after the first page", seen)
	}
	if seen != 100 {
		t.Errorf("%d entries arrived before the cut, want the first page of 100", seen)
	}
	if ldap.ReasonOf(err) != ldap.ReasonUnreachable || !strings.Contains(err.Error(), "page 2") || !strings.Contains(err.Error(), "incomplete") {
		t.Errorf("err = %q (reason %s), want Unreachable naming page 2 and an incomplete result", err, ldap.ReasonOf(err))
	}
	if p.Cuts() != 1 {
		t.Errorf("proxy cut %d connections, want 1", p.Cuts())
	}

	// Read over a fresh connection that is cut the same way: no snapshot.
	c2 := dial(t, cfg)
	snap, err := ldap.Read(context.Background(), c2, ldap.Query{Users: ldap.UserQuery{BaseDN: ldaptest.People(s.Suffix)}, PageSize: 100})
	if snap != nil || err == nil {
		t.Fatalf("Read over a cut connection = %v users, %v; want an error and no snapshot", snap, err)
	}
}

// A server that stops answering in the middle of a paged search: the page
// times out with a clear error.
func TestSearchTimeout(t *testing.T) {
	t.Parallel()
	s := ldaptest.Start(t, ldaptest.BigTree(50, 0, 0))
	p := ldaptest.NewProxy(t, s.Addr)
	cfg := adminConfig(s)
	cfg.URL = p.URL
	cfg.Timeout = 300 * time.Millisecond
	c := dial(t, cfg)
	p.StallAfterSearchDone(1)
	start := time.Now()
	_, err := ldap.Read(context.Background(), c, ldap.Query{Users: ldap.UserQuery{BaseDN: s.Suffix}, PageSize: 20})
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Read took %s with a 300ms timeout", took)
	}
	if ldap.ReasonOf(err) != ldap.ReasonTimeout || !strings.Contains(err.Error(), "(page 2) on "+p.URL+" did not finish within 300ms") {
		t.Errorf("err = %v (reason %s), want a Timeout on page 2", err, ldap.ReasonOf(err))
	}

	// A cancelled context ends a search too, and says so.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c2 := dial(t, adminConfig(s))
	if _, err := ldap.Read(ctx, c2, ldap.Query{Users: ldap.UserQuery{BaseDN: s.Suffix}}); err == nil || !errors.Is(err, context.Canceled) {
		t.Errorf("Read with a cancelled context: %v", err)
	}
}

func TestSearchCallbackErrorStops(t *testing.T) {
	t.Parallel()
	s := ldaptest.Start(t, ldaptest.BigTree(120, 0, 0))
	c := dial(t, adminConfig(s))
	stop := errors.New("enough")
	n := 0
	err := c.Search(context.Background(), ldap.SearchRequest{BaseDN: s.Suffix, Filter: "(objectClass=person)", PageSize: 50},
		func(*ldap.Entry) error {
			n++
			if n == 10 {
				return stop
			}
			return nil
		})
	if !errors.Is(err, stop) || n != 10 {
		t.Fatalf("err = %v after %d entries, want the callback's error after 10", err, n)
	}
	// The connection is still usable.
	snap := read(t, c, ldap.Query{Users: ldap.UserQuery{BaseDN: s.Suffix}, PageSize: 50})
	if len(snap.Users) != 120 {
		t.Errorf("after a stopped search: %d users, want 120", len(snap.Users))
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	s := ldaptest.Start(t, ldaptest.RFC2307Tree())
	wrongCA, err := ldaptest.NewCA("another CA")
	if err != nil {
		t.Fatal(err)
	}
	q := groupQuery(s, ldap.MemberAttributeMemberUID, ldap.NestingNone, 0)

	cases := map[string]struct {
		mutate     func(*ldap.Config)
		wantReason ldap.Reason
		errHas     []string
	}{
		"ldaps with the CA": {mutate: func(c *ldap.Config) { c.URL = s.LDAPSURL; c.CABundle = s.CA.CertPEM }},
		"StartTLS with the CA": {mutate: func(c *ldap.Config) {
			c.StartTLS = true
			c.CABundle = s.CA.CertPEM
		}},
		"server name override": {mutate: func(c *ldap.Config) {
			c.URL = s.LDAPSURL
			c.CABundle = s.CA.CertPEM
			c.ServerName = ldaptest.ServerName
		}},
		"wrong server name": {
			mutate: func(c *ldap.Config) {
				c.URL = s.LDAPSURL
				c.CABundle = s.CA.CertPEM
				c.ServerName = "ldap.elsewhere.test"
			},
			wantReason: ldap.ReasonTLSFailed,
			errHas:     []string{"TLS handshake with " + s.LDAPSURL + " failed", `valid for "ldap.elsewhere.test"`},
		},
		"ldaps with a wrong CA": {
			mutate: func(c *ldap.Config) {
				c.URL = s.LDAPSURL
				c.CABundle = wrongCA.CertPEM
				c.CASource = `Secret "ldap-ca" key "ca.crt"`
			},
			wantReason: ldap.ReasonTLSFailed,
			errHas:     []string{"certificate signed by unknown authority", `check the CA bundle in Secret "ldap-ca" key "ca.crt"`},
		},
		"StartTLS with a wrong CA": {
			mutate: func(c *ldap.Config) {
				c.StartTLS = true
				c.CABundle = wrongCA.CertPEM
			},
			wantReason: ldap.ReasonTLSFailed,
			errHas:     []string{"certificate signed by unknown authority", "check the CA bundle"},
		},
		"ldaps with the system roots": {
			mutate:     func(c *ldap.Config) { c.URL = s.LDAPSURL },
			wantReason: ldap.ReasonTLSFailed,
			errHas:     []string{"the system CA roots (no CA bundle is configured)"},
		},
		"insecureSkipVerify with a wrong CA": {mutate: func(c *ldap.Config) {
			c.URL = s.LDAPSURL
			c.CABundle = wrongCA.CertPEM
			c.InsecureSkipVerify = true
		}},
		"StartTLS insecureSkipVerify": {mutate: func(c *ldap.Config) {
			c.StartTLS = true
			c.InsecureSkipVerify = true
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := adminConfig(s)
			tc.mutate(&cfg)
			c, err := ldap.Dial(context.Background(), cfg)
			if tc.wantReason != "" {
				if err == nil {
					_ = c.Close()
					t.Fatalf("Dial succeeded, want %s", tc.wantReason)
				}
				if ldap.ReasonOf(err) != tc.wantReason {
					t.Errorf("reason = %s, want %s: %v", ldap.ReasonOf(err), tc.wantReason, err)
				}
				for _, h := range tc.errHas {
					if !strings.Contains(err.Error(), h) {
						t.Errorf("error %q does not contain %q", err, h)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if snap := read(t, c, q); len(snap.Users) != 4 {
				t.Errorf("%d users over TLS, want 4", len(snap.Users))
			}
		})
	}
}

func TestBindFailureNamesDNButNotPassword(t *testing.T) {
	t.Parallel()
	s := ldaptest.Start(t, ldaptest.RFC2307Tree())
	const wrong = "Wr0ng-Pa55word-Zq9"
	cfg := adminConfig(s)
	cfg.BindPassword = wrong
	c, err := ldap.Dial(context.Background(), cfg)
	if err == nil {
		_ = c.Close()
		t.Fatal("Dial with a wrong password succeeded")
	}
	msg := err.Error()
	if ldap.ReasonOf(err) != ldap.ReasonBindFailed {
		t.Errorf("reason = %s, want BindFailed", ldap.ReasonOf(err))
	}
	want := "bind as cn=admin,dc=example,dc=org failed: invalid credentials (49)"
	if !strings.HasPrefix(msg, want) || !strings.Contains(msg, `check the bind DN and the password in Secret "ldap-bind" key "password"`) {
		t.Errorf("message %q, want it to start with %q and name the Secret", msg, want)
	}
	for e := error(err); e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), wrong) {
			t.Fatalf("the error chain contains the password: %q", e.Error())
		}
	}

	// A user's own bind with a wrong password says the same.
	cfg.BindDN = "uid=alice,ou=people,dc=example,dc=org"
	if _, err := ldap.Dial(context.Background(), cfg); ldap.ReasonOf(err) != ldap.ReasonBindFailed || strings.Contains(err.Error(), wrong) {
		t.Errorf("user bind: %v", err)
	}
}

func TestOutageAndRecovery(t *testing.T) {
	t.Parallel()
	s := ldaptest.Start(t, ldaptest.RFC2307Tree())
	q := groupQuery(s, ldap.MemberAttributeMemberUID, ldap.NestingNone, 0)
	live := dial(t, adminConfig(s))

	s.Stop()
	_, err := ldap.Dial(context.Background(), adminConfig(s))
	if ldap.ReasonOf(err) != ldap.ReasonUnreachable ||
		!strings.Contains(err.Error(), "cannot reach the LDAP server "+s.URL+": connection refused") ||
		!strings.Contains(err.Error(), "check the url and that the server is up") {
		t.Errorf("Dial to a stopped server: %v (reason %s)", err, ldap.ReasonOf(err))
	}
	// The connection made before the outage fails, with no snapshot.
	if snap, err := ldap.Read(context.Background(), live, q); snap != nil || ldap.ReasonOf(err) != ldap.ReasonUnreachable {
		t.Errorf("Read over a connection to a stopped server = %v, %v (reason %s)", snap, err, ldap.ReasonOf(err))
	}

	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	c := dial(t, adminConfig(s))
	if snap := read(t, c, q); len(snap.Users) != 4 {
		t.Errorf("after restart: %d users, want 4", len(snap.Users))
	}
}

func TestDialTimeout(t *testing.T) {
	t.Parallel()
	// A server that accepts connections and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	cases := map[string]ldap.Config{
		"bind":     {URL: "ldap://" + ln.Addr().String(), BindDN: "cn=a,dc=x", BindPassword: "x", Timeout: 300 * time.Millisecond},
		"ldaps":    {URL: "ldaps://" + ln.Addr().String(), Timeout: 300 * time.Millisecond},
		"startTLS": {URL: "ldap://" + ln.Addr().String(), StartTLS: true, InsecureSkipVerify: true, Timeout: 300 * time.Millisecond},
	}
	for name, cfg := range cases {
		start := time.Now()
		_, err := ldap.Dial(context.Background(), cfg)
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s: Dial took %s with a 300ms timeout", name, took)
		}
		if ldap.ReasonOf(err) != ldap.ReasonTimeout || !strings.Contains(err.Error(), "did not answer within 300ms") {
			t.Errorf("%s: err = %v (reason %s), want Timeout", name, err, ldap.ReasonOf(err))
		}
	}
}

func TestSearchErrors(t *testing.T) {
	t.Parallel()
	s := ldaptest.Start(t, ldaptest.RFC2307Tree())
	c := dial(t, adminConfig(s))
	_, err := ldap.Read(context.Background(), c, ldap.Query{Users: ldap.UserQuery{BaseDN: "ou=nowhere,dc=example,dc=org"}})
	if ldap.ReasonOf(err) != ldap.ReasonSearchFailed ||
		!strings.Contains(err.Error(), "cannot read the users: search below ou=nowhere,dc=example,dc=org with filter (objectClass=person) failed: no such object (32)") ||
		!strings.Contains(err.Error(), "check that the base DN exists") {
		t.Errorf("missing base: %v", err)
	}
}

// A login such as *)(uid=*, if it reached a filter unescaped, would match
// every user. Escaped, it matches only an entry whose uid is literally that.
func TestInjectionMatchesNothingExtra(t *testing.T) {
	t.Parallel()
	s := ldaptest.Start(t, ldaptest.RFC2307Tree())
	c := dial(t, adminConfig(s))
	q := groupQuery(s, ldap.MemberAttributeMemberUID, ldap.NestingNone, 0)
	q.Users.LoginAttributes = []string{"uid", "mail"}

	for _, login := range []string{"*)(uid=*", "*", "alice)(|(uid=*", `*)(objectClass=*`, "a*"} {
		if u, err := ldap.Lookup(context.Background(), c, q, login); !errors.Is(err, ldap.ErrNotFound) {
			t.Errorf("Lookup(%q) = %+v, %v; want ErrNotFound", login, u, err)
		}
	}

	// Now a user whose uid is literally *)(uid=* exists, in a group that
	// lists it by memberUid: exactly that user is found, with that group.
	ctx := context.Background()
	people := ldaptest.People(s.Suffix)
	evil := ldaptest.PosixPerson(people, "*)(uid=*", "Evil Entry", "", 1666)
	if err := s.Add(ctx, evil); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(ctx, ldaptest.PosixGroup(ldaptest.Groups(s.Suffix), "odd", 2666, "*)(uid=*")); err != nil {
		t.Fatal(err)
	}
	u, err := ldap.Lookup(ctx, c, q, "*)(uid=*")
	if err != nil {
		t.Fatal(err)
	}
	if ldapdn.Normalize(u.DN) != ldapdn.Normalize(evil.DN) || len(u.Groups) != 1 || u.Groups[0].Name != "odd" {
		t.Errorf("Lookup(*)(uid=*) = %+v, want only %s in group odd", u, evil.DN)
	}
	// A full read has the entry once, and the group holds only it.
	snap := read(t, c, q)
	if len(snap.Users) != 5 {
		t.Errorf("%d users after adding one, want 5", len(snap.Users))
	}
	for _, g := range snap.Groups {
		if g.Name == "odd" && !cmp.Equal(g.Users, []string{"*)(uid=*"}) {
			t.Errorf("group odd has users %v", g.Users)
		}
	}
}

// Member filters carry DNs read from the server; a DN with an escaped comma
// and parentheses must find its groups (and only those).
func TestLookupDNWithSpecialCharacters(t *testing.T) {
	t.Parallel()
	s := ldaptest.Start(t, ldaptest.GroupOfNamesTree())
	c := dial(t, adminConfig(s))
	ctx := context.Background()
	people, groups := ldaptest.People(s.Suffix), ldaptest.Groups(s.Suffix)
	odd := ldaptest.NewEntry(`cn=Ops (EU)\, *,`+people, "objectClass", "inetOrgPerson", "cn", "Ops (EU), *", "sn", "x", "uid", "opseu")
	if err := s.Add(ctx, odd); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(ctx, ldaptest.GroupOfNames(groups, "eu", odd.DN)); err != nil {
		t.Fatal(err)
	}
	q := groupQuery(s, ldap.MemberAttributeMember, ldap.NestingNone, 0)
	u, err := ldap.Lookup(ctx, c, q, "opseu")
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Groups) != 1 || u.Groups[0].Name != "eu" {
		t.Errorf("groups of %s = %+v, want [eu]", u.DN, u.Groups)
	}
	u, err = ldap.Lookup(ctx, c, q, "jsmith") // cn=Smith\, John
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{u.Groups[0].Name, u.Groups[1].Name}; len(u.Groups) != 2 || !cmp.Equal(got, []string{"admins", "staff"}) {
		t.Errorf("groups of jsmith = %+v, want admins and staff", u.Groups)
	}
}

func TestLookupOnDemand(t *testing.T) {
	t.Parallel()
	s := ldaptest.Start(t, ldaptest.NestedTree())
	c := dial(t, adminConfig(s))
	ctx := context.Background()

	cases := map[string]struct {
		nested ldap.Nesting
		depth  int
		login  string
		want   []string
	}{
		"direct only":         {ldap.NestingNone, 0, "u4", []string{"D:leaf"}},
		"recursive up":        {ldap.NestingRecursive, 10, "u4", []string{"D:leaf", "N:low", "N:mid", "N:top"}},
		"recursive bounded":   {ldap.NestingRecursive, 1, "u4", []string{"D:leaf", "N:low"}},
		"recursive in cycle":  {ldap.NestingRecursive, 10, "u5", []string{"D:cyc-a", "N:cyc-b", "N:cyc-c"}},
		"login compares case": {ldap.NestingNone, 0, "U3", []string{"D:low"}},
	}
	for name, tc := range cases {
		u, err := ldap.Lookup(ctx, c, groupQuery(s, ldap.MemberAttributeMember, tc.nested, tc.depth), tc.login)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got := memberships(&ldap.Snapshot{Users: []ldap.User{*u}})[u.Login]
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: groups of %s (-want +got):\n%s", name, tc.login, diff)
		}
	}

	// The same answers as a full Read, for every user and nesting depth:
	// both expand with walkNesting, one down and one up.
	var q ldap.Query
	for _, depth := range []int{1, 2, 10} {
		q = groupQuery(s, ldap.MemberAttributeMember, ldap.NestingRecursive, depth)
		snap := read(t, c, q)
		for _, want := range snap.Users {
			got, err := ldap.Lookup(ctx, c, q, want.Login)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, *got); diff != "" {
				t.Errorf("depth %d: Lookup(%s) differs from Read (-read +lookup):\n%s", depth, want.Login, diff)
			}
		}
	}

	if _, err := ldap.Lookup(ctx, c, q, "nobody"); !errors.Is(err, ldap.ErrNotFound) ||
		!strings.Contains(err.Error(), `no entry below ou=people,dc=example,dc=org with filter (objectClass=person) has the login "nobody" in uid`) {
		t.Errorf("Lookup(nobody) = %v", err)
	}
}

// The harness changes the directory at run time; the next Read sees it.
func TestReadSeesRuntimeChanges(t *testing.T) {
	t.Parallel()
	s := ldaptest.Start(t, ldaptest.RFC2307Tree())
	c := dial(t, adminConfig(s))
	q := groupQuery(s, ldap.MemberAttributeMemberUID, ldap.NestingNone, 0)
	ctx := context.Background()
	g := "cn=ops," + ldaptest.Groups(s.Suffix)
	if err := s.AddValues(ctx, g, "memberUid", "dave"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "uid=bob,"+ldaptest.People(s.Suffix)); err != nil {
		t.Fatal(err)
	}
	req := goldap.NewModifyRequest("uid=alice,"+ldaptest.People(s.Suffix), nil)
	req.Replace("mail", []string{"alice@new.example.org"})
	if err := s.Modify(ctx, req); err != nil {
		t.Fatal(err)
	}
	snap := read(t, c, q)
	if diff := cmp.Diff([]string{"alice", "carol", "dave"}, logins(snap)); diff != "" {
		t.Errorf("logins (-want +got):\n%s", diff)
	}
	if snap.Users[0].Email != "alice@new.example.org" {
		t.Errorf("alice's mail = %s", snap.Users[0].Email)
	}
	if got := memberships(snap)["dave"]; !cmp.Equal(got, []string{"D:everyone", "D:ops"}) {
		t.Errorf("dave's groups = %v", got)
	}
}
