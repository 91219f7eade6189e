package ldap

import (
	"strings"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse-dev/gatehouse/internal/access"
)

func TestNormalizeDN(t *testing.T) {
	cases := map[string]struct {
		a, b  string
		equal bool
	}{
		"attribute type case":      {"CN=Fry,OU=People,DC=Example,DC=Com", "cn=Fry,ou=People,dc=Example,dc=Com", true},
		"value case":               {"cn=Philip J. Fry,dc=x", "cn=philip j. fry,dc=x", true},
		"spaces around separators": {"cn=Fry , ou = people,dc=x", "cn=Fry,ou=people,dc=x", true},
		"runs of spaces in values": {"cn=Amy  Wong,dc=x", "cn=Amy Wong,dc=x", true},
		"escaped comma two ways":   {`cn=Smith\, John,dc=x`, `cn=Smith\2C John,dc=x`, true},
		"escaped comma vs split":   {`cn=Smith\, John,dc=x`, `cn=Smith,cn=John,dc=x`, false},
		"multi-valued RDN order":   {"cn=Amy Wong+sn=Kroker,dc=x", "sn=Kroker+cn=Amy Wong,dc=x", true},
		"different value":          {"cn=Fry,dc=x", "cn=Leela,dc=x", false},
		"different depth":          {"cn=Fry,dc=x", "cn=Fry,ou=a,dc=x", false},
		"different type":           {"cn=Fry,dc=x", "uid=Fry,dc=x", false},
		"escaped plus in value":    {`cn=a\+b,dc=x`, `cn=a\2Bb,dc=x`, true},
		"escaped plus vs two AVAs": {`cn=a\+b=c,dc=x`, `cn=a+b=c,dc=x`, false},
		"utf-8 value":              {"cn=Jürgen,dc=x", "cn=JÜRGEN,dc=x", true},
		"utf-8 hex escaped":        {"cn=J\\c3\\bcrgen,dc=x", "cn=Jürgen,dc=x", true},
		"name, not a DN":           {"Ship_Crew", "ship_crew", true},
	}
	for name, tc := range cases {
		na, nb := NormalizeDN(tc.a), NormalizeDN(tc.b)
		if (na == nb) != tc.equal {
			t.Errorf("%s: NormalizeDN(%q) = %q, NormalizeDN(%q) = %q; equal = %t, want %t", name, tc.a, na, tc.b, nb, na == nb, tc.equal)
		}
	}
}

// The access package compares directory groups with access.NormalizeDN: for
// the DNs directories commonly have, both functions must agree, so a DN this
// package writes matches a Group's ldapGroups the way access expects.
func TestNormalizeDNAgreesWithAccess(t *testing.T) {
	for _, dn := range []string{
		"cn=ship_crew,ou=people,dc=planetexpress,dc=com",
		"CN=Admin Staff, OU=Groups, DC=Example, DC=Org",
		"cn=Amy Wong+sn=Kroker,ou=people,dc=planetexpress,dc=com",
		"uid=fry,ou=people,dc=planetexpress,dc=com",
		"cn=Hubert J. Farnsworth,ou=people,dc=planetexpress,dc=com",
		"cn=a   b,dc=x",
		"ship_crew",
		"Domain Admins",
	} {
		if got, want := NormalizeDN(dn), access.NormalizeDN(dn); got != want {
			t.Errorf("NormalizeDN(%q) = %q, access.NormalizeDN = %q", dn, got, want)
		}
	}
}

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

func BenchmarkNormalizeDN(b *testing.B) {
	for b.Loop() {
		NormalizeDN("CN=Hubert J. Farnsworth, OU=People, DC=PlanetExpress, DC=Com")
	}
}

// The fast path gives what parsing gives.
func TestNormalizePlainDNMatchesParsing(t *testing.T) {
	for _, dn := range []string{
		"cn=Fry,ou=People,dc=x", "CN = Amy  Wong , OU=people,DC=X", "uid=*)(uid=*,ou=people,dc=x", "cn=a=b,dc=x",
		"cn=Jürgen,dc=x", "cn=,dc=x", "o=Example Inc.,c=US", "cn=(ops),dc=x",
	} {
		fast, ok := normalizePlainDN(dn)
		if !ok {
			t.Errorf("%q: fast path refused", dn)
			continue
		}
		parsed, err := goldap.ParseDN(dn)
		if err != nil {
			t.Fatalf("%q: %v", dn, err)
		}
		var slow []string
		for _, rdn := range parsed.RDNs {
			a := rdn.Attributes[0]
			slow = append(slow, strings.ToLower(a.Type)+"="+goldap.EscapeDN(foldValue(a.Value)))
		}
		if want := strings.Join(slow, ","); fast != want {
			t.Errorf("%q: fast path %q, parsed %q", dn, fast, want)
		}
	}
	for _, dn := range []string{"", `cn=a\,b,dc=x`, "cn=a+sn=b,dc=x", "name", "cn=a,,dc=x", "=x,dc=y", `cn="q",dc=x`, "cn=#41,dc=x"} {
		if n, ok := normalizePlainDN(dn); ok {
			t.Errorf("%q: fast path took it: %q", dn, n)
		}
	}
}
