package ldap_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/ldap"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/ldaptest"
)

// nestingTree is a BigNestedTree of 121 groups (four levels below the root)
// plus user "wide", a direct member of 250 groups w000…w249 that wide-top
// lists: a level wider than one search of Lookup asks about.
func nestingTree() *ldaptest.Tree {
	t := ldaptest.BigNestedTree(300, 121, 5)
	s := ldaptest.DefaultSuffix
	p, g := ldaptest.People(s), ldaptest.Groups(s)
	wide := ldaptest.Person(p, "wide", "Wide Member", "wide@example.org")
	t.Entries = append(t.Entries, wide)
	var ws []string
	for i := range 250 {
		e := ldaptest.GroupOfNames(g, fmt.Sprintf("w%03d", i), wide.DN)
		ws = append(ws, e.DN)
		t.Entries = append(t.Entries, e)
	}
	t.Entries = append(t.Entries, ldaptest.GroupOfNames(g, "wide-top", ws...))
	return t
}

// On a directory whose groups list only users and groups the group search
// reads, nested: ActiveDirectory needs no in-chain search, so even slapd,
// which has no in-chain rule, gives the exact memberships: those of
// Recursive without a depth bound, in the users and groups searches alone.
func TestReadActiveDirectoryWithoutInChainSearches(t *testing.T) {
	t.Parallel()
	s := ldaptest.Start(t, nestingTree())
	c := dial(t, adminConfig(s))
	rec := read(t, c, groupQuery(s, ldap.MemberAttributeMember, ldap.NestingRecursive, 1000))
	ad := read(t, c, groupQuery(s, ldap.MemberAttributeMember, ldap.NestingActiveDirectory, 1))
	if diff := cmp.Diff(memberships(rec), memberships(ad)); diff != "" {
		t.Errorf("ActiveDirectory differs from Recursive (-recursive +ad):\n%s", diff)
	}
	if ad.Stats.Searches != 2 {
		t.Errorf("%d searches, want 2", ad.Stats.Searches)
	}
	if got := len(memberships(ad)[ldaptest.BigUser(0)]); got < 5 {
		t.Errorf("%s is in %d groups, want its direct ones and the groups above them", ldaptest.BigUser(0), got)
	}
}

// Lookup walks Recursive nesting up one search per level (per 100 groups of
// a level), and finds what Read finds.
func TestLookupRecursiveSearchesPerLevel(t *testing.T) {
	t.Parallel()
	s := ldaptest.Start(t, nestingTree())
	c := &countingConn{Conn: dial(t, adminConfig(s))}
	ctx := context.Background()
	q := groupQuery(s, ldap.MemberAttributeMember, ldap.NestingRecursive, 10)
	snap := read(t, c, q)
	for _, want := range snap.Users {
		c.searches = 0
		got, err := ldap.Lookup(ctx, c, q, want.Login)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, *got); diff != "" {
			t.Errorf("Lookup(%s) differs from Read (-read +lookup):\n%s", want.Login, diff)
		}
		// The user, its direct groups, and at most one search for each of
		// the four levels above them and one finding nothing more.
		if want.Login != "wide" && c.searches > 2+4+1 {
			t.Errorf("Lookup(%s) in %d groups made %d searches, want at most 7", want.Login, len(want.Groups), c.searches)
		}
	}
	c.searches = 0
	u, err := ldap.Lookup(ctx, c, q, "wide")
	if err != nil {
		t.Fatal(err)
	}
	// The user, its 250 groups, the groups listing them (100, 100, 50 per
	// search: wide-top), and those listing wide-top (none).
	if len(u.Groups) != 251 || c.searches != 6 {
		t.Errorf("Lookup(wide) found %d groups in %d searches, want 251 in 6", len(u.Groups), c.searches)
	}
}
