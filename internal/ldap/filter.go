package ldap

import (
	"strings"

	goldap "github.com/go-ldap/ldap/v3"
)

// Filters are built here only. A value from outside (a login, a DN read from
// the server) always goes through goldap.EscapeFilter; an attribute name is
// checked against attrName before it is used; a configured filter is checked
// by compileFilter and then only ever wrapped whole.

// equalityFilter returns (attr=value) with value escaped.
func equalityFilter(attr, value string) string {
	return "(" + attr + "=" + goldap.EscapeFilter(value) + ")"
}

// inChainFilter returns (attr:1.2.840.113556.1.4.1941:=dn) with dn escaped.
func inChainFilter(attr, dn string) string {
	return "(" + attr + ":" + InChainRule + ":=" + goldap.EscapeFilter(dn) + ")"
}

// andFilter joins filters with &; one filter is returned as it is.
func andFilter(filters ...string) string {
	if len(filters) == 1 {
		return filters[0]
	}
	return "(&" + strings.Join(filters, "") + ")"
}

// orFilter joins filters with |; one filter is returned as it is.
func orFilter(filters ...string) string {
	if len(filters) == 1 {
		return filters[0]
	}
	return "(|" + strings.Join(filters, "") + ")"
}

// loginFilter matches an entry whose login attributes hold login.
func loginFilter(attrs []string, login string) string {
	fs := make([]string, len(attrs))
	for i, a := range attrs {
		fs[i] = equalityFilter(a, login)
	}
	return orFilter(fs...)
}

// compileFilter reports whether f is a valid RFC 4515 filter.
func compileFilter(f string) error {
	_, err := goldap.CompileFilter(f)
	return err
}
