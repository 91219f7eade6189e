package ldap

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/ldapdn"
)

const (
	people = "ou=people,dc=x"
	groups = "ou=groups,dc=x"
)

func person(uid string, pairs ...string) *Entry {
	return ent("uid="+uid+","+people, append([]string{"uid", uid, "cn", "CN " + uid, "mail", uid + "@x"}, pairs...)...)
}

func grp(cn, attr string, members ...string) *Entry {
	pairs := []string{"cn", cn}
	for _, m := range members {
		pairs = append(pairs, attr, m)
	}
	return ent("cn="+cn+","+groups, pairs...)
}

func dnOf(uid string) string { return "uid=" + uid + "," + people }
func gdn(cn string) string   { return "cn=" + cn + "," + groups }

func ref(cn string, direct bool) GroupRef { return GroupRef{DN: gdn(cn), Name: cn, Direct: direct} }

func user(uid string, refs ...GroupRef) User {
	return User{DN: dnOf(uid), Login: uid, DisplayName: "CN " + uid, Email: uid + "@x", Groups: refs}
}

func query(member MemberAttribute, nested Nesting, depth int) Query {
	return Query{
		Users:  UserQuery{BaseDN: people},
		Groups: &GroupQuery{BaseDN: groups, MemberAttribute: member, Nested: nested, MaxNestingDepth: depth},
	}.withDefaults()
}

func TestAssemble(t *testing.T) {
	cases := map[string]struct {
		reason  string
		q       Query
		users   []*Entry
		groups  []*Entry
		inChain map[string][]string
		want    *Snapshot
	}{
		"RFC 2307 memberUid": {
			reason: "memberUid values are logins, matched case-insensitively; unknown logins count as members but match no user",
			q:      query(MemberAttributeMemberUID, NestingNone, 0),
			users:  []*Entry{person("alice"), person("bob"), person("carol")},
			groups: []*Entry{grp("devs", "memberUid", "alice", "BOB", "ghost", "alice")},
			want: &Snapshot{
				Users:  []User{user("alice", ref("devs", true)), user("bob", ref("devs", true)), user("carol")},
				Groups: []Group{{DN: gdn("devs"), Name: "devs", Members: []string{"alice", "BOB", "ghost"}, MemberCount: 3, Users: []string{"alice", "bob"}}},
			},
		},
		"RFC 4519 groupOfNames with DNs spelled differently": {
			reason: "member DNs compare normalised: case, spaces",
			q:      query(MemberAttributeMember, NestingNone, 0),
			users:  []*Entry{person("alice"), person("bob")},
			groups: []*Entry{grp("admins", "member", "UID=Alice, OU=People, DC=X", "uid=nobody,"+people)},
			want: &Snapshot{
				Users: []User{user("alice", ref("admins", true)), user("bob")},
				Groups: []Group{{DN: gdn("admins"), Name: "admins", Members: []string{"UID=Alice, OU=People, DC=X", "uid=nobody," + people},
					MemberCount: 2, Users: []string{"alice"}}},
			},
		},
		"RFC 4519 uniqueMember with optional UID": {
			q:      query(MemberAttributeUniqueMember, NestingNone, 0),
			users:  []*Entry{person("alice"), person("bob")},
			groups: []*Entry{grp("auditors", "uniqueMember", dnOf("alice")+"#'0101'B", dnOf("bob"))},
			want: &Snapshot{
				Users:  []User{user("alice", ref("auditors", true)), user("bob", ref("auditors", true))},
				Groups: []Group{{DN: gdn("auditors"), Name: "auditors", Members: []string{dnOf("alice"), dnOf("bob")}, MemberCount: 2, Users: []string{"alice", "bob"}}},
			},
		},
		"None ignores member groups but counts them": {
			q:      query(MemberAttributeMember, NestingNone, 0),
			users:  []*Entry{person("alice"), person("bob")},
			groups: []*Entry{grp("outer", "member", dnOf("alice"), gdn("inner")), grp("inner", "member", dnOf("bob"))},
			want: &Snapshot{
				Users: []User{user("alice", ref("outer", true)), user("bob", ref("inner", true))},
				Groups: []Group{
					{DN: gdn("inner"), Name: "inner", Members: []string{dnOf("bob")}, MemberCount: 1, Users: []string{"bob"}},
					{DN: gdn("outer"), Name: "outer", Members: []string{dnOf("alice"), gdn("inner")}, MemberCount: 2, Users: []string{"alice"}},
				},
			},
		},
		"Recursive expands, with a cycle and the depth bound": {
			reason: "a ⊃ b ⊃ c ⊃ a with depth 1: a gets b's members only and is depth-limited",
			q:      query(MemberAttributeMember, NestingRecursive, 1),
			users:  []*Entry{person("alice"), person("bob"), person("carol")},
			groups: []*Entry{
				grp("a", "member", dnOf("alice"), gdn("b")),
				grp("b", "member", dnOf("bob"), gdn("c")),
				grp("c", "member", dnOf("carol"), gdn("a")),
			},
			want: &Snapshot{
				Users: []User{
					user("alice", ref("a", true), ref("c", false)),
					user("bob", ref("a", false), ref("b", true)),
					user("carol", ref("b", false), ref("c", true)),
				},
				Groups: []Group{
					{DN: gdn("a"), Name: "a", Members: []string{dnOf("alice"), gdn("b")}, MemberCount: 2, Users: []string{"alice", "bob"}},
					{DN: gdn("b"), Name: "b", Members: []string{dnOf("bob"), gdn("c")}, MemberCount: 2, Users: []string{"bob", "carol"}},
					{DN: gdn("c"), Name: "c", Members: []string{dnOf("carol"), gdn("a")}, MemberCount: 2, Users: []string{"alice", "carol"}},
				},
				DepthLimited: []string{gdn("a"), gdn("b"), gdn("c")},
			},
		},
		"Recursive cycle fully expanded": {
			q:     query(MemberAttributeMember, NestingRecursive, 10),
			users: []*Entry{person("alice"), person("bob")},
			groups: []*Entry{
				grp("a", "member", dnOf("alice"), gdn("b")),
				grp("b", "member", dnOf("bob"), gdn("a")),
			},
			want: &Snapshot{
				Users: []User{user("alice", ref("a", true), ref("b", false)), user("bob", ref("a", false), ref("b", true))},
				Groups: []Group{
					{DN: gdn("a"), Name: "a", Members: []string{dnOf("alice"), gdn("b")}, MemberCount: 2, Users: []string{"alice", "bob"}},
					{DN: gdn("b"), Name: "b", Members: []string{dnOf("bob"), gdn("a")}, MemberCount: 2, Users: []string{"alice", "bob"}},
				},
				Cycles: []string{gdn("a"), gdn("b")},
			},
		},
		"ActiveDirectory merges the server's in-chain members": {
			reason: "the server said bob is in outer through some chain; alice is direct",
			q:      query(MemberAttributeMember, NestingActiveDirectory, 0),
			users:  []*Entry{person("alice"), person("bob")},
			groups: []*Entry{grp("outer", "member", dnOf("alice"), "cn=elsewhere,dc=y")},
			inChain: map[string][]string{
				ldapdn.Normalize(gdn("outer")): {"UID=ALICE,OU=PEOPLE,DC=X", dnOf("bob"), "uid=unknown,dc=x"},
			},
			want: &Snapshot{
				Users:  []User{user("alice", ref("outer", true)), user("bob", ref("outer", false))},
				Groups: []Group{{DN: gdn("outer"), Name: "outer", Members: []string{dnOf("alice"), "cn=elsewhere,dc=y"}, MemberCount: 2, Users: []string{"alice", "bob"}}},
			},
		},
		"no groups configured": {
			q:     Query{Users: UserQuery{BaseDN: people}}.withDefaults(),
			users: []*Entry{person("bob"), person("alice")},
			want:  &Snapshot{Users: []User{user("alice"), user("bob")}},
		},
		"group name falls back to the RDN value": {
			q:      query(MemberAttributeMember, NestingNone, 0),
			users:  []*Entry{person("alice")},
			groups: []*Entry{ent(`cn=Ops\, EU,`+groups, "member", dnOf("alice"))},
			want: &Snapshot{
				Users:  []User{user("alice", GroupRef{DN: `cn=Ops\, EU,` + groups, Name: "Ops, EU", Direct: true})},
				Groups: []Group{{DN: `cn=Ops\, EU,` + groups, Name: "Ops, EU", Members: []string{dnOf("alice")}, MemberCount: 1, Users: []string{"alice"}}},
			},
		},
	}
	for name, tc := range cases {
		got := assemble(tc.q, tc.users, tc.groups, tc.inChain)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: %s\n(-want +got):\n%s", name, tc.reason, diff)
		}
	}
}

func TestAssembleUsers(t *testing.T) {
	cases := map[string]struct {
		q           UserQuery
		users       []*Entry
		wantLogins  []string
		wantSkipped []Skipped
	}{
		"first non-empty login attribute wins": {
			q: UserQuery{LoginAttributes: []string{"uid", "mail"}},
			users: []*Entry{
				ent("cn=a,dc=x", "uid", "a1", "mail", "a@x"),
				ent("cn=b,dc=x", "uid", " ", "mail", "b@x"),
			},
			wantLogins: []string{"a1", "b@x"},
		},
		"lowercasing": {
			q:          UserQuery{LoginAttributes: []string{"sAMAccountName"}, LowercaseLogins: new(true)},
			users:      []*Entry{ent("cn=J,dc=x", "sAMAccountName", "JDoe")},
			wantLogins: []string{"jdoe"},
		},
		"no lowercasing keeps case": {
			q:          UserQuery{LoginAttributes: []string{"sAMAccountName"}},
			users:      []*Entry{ent("cn=J,dc=x", "sAMAccountName", "JDoe")},
			wantLogins: []string{"JDoe"},
		},
		"no login, white space, duplicates are skipped": {
			q: UserQuery{},
			users: []*Entry{
				ent("cn=ok,dc=x", "uid", "ok"),
				ent("cn=none,dc=x", "cn", "none"),
				ent("cn=space,dc=x", "uid", "john doe"),
				ent("cn=d1,dc=x", "uid", "dup"),
				ent("cn=d2,dc=x", "uid", "DUP"),
			},
			wantLogins: []string{"ok"},
			wantSkipped: []Skipped{
				{DN: "cn=d1,dc=x", Reason: `its login "dup" is also the login of cn=d2,dc=x; a login must belong to one entry`},
				{DN: "cn=d2,dc=x", Reason: `its login "DUP" is also the login of cn=d1,dc=x; a login must belong to one entry`},
				{DN: "cn=none,dc=x", Reason: "it has no value in uid"},
				{DN: "cn=space,dc=x", Reason: `its login "john doe" contains white space, which a login cannot`},
			},
		},
	}
	for name, tc := range cases {
		tc.q.BaseDN = "dc=x"
		snap := assemble(Query{Users: tc.q}.withDefaults(), tc.users, nil, nil)
		var logins []string
		for _, u := range snap.Users {
			logins = append(logins, u.Login)
		}
		if diff := cmp.Diff(tc.wantLogins, logins); diff != "" {
			t.Errorf("%s: logins (-want +got):\n%s", name, diff)
		}
		if diff := cmp.Diff(tc.wantSkipped, snap.Skipped); diff != "" {
			t.Errorf("%s: skipped (-want +got):\n%s", name, diff)
		}
	}
}

func TestAssembleDisplayNameAndEmail(t *testing.T) {
	q := Query{Users: UserQuery{BaseDN: "dc=x"}}.withDefaults()
	snap := assemble(q, []*Entry{
		ent("cn=a,dc=x", "uid", "a", "cn", "Amy Wong", "mail", "amy@x", "mail", "second@x"),
		ent("cn=b,dc=x", "uid", "b", "cn", "Bender Bending Rodriguez", "displayName", "Bender"),
	}, nil, nil)
	want := []User{
		{DN: "cn=a,dc=x", Login: "a", DisplayName: "Amy Wong", Email: "amy@x"},
		{DN: "cn=b,dc=x", Login: "b", DisplayName: "Bender"},
	}
	if diff := cmp.Diff(want, snap.Users); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// The snapshot depends on the directory, not on the order the server sent
// the entries in.
func TestAssembleOrderIndependent(t *testing.T) {
	q := query(MemberAttributeMember, NestingRecursive, 3)
	var users, groups []*Entry
	for i := range 40 {
		users = append(users, person(fmt.Sprintf("u%02d", i)))
	}
	for j := range 15 {
		var members []string
		for k := range 6 {
			members = append(members, dnOf(fmt.Sprintf("u%02d", (j*7+k*3)%40)))
		}
		members = append(members, gdn(fmt.Sprintf("g%02d", (j+1)%15)))
		groups = append(groups, grp(fmt.Sprintf("g%02d", j), "member", members...))
	}
	want := assemble(q, users, groups, nil)
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		r.Shuffle(len(users), func(i, j int) { users[i], users[j] = users[j], users[i] })
		r.Shuffle(len(groups), func(i, j int) { groups[i], groups[j] = groups[j], groups[i] })
		if diff := cmp.Diff(want, assemble(q, users, groups, nil)); diff != "" {
			t.Fatalf("shuffled entries give another snapshot (-first +shuffled):\n%s", diff)
		}
	}
}

func TestGroupKeys(t *testing.T) {
	u := User{Groups: []GroupRef{{DN: "cn=b,dc=x", Name: "b"}, {DN: "cn=a,dc=x", Name: "a"}, {DN: "cn=a,ou=2,dc=x", Name: "a"}}}
	want := []string{"a", "b", "cn=a,dc=x", "cn=a,ou=2,dc=x", "cn=b,dc=x"}
	if diff := cmp.Diff(want, u.GroupKeys()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// bigEntries makes a directory of users and groups in memory, shaped like
// ldaptest.BigTree.
func bigEntries(nUsers, nGroups, perGroup int) (users, groups []*Entry) {
	for i := range nUsers {
		users = append(users, person(fmt.Sprintf("user%06d", i)))
	}
	for j := range nGroups {
		var members []string
		for k := range perGroup {
			members = append(members, dnOf(fmt.Sprintf("user%06d", (j*104729+k*7919)%nUsers)))
		}
		if j > 0 {
			members = append(members, gdn(fmt.Sprintf("group%04d", (j-1)/3)))
		}
		groups = append(groups, grp(fmt.Sprintf("group%04d", j), "member", members...))
	}
	return users, groups
}

func BenchmarkAssemble(b *testing.B) {
	users, groups := bigEntries(10000, 1000, 50)
	for _, nested := range []Nesting{NestingNone, NestingRecursive} {
		q := query(MemberAttributeMember, nested, 10)
		b.Run(fmt.Sprintf("10000users-1000groups-%s", nested), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				assemble(q, users, groups, nil)
			}
		})
	}
}
