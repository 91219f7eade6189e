package ldap

import (
	"regexp"
	"strconv"
	"strings"
)

// MemberAttribute is the attribute of a group entry that lists its members.
// The values are those of the Directory's MemberAttribute.
type MemberAttribute string

// The member attributes of the common schemas.
const (
	// MemberAttributeMember is RFC 4519 groupOfNames and Active Directory
	// group: the values are member DNs, users or groups.
	MemberAttributeMember MemberAttribute = "member"
	// MemberAttributeUniqueMember is RFC 4519 groupOfUniqueNames: member DNs,
	// each optionally followed by #'bits'B (RFC 4517 NameAndOptionalUID).
	MemberAttributeUniqueMember MemberAttribute = "uniqueMember"
	// MemberAttributeMemberUID is RFC 2307 posixGroup: the values are
	// logins, so groups cannot nest.
	MemberAttributeMemberUID MemberAttribute = "memberUid"
)

// Nesting says how memberships of nested groups are resolved. The values are
// those of the Directory's NestedGroups.
type Nesting string

// The nesting modes.
const (
	// NestingNone counts direct members only.
	NestingNone Nesting = "None"
	// NestingRecursive expands member groups here, with cycle detection and
	// a depth bound.
	NestingRecursive Nesting = "Recursive"
	// NestingActiveDirectory counts the members the server's in-chain
	// matching rule (LDAP_MATCHING_RULE_IN_CHAIN) counts: through any chain,
	// to any depth. Read expands in memory where the member values it read
	// show every chain, and asks the server only below the DNs they cannot
	// show (chains.go); Lookup asks it in one search.
	NestingActiveDirectory Nesting = "ActiveDirectory"
)

// InChainRule is Active Directory's LDAP_MATCHING_RULE_IN_CHAIN: a filter
// (member:1.2.840.113556.1.4.1941:=DN) follows the member links transitively.
const InChainRule = "1.2.840.113556.1.4.1941"

// memberKind says what a member attribute's values name.
type memberKind int

const (
	// dnValues: the values are DNs of users or groups.
	dnValues memberKind = iota
	// loginValues: the values are logins of users.
	loginValues
)

// memberSchema is how one member attribute is read: the schema differences
// are this data, not branches in the code that reads groups.
type memberSchema struct {
	// attribute is the canonical attribute name.
	attribute MemberAttribute
	// kind says whether values are DNs or logins.
	kind memberKind
	// value turns a raw value into the DN or login it names ("" to skip it).
	value func(string) string
	// backlink is the user attribute the server keeps in step with attribute,
	// for in-chain searches of users ("" when there is none).
	backlink string
	// standard names the schema, for messages.
	standard string
}

var memberSchemas = map[string]memberSchema{
	"member": {
		attribute: MemberAttributeMember, kind: dnValues, value: strings.TrimSpace,
		backlink: "memberOf", standard: "RFC 4519 groupOfNames or Active Directory group",
	},
	"uniquemember": {
		attribute: MemberAttributeUniqueMember, kind: dnValues, value: uniqueMemberDN,
		standard: "RFC 4519 groupOfUniqueNames",
	},
	"memberuid": {
		attribute: MemberAttributeMemberUID, kind: loginValues, value: strings.TrimSpace,
		standard: "RFC 2307 posixGroup",
	},
}

// schemaFor returns the schema of a member attribute, compared
// case-insensitively.
func schemaFor(attr MemberAttribute) (memberSchema, bool) {
	s, ok := memberSchemas[strings.ToLower(string(attr))]
	return s, ok
}

// uidSuffix is the optional UID of a NameAndOptionalUID value: #'0101'B.
var uidSuffix = regexp.MustCompile(`#'[01]*'B$`)

// uniqueMemberDN strips the optional UID from a uniqueMember value. An
// escaped # (\#) in a DN is left alone: the suffix always has the quotes.
func uniqueMemberDN(v string) string {
	return strings.TrimSpace(uidSuffix.ReplaceAllString(strings.TrimSpace(v), ""))
}

// firstValue returns the first non-empty value among the attributes, in
// order, and the attribute it came from: the first non-empty one wins.
func firstValue(e *Entry, attrs []string) (value, attr string) {
	for _, a := range attrs {
		if v := e.First(a); v != "" {
			return v, a
		}
	}
	return "", ""
}

// attrName is an RFC 4512 attribute description without options: a name
// (descr) or a numeric OID. Only such names are put into a filter, so a
// configured name cannot change a filter's structure.
var attrName = regexp.MustCompile(`^(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)+)$`)

// valueRange is the range option of an attribute description that Active
// Directory returns for attributes with more values than its MaxValRange:
// member;range=0-1499, and member;range=1500-* for the last part.
type valueRange struct {
	// low is the index of the first value in this part.
	low int
	// high is the index of the last value, or -1 for * (the last part).
	high int
}

// last reports whether this is the final part.
func (r valueRange) last() bool { return r.high < 0 }

// parseRange splits an attribute description into its base name and range
// option. ok is false when there is no valid range option.
func parseRange(desc string) (base string, r valueRange, ok bool) {
	parts := strings.Split(desc, ";")
	base = parts[0]
	for _, opt := range parts[1:] {
		k, v, found := strings.Cut(opt, "=")
		if !found || !strings.EqualFold(k, "range") {
			continue
		}
		lo, hi, found := strings.Cut(v, "-")
		if !found {
			return base, valueRange{}, false
		}
		low, err := strconv.Atoi(lo)
		if err != nil || low < 0 {
			return base, valueRange{}, false
		}
		if hi == "*" {
			return base, valueRange{low: low, high: -1}, true
		}
		high, err := strconv.Atoi(hi)
		if err != nil || high < low {
			return base, valueRange{}, false
		}
		return base, valueRange{low: low, high: high}, true
	}
	return base, valueRange{}, false
}

// rangedValues gathers the values of attr from e: the plain attribute and a
// ranged part, if the server sent one. next is the index to ask for next,
// or -1 when the values are complete.
func rangedValues(e *Entry, attr string) (values []string, next int) {
	next = -1
	for _, a := range e.Attributes {
		if strings.EqualFold(a.Name, attr) {
			values = append(values, a.Values...)
			continue
		}
		base, r, ok := parseRange(a.Name)
		if !ok || !strings.EqualFold(base, attr) {
			continue
		}
		values = append(values, a.Values...)
		if !r.last() {
			next = r.high + 1
		}
	}
	return values, next
}

// rangeRequest is the attribute description that asks for the values of
// attr from index low on.
func rangeRequest(attr string, low int) string {
	return attr + ";range=" + strconv.Itoa(low) + "-*"
}
