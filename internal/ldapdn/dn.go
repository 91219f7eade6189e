// Package ldapdn puts LDAP distinguished names in one canonical form, so that two
// strings naming the same directory entry compare equal as strings (map keys,
// field indexes).
//
// It is the one implementation used by internal/ldap (profile mappings, group
// membership) and internal/access and internal/engine (a Group's ldapGroups
// against a User's directoryGroups). It parses RFC 4514 itself, with the
// standard library only, so that internal/access does not link an LDAP
// client; its tests check the parsing against go-ldap's ParseDN.
package ldapdn

import (
	"encoding/hex"
	"slices"
	"strings"
	"unicode/utf8"
)

// Normalize returns the canonical form of a DN, or of a directory group name
// that is not a DN:
//
//   - a DN (RFC 4514, with ";" also accepted between RDNs as go-ldap does) is
//     parsed and written back with attribute types in lower case, escapes
//     undone and each value case-folded with its runs of white space made one
//     space and no space at either end (caseIgnoreMatch, the matching rule of
//     the usual naming attributes), the special characters of a value
//     escaped one way (\, \+ \" \\ \; \< \> and a leading \#), and the
//     attributes of a multi-valued RDN sorted. So `CN=Smith\2C  John+UID=JS`
//     and `uid=js + cn=smith\, john` both give `cn=smith\, john+uid=js`;
//   - a value written as #hex (the BER encoding of a string) is decoded to
//     the string, as go-ldap does;
//   - any other string (a group name such as "Domain Admins") is lower-cased
//     with its runs of white space made one space.
//
// Normalize is idempotent, and DNs that go-ldap's DN.Equal or DN.EqualFold
// finds equal normalise equal.
func Normalize(s string) string {
	if canonical(s) {
		return s // the common case, without a copy
	}
	return normalize(s)
}

// normalize is Normalize without the fast path.
func normalize(s string) string {
	rdns, ok := parse(s)
	if !ok {
		return foldValue(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, rdn := range rdns {
		if i > 0 {
			b.WriteByte(',')
		}
		if len(rdn) > 1 {
			slices.Sort(rdn)
		}
		for j, ava := range rdn {
			if j > 0 {
				b.WriteByte('+')
			}
			b.WriteString(ava)
		}
	}
	return b.String()
}

// canonical reports whether s is a DN already in the form normalize writes,
// of the plainest kind: single-valued RDNs of lower-case keystring types,
// with values of printable ASCII other than upper-case letters and the
// characters that are special anywhere in a value, and single spaces not at
// either end. A directory's DNs mostly are; Normalize returns them as they
// are (FuzzNormalize checks that normalize agrees).
func canonical(s string) bool {
	if s == "" {
		return false
	}
	for start := 0; ; {
		end := strings.IndexByte(s[start:], ',')
		if end < 0 {
			return canonicalAVA(s[start:])
		}
		if !canonicalAVA(s[start : start+end]) {
			return false
		}
		start += end + 1
	}
}

// canonicalAVA is canonical for one type=value.
func canonicalAVA(a string) bool {
	eq := strings.IndexByte(a, '=')
	if eq <= 0 || eq == len(a)-1 {
		return false
	}
	t, v := a[:eq], a[eq+1:]
	if t[0] < 'a' || t[0] > 'z' {
		return false
	}
	for i := 1; i < len(t); i++ {
		if c := t[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	if v[0] == ' ' || v[len(v)-1] == ' ' {
		return false
	}
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == ' ':
			if space {
				return false
			}
			space = true
			continue
		case c < 0x21 || c > 0x7e, c >= 'A' && c <= 'Z', strings.IndexByte(`\"+,;<>=#`, c) >= 0:
			return false
		}
		space = false
	}
	return true
}

// parse splits a DN into its RDNs, each a list of canonical "type=value"
// strings. ok is false if s is not a DN: empty, a type that is not a
// keystring or numeric OID, a missing "=", an unescaped " < > or NUL, a
// broken escape or #hex value, or an empty RDN.
func parse(s string) (rdns [][]string, ok bool) {
	if strings.TrimSpace(s) == "" {
		return nil, false
	}
	var rdn []string
	for i := 0; ; {
		ava, next, sep, ok := parseAVA(s, i)
		if !ok {
			return nil, false
		}
		rdn = append(rdn, ava)
		if sep != '+' {
			rdns = append(rdns, rdn)
			rdn = nil
		}
		if sep == 0 {
			return rdns, true
		}
		i = next
	}
}

// parseAVA reads one type=value from s[i:]. It returns the canonical
// "type=value", the index after the separator that ends it and that
// separator: ',' (also for ';'), '+' or 0 at the end of s.
func parseAVA(s string, i int) (ava string, next int, sep byte, ok bool) {
	eq := strings.IndexByte(s[i:], '=')
	if eq < 0 {
		return "", 0, 0, false
	}
	typ, ok := attributeType(s[i : i+eq])
	if !ok {
		return "", 0, 0, false
	}
	i += eq + 1
	// Leading spaces of a value are insignificant unless escaped.
	for i < len(s) && s[i] == ' ' {
		i++
	}
	var value string
	if i < len(s) && s[i] == '#' {
		end := i + 1
		for end < len(s) && !isSeparator(s[end]) && s[end] != ' ' {
			end++
		}
		value, ok = berString(s[i+1 : end])
		if !ok {
			return "", 0, 0, false
		}
		i = end
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i < len(s) && !isSeparator(s[i]) {
			return "", 0, 0, false
		}
	} else {
		value, i, ok = unescapeValue(s, i)
		if !ok {
			return "", 0, 0, false
		}
	}
	if i < len(s) {
		sep, next = s[i], i+1
		if sep == ';' {
			sep = ','
		}
	} else {
		next = i
	}
	return typ + "=" + escapeValue(foldValue(value)), next, sep, true
}

// attributeType trims t and checks it is a keystring (ALPHA *(ALPHA / DIGIT
// / "-")) or a numeric OID, returned in lower case.
func attributeType(t string) (string, bool) {
	t = strings.TrimSpace(t)
	if t == "" {
		return "", false
	}
	numeric := t[0] >= '0' && t[0] <= '9'
	for k := 0; k < len(t); k++ {
		c := t[k]
		switch {
		case c >= '0' && c <= '9':
		case c == '.' && numeric:
		case !numeric && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' && k > 0):
		default:
			return "", false
		}
	}
	return strings.ToLower(t), true
}

// unescapeValue reads a string value from s[i:] up to an unescaped separator
// or the end, undoing \c and \XX escapes and dropping the unescaped spaces at
// its end. It returns the index of the separator (or len(s)).
func unescapeValue(s string, i int) (value string, end int, ok bool) {
	start := i
	for i < len(s) && !isSeparator(s[i]) && s[i] != '\\' {
		if c := s[i]; c == '"' || c == '<' || c == '>' || c == 0 {
			return "", 0, false
		}
		i++
	}
	if i == len(s) || s[i] != '\\' {
		return strings.TrimRight(s[start:i], " "), i, true // no escapes: no copy
	}
	b := []byte(s[start:i])
	significant := len(strings.TrimRight(s[start:i], " ")) // len(b) without unescaped trailing spaces
	for i < len(s) {
		c := s[i]
		switch {
		case isSeparator(c):
			return string(b[:significant]), i, true
		case c == '"' || c == '<' || c == '>' || c == 0:
			return "", 0, false
		case c == '\\':
			if i+1 >= len(s) {
				return "", 0, false
			}
			if strings.IndexByte(` "#+,;<=>\\`, s[i+1]) >= 0 {
				b = append(b, s[i+1])
				i += 2
			} else {
				if i+2 >= len(s) {
					return "", 0, false
				}
				var x [1]byte
				if _, err := hex.Decode(x[:], []byte(s[i+1:i+3])); err != nil {
					return "", 0, false
				}
				b = append(b, x[0])
				i += 3
			}
			significant = len(b)
		default:
			b = append(b, c)
			i++
			if c != ' ' {
				significant = len(b)
			}
		}
	}
	return string(b[:significant]), i, true
}

func isSeparator(c byte) bool { return c == ',' || c == '+' || c == ';' }

// berString decodes the hex of one BER-encoded primitive value (tag, length
// in short or long form, contents) to its contents.
func berString(h string) (string, bool) {
	b, err := hex.DecodeString(h)
	if err != nil || len(b) < 2 || b[0]&0x20 != 0 || b[0]&0x1f == 0x1f {
		return "", false
	}
	n, rest := int(b[1]), b[2:]
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 3 || len(rest) < k {
			return "", false
		}
		n = 0
		for _, c := range rest[:k] {
			n = n<<8 | int(c)
		}
		rest = rest[k:]
	}
	if n != len(rest) {
		return "", false
	}
	return string(rest), true
}

// foldValue lower-cases v and makes its runs of white space one space, with
// none at either end. A value that is not UTF-8 is lower-cased byte by byte
// in ASCII, so that distinct bytes stay distinct.
func foldValue(v string) string {
	if folded, ok := foldASCII(v); ok {
		return folded
	}
	if utf8.ValidString(v) {
		v = strings.ToLower(v)
	} else {
		b := []byte(v)
		for k, c := range b {
			if c >= 'A' && c <= 'Z' {
				b[k] = c + 'a' - 'A'
			}
		}
		v = string(b)
	}
	return strings.Join(strings.Fields(v), " ")
}

// foldASCII is foldValue for a value of ASCII characters other than the
// control characters (the common case), in one allocation at most. ok is
// false for any other value.
func foldASCII(v string) (string, bool) {
	var b []byte
	space := true // at the start, or after a space: drop further spaces
	for k := 0; k < len(v); k++ {
		c := v[k]
		if c < ' ' || c > '~' {
			return "", false
		}
		changed := c >= 'A' && c <= 'Z' || c == ' ' && space
		if changed && b == nil {
			b = make([]byte, k, len(v))
			copy(b, v[:k])
		}
		switch {
		case c == ' ' && space:
		case c >= 'A' && c <= 'Z':
			space = false
			b = append(b, c+'a'-'A')
		default:
			space = c == ' '
			if b != nil {
				b = append(b, c)
			}
		}
	}
	if b == nil {
		return strings.TrimRight(v, " "), true
	}
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return string(b), true
}

// escapeValue escapes the characters of a folded value that RFC 4514 requires
// escaped (a folded value has no space at either end).
func escapeValue(v string) string {
	if !strings.ContainsAny(v, "\\,+\";<>\x00") && !strings.HasPrefix(v, "#") {
		return v
	}
	var b strings.Builder
	b.Grow(len(v) + 4)
	for k := 0; k < len(v); k++ {
		c := v[k]
		switch {
		case c == 0:
			b.WriteString(`\00`)
			continue
		case strings.IndexByte("\\,+\";<>", c) >= 0, c == '#' && k == 0:
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}
