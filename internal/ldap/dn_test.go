package ldap

import "testing"

func TestRDNValue(t *testing.T) {
	for in, want := range map[string]string{
		"cn=ship_crew,ou=people,dc=x": "ship_crew",
		`cn=Smith\, John,dc=x`:        "Smith, John",
		"cn=Amy Wong+sn=Kroker,dc=x":  "Amy Wong",
		"not a dn":                    "",
		"":                            "",
	} {
		if got := rdnValue(in); got != want {
			t.Errorf("rdnValue(%q) = %q, want %q", in, got, want)
		}
	}
}
