package ldap_test

import (
	"context"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/ldap"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/ldaptest"
)

// BenchmarkReadSlapd reads a generated directory of 10,000 users and 1,000
// groups of 50 members from a real slapd, paged by 500: the whole sync's
// LDAP side. Loading the tree (slapadd) is not timed.
func BenchmarkReadSlapd(b *testing.B) {
	const users, groups, members = 10000, 1000, 50
	s := ldaptest.Start(b, ldaptest.BigTree(users, groups, members))
	c, err := ldap.Dial(context.Background(), ldap.Config{URL: s.URL, BindDN: s.AdminDN, BindPassword: s.AdminPassword})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	q := ldap.Query{
		Users:  ldap.UserQuery{BaseDN: ldaptest.People(s.Suffix)},
		Groups: &ldap.GroupQuery{BaseDN: ldaptest.Groups(s.Suffix)},
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		snap, err := ldap.Read(context.Background(), c, q)
		if err != nil {
			b.Fatal(err)
		}
		if len(snap.Users) != users || len(snap.Groups) != groups {
			b.Fatalf("read %d users and %d groups", len(snap.Users), len(snap.Groups))
		}
	}
}

// countingConn counts the searches of the Conn it wraps.
type countingConn struct {
	ldap.Conn
	searches int
}

func (c *countingConn) Search(ctx context.Context, req ldap.SearchRequest, fn func(*ldap.Entry) error) error {
	c.searches++
	return c.Conn.Search(ctx, req, fn)
}

// nestedBench is the directory of the nesting benchmarks: 10,000 users and
// 1,000 groups of 50 members, nested as a ternary tree six levels deep.
const nestedUsers, nestedGroups, nestedMembers = 10000, 1000, 50

// BenchmarkReadNestedSlapd reads the nested 1,000-group tree from a real
// slapd in each nesting mode and reports the searches of one Read. slapd
// does not implement the in-chain rule (its in-chain searches find no one),
// so for ActiveDirectory the figure that carries over to a real domain
// controller is searches/op; the time is that of slapd answering them.
func BenchmarkReadNestedSlapd(b *testing.B) {
	s := ldaptest.Start(b, ldaptest.BigNestedTree(nestedUsers, nestedGroups, nestedMembers))
	c, err := ldap.Dial(context.Background(), ldap.Config{URL: s.URL, BindDN: s.AdminDN, BindPassword: s.AdminPassword})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for _, nested := range []ldap.Nesting{ldap.NestingRecursive, ldap.NestingActiveDirectory} {
		q := ldap.Query{
			Users:  ldap.UserQuery{BaseDN: ldaptest.People(s.Suffix)},
			Groups: &ldap.GroupQuery{BaseDN: ldaptest.Groups(s.Suffix), Nested: nested},
		}
		b.Run(string(nested), func(b *testing.B) {
			var searches int
			for b.Loop() {
				snap, err := ldap.Read(context.Background(), c, q)
				if err != nil {
					b.Fatal(err)
				}
				if len(snap.Users) != nestedUsers || len(snap.Groups) != nestedGroups {
					b.Fatalf("read %d users and %d groups", len(snap.Users), len(snap.Groups))
				}
				searches = snap.Stats.Searches
			}
			b.ReportMetric(float64(searches), "searches/op")
		})
	}
}

// BenchmarkLookupNestedSlapd looks up, on the nested 1,000-group tree of a
// real slapd, a user whose direct groups sit at the bottom of the tree, with
// Recursive nesting: the OnDemand path, one user's groups up every level.
func BenchmarkLookupNestedSlapd(b *testing.B) {
	s := ldaptest.Start(b, ldaptest.BigNestedTree(nestedUsers, nestedGroups, nestedMembers))
	c, err := ldap.Dial(context.Background(), ldap.Config{URL: s.URL, BindDN: s.AdminDN, BindPassword: s.AdminPassword})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	cc := &countingConn{Conn: c}
	q := ldap.Query{
		Users:  ldap.UserQuery{BaseDN: ldaptest.People(s.Suffix)},
		Groups: &ldap.GroupQuery{BaseDN: ldaptest.Groups(s.Suffix), Nested: ldap.NestingRecursive},
	}
	login := ldaptest.BigUser(ldaptest.BigMembers(nestedUsers, nestedMembers, nestedGroups-1)[0])
	var groups int
	b.ResetTimer()
	for b.Loop() {
		cc.searches = 0
		u, err := ldap.Lookup(context.Background(), cc, q, login)
		if err != nil {
			b.Fatal(err)
		}
		groups = len(u.Groups)
	}
	b.ReportMetric(float64(cc.searches), "searches/op")
	b.ReportMetric(float64(groups), "groups")
}
