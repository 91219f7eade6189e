package ldap_test

import (
	"context"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/ldap"
	"github.com/gatehouse-dev/gatehouse/internal/ldap/ldaptest"
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
