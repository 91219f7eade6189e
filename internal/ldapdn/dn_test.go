package ldapdn

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	goldap "github.com/go-ldap/ldap/v3"
)

// The cases on which the two former normalisers (internal/ldap's, which
// parsed, and internal/access's, which split at "," and "=") disagreed, and
// the common cases both got right.
func TestNormalize(t *testing.T) {
	tests := map[string]struct {
		reason string
		in     string
		want   string
	}{
		"plain": {
			reason: "types and values in lower case, no space around separators",
			in:     "CN=Fry , OU = People,DC=Example,DC=Com",
			want:   "cn=fry,ou=people,dc=example,dc=com",
		},
		"runs of spaces": {
			reason: "a run of white space in a value is one space",
			in:     " CN=Data  Scientists , OU=Groups,DC=corp ",
			want:   "cn=data scientists,ou=groups,dc=corp",
		},
		"escaped comma": {
			reason: `access split "cn=Smith\, John" at the escaped comma into "cn=smith\,john"`,
			in:     `cn=Smith\, John,dc=x`,
			want:   `cn=smith\, john,dc=x`,
		},
		"hex-escaped comma": {
			reason: `access kept \2C as it was, so it differed from \,`,
			in:     `cn=Smith\2C John,dc=x`,
			want:   `cn=smith\, john,dc=x`,
		},
		"escaped plus": {
			reason: `\+ and \2B are one character of the value`,
			in:     `cn=a\2Bb,dc=x`,
			want:   `cn=a\+b,dc=x`,
		},
		"escaped quote": {
			reason: `\" and \22 are one character of the value`,
			in:     `cn=The \22Crew\22,dc=x`,
			want:   `cn=the \"crew\",dc=x`,
		},
		"escaped backslash": {
			in:   `cn=a\\b,dc=x`,
			want: `cn=a\\b,dc=x`,
		},
		"utf-8 hex escapes": {
			reason: "access compared the escapes as text, so Jürgen differed from J\\c3\\bcrgen",
			in:     `cn=J\C3\BCRGEN,dc=x`,
			want:   "cn=jürgen,dc=x",
		},
		"multi-valued RDN": {
			reason: "access kept the written order and the spaces around +",
			in:     "sn=Kroker + CN=Amy Wong,dc=x",
			want:   "cn=amy wong+sn=kroker,dc=x",
		},
		"escaped leading space and hash": {
			in:   `cn=\#1\ ,dc=x`,
			want: `cn=\#1,dc=x`,
		},
		"ber hex value": {
			reason: "a #hex value is the BER encoding of the string, as go-ldap decodes it",
			in:     "cn=#0403465259,dc=x",
			want:   "cn=fry,dc=x",
		},
		"semicolon separator": {
			in:   "cn=fry;dc=x",
			want: "cn=fry,dc=x",
		},
		"numeric OID type": {
			in:   "2.5.4.3=Fry,dc=x",
			want: "2.5.4.3=fry,dc=x",
		},
		"equals sign in value": {
			in:   "cn=a=b,dc=x",
			want: "cn=a=b,dc=x",
		},
		"group name": {
			reason: "a name that is not a DN is lower case with its spaces folded",
			in:     "  Domain   Admins ",
			want:   "domain admins",
		},
		"empty RDN": {
			reason: "not a DN: folded as a name",
			in:     "cn=A,,dc=X",
			want:   "cn=a,,dc=x",
		},
		"empty": {in: "", want: ""},
	}
	for name, tc := range tests {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("%s: Normalize(%q) = %q, want %q (%s)", name, tc.in, got, tc.want, tc.reason)
		}
	}
}

func TestNormalizeEqual(t *testing.T) {
	tests := map[string]struct {
		a, b  string
		equal bool
	}{
		"escaped comma vs two RDNs": {`cn=Smith\, John,dc=x`, `cn=Smith,cn=John,dc=x`, false},
		"escaped plus vs two AVAs":  {`cn=a\+b=c,dc=x`, `cn=a+b=c,dc=x`, false},
		"different value":           {"cn=Fry,dc=x", "cn=Leela,dc=x", false},
		"different depth":           {"cn=Fry,dc=x", "cn=Fry,ou=a,dc=x", false},
		"different type":            {"cn=Fry,dc=x", "uid=Fry,dc=x", false},
		"RDN order matters":         {"cn=a,ou=b", "ou=b,cn=a", false},
		"AVA order does not":        {"cn=a+ou=b,dc=x", "OU=B+cn=A,dc=x", true},
		"repeated AVA counts":       {"cn=a+cn=a+cn=b,dc=x", "cn=a+cn=b+cn=b,dc=x", false},
		"ber vs string":             {"cn=#0c03616263", "cn=ABC", true},
		"escaped space in value":    {`cn=a\ \ b`, "cn=a b", true},
	}
	for name, tc := range tests {
		na, nb := Normalize(tc.a), Normalize(tc.b)
		if (na == nb) != tc.equal {
			t.Errorf("%s: Normalize(%q) = %q, Normalize(%q) = %q; equal = %t, want %t", name, tc.a, na, tc.b, nb, na == nb, tc.equal)
		}
	}
}

// goldapNormalize is the canonical form computed from go-ldap's parse, the
// reference Normalize's own parser is checked against.
func goldapNormalize(d *goldap.DN) string {
	rdns := make([]string, len(d.RDNs))
	for i, rdn := range d.RDNs {
		avas := make([]string, len(rdn.Attributes))
		for j, a := range rdn.Attributes {
			avas[j] = strings.ToLower(strings.TrimSpace(a.Type)) + "=" + escapeValue(foldValue(a.Value))
		}
		slices.Sort(avas)
		rdns[i] = strings.Join(avas, "+")
	}
	return strings.Join(rdns, ",")
}

var seeds = []string{
	"cn=Fry,ou=People,dc=x", `cn=Smith\, John,dc=x`, `cn=Smith\2C John,dc=x`, "cn=a+sn=b,dc=x",
	`cn=a\+b,dc=x`, `cn=\"q\",dc=x`, "cn=#0403616263,dc=x", `cn=J\c3\bcrgen,dc=x`, "Domain Admins",
	"cn=a , ou = b", "2.5.4.3=x", `cn=a\ `, "cn=a;dc=b", "", "cn=", "=x", "cn=a,,dc=x", `cn=\00`,
}

// FuzzNormalize checks the invariants: Normalize is idempotent; where
// go-ldap parses a DN with ordinary types, Normalize parses it to the same
// values; and DNs go-ldap finds equal (DN.EqualFold) normalise equal.
func FuzzNormalize(f *testing.F) {
	for _, a := range seeds {
		for _, b := range seeds[:4] {
			f.Add(a, b)
		}
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		na := Normalize(a)
		if slow := normalize(a); na != slow {
			t.Fatalf("the fast path gives Normalize(%q) = %q, normalize gives %q", a, na, slow)
		}
		if again := Normalize(na); again != na {
			t.Fatalf("not idempotent: Normalize(%q) = %q, Normalize(%q) = %q", a, na, na, again)
		}
		// go-ldap reads raw bytes that are not UTF-8 as U+FFFD; Normalize
		// keeps them.
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			return
		}
		da, errA := goldap.ParseDN(a)
		if errA != nil || len(da.RDNs) == 0 || !plainTypes(da) {
			return
		}
		if _, ok := parse(a); ok {
			if want := goldapNormalize(da); na != want {
				t.Fatalf("Normalize(%q) = %q, go-ldap parses it as %q", a, na, want)
			}
		}
		db, errB := goldap.ParseDN(b)
		if errB != nil || !plainTypes(db) {
			return
		}
		if da.EqualFold(db) {
			if nb := Normalize(b); na != nb {
				t.Fatalf("go-ldap: %q equals %q, but Normalize gives %q and %q", a, b, na, nb)
			}
		}
	})
}

// plainTypes is true if every attribute type is one Normalize accepts (go-ldap
// accepts any text, even escaped, as a type).
func plainTypes(d *goldap.DN) bool {
	for _, rdn := range d.RDNs {
		for _, a := range rdn.Attributes {
			if _, ok := attributeType(a.Type); !ok || a.Type != strings.TrimSpace(a.Type) {
				return false
			}
		}
	}
	return true
}

func BenchmarkNormalize(b *testing.B) {
	for b.Loop() {
		Normalize("CN=Hubert J. Farnsworth, OU=People, DC=PlanetExpress, DC=Com")
	}
}

// TestCanonicalNoCopy: a DN already in canonical form, as directories
// mostly return them, is returned as it is, without an allocation; others
// take the parser.
func TestCanonicalNoCopy(t *testing.T) {
	for dn, want := range map[string]bool{
		"cn=team 1,ou=groups,dc=corp,dc=example":    true,
		"uid=fry,ou=people,dc=planetexpress,dc=com": true,
		"CN=Team 1,OU=Groups,DC=corp":               false,
		"cn=smith\\, john,dc=example":               false,
		"cn=a+uid=b,dc=example":                     false,
		"cn=two  spaces,dc=example":                 false,
		"cn= lead,dc=example":                       false,
		"Domain Admins":                             false,
	} {
		if got := canonical(dn); got != want {
			t.Errorf("canonical(%q) = %v, want %v", dn, got, want)
		}
		if got := Normalize(dn); got != normalize(dn) {
			t.Errorf("Normalize(%q) = %q, normalize gives %q", dn, got, normalize(dn))
		}
	}
	if n := testing.AllocsPerRun(100, func() { Normalize("cn=team 1,ou=groups,dc=corp,dc=example") }); n != 0 {
		t.Errorf("Normalize of a canonical DN allocates %v times, want 0", n)
	}
}
