package ldap_test

import (
	"context"
	"fmt"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse-dev/gatehouse/internal/ldap"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/adtest"
)

// sambaTreeGroups is the size of BenchmarkNestedSamba's group tree.
const sambaTreeGroups = 1000

// BenchmarkNestedSamba reads a 1,000-group tree from a real Samba AD domain
// controller with schema ActiveDirectory (nested by the in-chain rule): the
// fixture's domain plus groups tree-0 … tree-999 in a ternary tree (each
// group lists three child groups; the leaves list a fixture user each).
// "read" is one Read as the sync makes it now; "in-chain-search" is one of
// the searches a Read made per group before issue 17 (an in-chain search of
// the users below a group of the tree), which the sync no longer makes when
// the member values read show every chain: a Read made 1,000 of them. Adding
// the tree is not timed.
func BenchmarkNestedSamba(b *testing.B) {
	s := adtest.Start(b)
	admin, err := s.Admin()
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	dn := func(i int) string { return fmt.Sprintf("CN=tree-%d,%s", i, adtest.GroupsOU) }
	// Children first, so that every member value names an entry.
	for i := sambaTreeGroups - 1; i >= 0; i-- {
		req := goldap.NewAddRequest(dn(i), nil)
		req.Attribute("objectClass", []string{"group"})
		req.Attribute("sAMAccountName", []string{fmt.Sprintf("tree-%d", i)})
		var members []string
		for c := 3*i + 1; c <= 3*i+3 && c < sambaTreeGroups; c++ {
			members = append(members, dn(c))
		}
		if len(members) == 0 {
			members = []string{"CN=" + adtest.Users[i%len(adtest.Users)].CN + "," + adtest.StaffOU}
		}
		req.Attribute("member", members)
		if err := admin.Add(req); err != nil {
			b.Fatalf("adding %s: %v", dn(i), err)
		}
	}
	c := dial(b, adConfig(s))
	b.Run("read", func(b *testing.B) {
		var searches int
		for b.Loop() {
			cc := &countingConn{Conn: c}
			snap, err := ldap.Read(context.Background(), cc, adQuery())
			if err != nil {
				b.Fatal(err)
			}
			if len(snap.Groups) < sambaTreeGroups {
				b.Fatalf("read %d groups", len(snap.Groups))
			}
			searches = cc.searches
		}
		b.ReportMetric(float64(searches), "searches/op")
	})
	b.Run("in-chain-search", func(b *testing.B) {
		i := 0
		for b.Loop() {
			err := c.Search(context.Background(), ldap.SearchRequest{
				BaseDN: adtest.BaseDN, Scope: ldap.ScopeSub,
				Filter:     "(&" + ldap.ADUserFilter + "(memberOf:1.2.840.113556.1.4.1941:=" + goldap.EscapeFilter(dn(i%sambaTreeGroups)) + "))",
				Attributes: []string{"1.1"}, PageSize: 500,
			}, func(*ldap.Entry) error { return nil })
			if err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
