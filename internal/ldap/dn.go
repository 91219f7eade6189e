package ldap

import (
	"sort"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// NormalizeDN returns the form in which two DNs that name the same entry are
// equal: attribute types and values in lower case, white space around
// separators removed and runs of it inside values collapsed, the attributes
// of a multi-valued RDN sorted, and escapes written one way (a value that
// was written with \2C or \, comes out the same).
//
// For DNs without escapes or multi-valued RDNs the result is exactly that of
// access.NormalizeDN, the form the access package compares User and Group
// directory groups in. A string that does not parse as a DN (a group name,
// say) is normalised by access.NormalizeDN.
func NormalizeDN(dn string) string {
	if n, ok := normalizePlainDN(dn); ok {
		return n
	}
	parsed, err := goldap.ParseDN(dn)
	if err != nil || len(parsed.RDNs) == 0 {
		return access.NormalizeDN(dn)
	}
	var b strings.Builder
	b.Grow(len(dn))
	for i, rdn := range parsed.RDNs {
		if i > 0 {
			b.WriteByte(',')
		}
		avas := make([]string, len(rdn.Attributes))
		for j, ava := range rdn.Attributes {
			avas[j] = strings.ToLower(strings.TrimSpace(ava.Type)) + "=" + goldap.EscapeDN(foldValue(ava.Value))
		}
		if len(avas) > 1 {
			sort.Strings(avas)
		}
		b.WriteString(strings.Join(avas, "+"))
	}
	return b.String()
}

// normalizePlainDN is NormalizeDN's fast path for the common DN with no
// escapes, quotes, multi-valued RDNs or other special characters, where
// splitting at , and = is parsing. ok is false for any other string.
func normalizePlainDN(dn string) (string, bool) {
	if dn == "" || strings.ContainsAny(dn, `\+"#;<>`) {
		return "", false
	}
	var b strings.Builder
	b.Grow(len(dn))
	for i, rdn := range strings.Split(dn, ",") {
		typ, value, ok := strings.Cut(rdn, "=")
		typ = strings.TrimSpace(typ)
		if !ok || typ == "" {
			return "", false
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strings.ToLower(typ))
		b.WriteByte('=')
		b.WriteString(foldValue(value))
	}
	return b.String(), true
}

// foldValue lower-cases a value and collapses its runs of white space, as
// the caseIgnoreMatch of most naming attributes does.
func foldValue(v string) string {
	return strings.Join(strings.Fields(strings.ToLower(v)), " ")
}

// rdnValue returns the value of a DN's first RDN ("Amy Wong" for
// cn=Amy Wong+sn=Kroker,ou=people), or "" if dn does not parse.
func rdnValue(dn string) string {
	parsed, err := goldap.ParseDN(dn)
	if err != nil || len(parsed.RDNs) == 0 || len(parsed.RDNs[0].Attributes) == 0 {
		return ""
	}
	return parsed.RDNs[0].Attributes[0].Value
}
