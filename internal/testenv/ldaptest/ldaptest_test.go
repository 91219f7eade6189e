package ldaptest

import (
	"context"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/google/go-cmp/cmp"
)

func TestLDIFRoundTrip(t *testing.T) {
	entries := []Entry{
		NewEntry("dc=example,dc=org", "objectClass", "top", "dc", "example"),
		NewEntry("cn=x,dc=example,dc=org", "cn", "x", "description", " leading space",
			"description", "trailing space ", "description", "ünïcode", "description", ":colon", "description", "<angle",
			"description", "a\nnew line"),
	}
	recs, err := ParseLDIF(strings.NewReader(LDIF(entries)))
	if err != nil {
		t.Fatal(err)
	}
	got := make([]Entry, len(recs))
	for i, r := range recs {
		got[i] = r.Entry()
	}
	if diff := cmp.Diff(entries, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestParseLDIFFoldedAndChanges(t *testing.T) {
	in := "version: 1\n# comment\ndn: cn={0}core,cn=schema,cn=config\nchangetype: modify\nadd: olcAttributetypes\n" +
		"olcAttributetypes: ( 1.2 NAME 'x'\n   SYNTAX '1.3'\n )\n-\n\ndn: cn=a,dc=b\ncn:: YQ==\nuserPassword:: e1NTSEF9YQ=\n =\n"
	recs, err := ParseLDIF(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Record{
		{DN: "cn={0}core,cn=schema,cn=config", ChangeType: "modify", Lines: []Attribute{
			{Name: "add", Values: []string{"olcAttributetypes"}},
			{Name: "olcAttributetypes", Values: []string{"( 1.2 NAME 'x'  SYNTAX '1.3')"}}, // RFC 2849: a fold drops exactly one space
			{Name: "-"},
		}},
		{DN: "cn=a,dc=b", Lines: []Attribute{
			{Name: "cn", Values: []string{"a"}},
			{Name: "userPassword", Values: []string{"{SSHA}a"}},
		}},
	}
	if diff := cmp.Diff(want, recs); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	if _, err := ParseLDIF(strings.NewReader("cn: x\n")); err == nil {
		t.Error("a record without dn parsed")
	}
}

func TestPlanetExpressTreeFromFiles(t *testing.T) {
	dir, err := PlanetExpressDir()
	if err != nil {
		t.Fatal(err)
	}
	tree, err := PlanetExpress(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(tree.Entries) != 11 { // suffix, ou=people, 7 people, 2 groups
		t.Errorf("entries = %d, want 11", len(tree.Entries))
	}
	wantSchema := []string{
		"attributetype ( 1.2.840.113556.1.4.750 NAME 'groupType' SYNTAX '1.3.6.1.4.1.1466.115.121.1.27' SINGLE-VALUE)",
		"objectclass ( 1.2.840.113556.1.5.8 NAME 'Group' DESC 'a group of users' SUP top STRUCTURAL MUST ( groupType $ cn) MAY ( member ) )",
	}
	var gotSchema []string
	for _, s := range tree.Schema {
		gotSchema = append(gotSchema, oneLine(s))
	}
	if diff := cmp.Diff(wantSchema, gotSchema); diff != "" {
		t.Errorf("schema (-want +got):\n%s", diff)
	}
	wantMO := &MemberOf{GroupOC: "Group", MemberAD: "member", MemberOfAD: "memberOf", Dangling: "ignore", RefInt: true,
		RefIntAttributes: []string{"owner", "manager", "uniqueMember", "member", "memberOf"}}
	if diff := cmp.Diff(wantMO, tree.MemberOf); diff != "" {
		t.Errorf("memberOf (-want +got):\n%s", diff)
	}
}

func TestBigMembersDistinct(t *testing.T) {
	for _, tc := range []struct{ users, n, j int }{{10000, 50, 0}, {10000, 50, 999}, {7919 * 2, 300, 3}, {5, 5, 1}, {250, 100, 2}} {
		ms := BigMembers(tc.users, tc.n, tc.j)
		if len(ms) != min(tc.n, tc.users) {
			t.Errorf("%v: %d members", tc, len(ms))
		}
		seen := map[int]bool{}
		for _, m := range ms {
			if m < 0 || m >= tc.users || seen[m] {
				t.Fatalf("%v: member %d out of range or repeated", tc, m)
			}
			seen[m] = true
		}
	}
}

func count(t *testing.T, s *Server, base, filter string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := s.Admin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := c.SearchWithPaging(goldap.NewSearchRequest(base, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
		filter, []string{"1.1"}, nil), 1000)
	if err != nil {
		t.Fatalf("search %s %s: %v", base, filter, err)
	}
	return len(res.Entries)
}

func TestServerLifecycleAndHelpers(t *testing.T) {
	t.Parallel()
	s := Start(t, RFC2307Tree())
	if got := count(t, s, s.Suffix, "(objectClass=posixAccount)"); got != 4 {
		t.Errorf("posixAccounts = %d, want 4", got)
	}
	ctx := context.Background()
	p := People(s.Suffix)
	if err := s.Add(ctx, Person(p, "erin", "Erin Evans", "erin@example.org")); err != nil {
		t.Fatal(err)
	}
	if err := s.Replace(ctx, "uid=erin,"+p, "mail", "erin@new.example.org"); err != nil {
		t.Fatal(err)
	}
	if got := count(t, s, p, "(mail=erin@new.example.org)"); got != 1 {
		t.Errorf("after Replace: %d entries with the new mail, want 1", got)
	}

	s.Stop()
	if s.Running() {
		t.Fatal("Running after Stop")
	}
	if _, err := s.Admin(ctx); err == nil {
		t.Fatal("Admin connected to a stopped server")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if got := count(t, s, p, "(uid=erin)"); got != 1 {
		t.Errorf("after restart: erin found %d times, want 1 (data must survive)", got)
	}
	if err := s.Delete(ctx, "uid=erin,"+p); err != nil {
		t.Fatal(err)
	}
	if got := count(t, s, p, "(uid=erin)"); got != 0 {
		t.Errorf("after Delete: erin found %d times", got)
	}
}

func TestPlanetExpressServerMemberOf(t *testing.T) {
	t.Parallel()
	dir, err := PlanetExpressDir()
	if err != nil {
		t.Fatal(err)
	}
	tree, err := PlanetExpress(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := Start(t, tree)
	// The memberof overlay maintains memberOf, so the Online load and the
	// translated overlay configuration work.
	if got := count(t, s, s.Suffix, "(memberOf=cn=ship_crew,ou=people,dc=planetexpress,dc=com)"); got != 3 {
		t.Errorf("members of ship_crew by memberOf = %d, want 3", got)
	}
}

func TestProxyCutsAfterFirstPage(t *testing.T) {
	t.Parallel()
	s := Start(t, BigTree(30, 0, 0))
	p := NewProxy(t, s.Addr)
	p.CutAfterSearchDone(1)
	c, err := goldap.DialURL(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.SearchWithPaging(goldap.NewSearchRequest(s.Suffix, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=person)", []string{"uid"}, nil), 10)
	if err == nil {
		t.Fatal("a paged search through the cutting proxy succeeded")
	}
	if p.Cuts() != 1 {
		t.Errorf("cuts = %d, want 1", p.Cuts())
	}
}
