package adtest

import (
	"slices"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
)

// TestFixture checks the domain against the fixture through Samba itself:
// the accounts exist with the flags the presets rely on, and Grace.Hopper's
// only membership is her primary group.
func TestFixture(t *testing.T) {
	s := Start(t)
	c, err := s.Admin()
	if err != nil {
		t.Fatalf("%v\n%s", err, s.Logs())
	}
	defer func() { _ = c.Close() }()
	res, err := c.Search(goldap.NewSearchRequest(StaffOU, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=user)", []string{"sAMAccountName", "userAccountControl", "primaryGroupID", "memberOf"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != len(Users) {
		t.Fatalf("%d users in %s, want %d", len(res.Entries), StaffOU, len(Users))
	}
	for _, e := range res.Entries {
		if e.GetAttributeValue("sAMAccountName") != "Grace.Hopper" {
			continue
		}
		if got := e.GetAttributeValues("memberOf"); len(got) != 0 {
			t.Errorf("Grace.Hopper memberOf = %v, want none (her only group is the primary one)", got)
		}
		if e.GetAttributeValue("primaryGroupID") == "513" {
			t.Error("Grace.Hopper's primary group is Domain Users, want Contractors")
		}
	}
	res, err = c.Search(goldap.NewSearchRequest(ComputerDN("WS01"), goldap.ScopeBaseObject, goldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=user)", []string{"objectClass"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 1 || !slices.Contains(res.Entries[0].GetAttributeValues("objectClass"), "computer") {
		t.Errorf("WS01 is not a computer of objectClass user: %v", res.Entries)
	}
}
