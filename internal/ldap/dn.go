package ldap

import (
	goldap "github.com/go-ldap/ldap/v3"
)

// rdnValue returns the value of a DN's first RDN ("Amy Wong" for
// cn=Amy Wong+sn=Kroker,ou=people), or "" if dn does not parse.
func rdnValue(dn string) string {
	parsed, err := goldap.ParseDN(dn)
	if err != nil || len(parsed.RDNs) == 0 || len(parsed.RDNs[0].Attributes) == 0 {
		return ""
	}
	return parsed.RDNs[0].Attributes[0].Value
}
