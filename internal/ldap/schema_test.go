package ldap

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRange(t *testing.T) {
	cases := map[string]struct {
		desc     string
		wantBase string
		want     valueRange
		ok       bool
	}{
		"first part":           {"member;range=0-1499", "member", valueRange{0, 1499}, true},
		"last part":            {"member;range=1500-*", "member", valueRange{1500, -1}, true},
		"only part":            {"member;range=0-*", "member", valueRange{0, -1}, true},
		"option case":          {"member;Range=3-5", "member", valueRange{3, 5}, true},
		"other option first":   {"member;x-opt;range=2-4", "member", valueRange{2, 4}, true},
		"plain":                {"member", "member", valueRange{}, false},
		"not a range option":   {"cn;lang-en", "cn", valueRange{}, false},
		"no dash":              {"member;range=15", "member", valueRange{}, false},
		"garbage low":          {"member;range=a-5", "member", valueRange{}, false},
		"high below low":       {"member;range=9-5", "member", valueRange{}, false},
		"negative low":         {"member;range=-1-5", "member", valueRange{}, false},
		"garbage high":         {"member;range=0-x", "member", valueRange{}, false},
		"empty range":          {"member;range=", "member", valueRange{}, false},
		"uniqueMember ranged":  {"uniqueMember;range=0-0", "uniqueMember", valueRange{0, 0}, true},
		"whitespace preserved": {"member ;range=0-1", "member ", valueRange{0, 1}, true},
	}
	for name, tc := range cases {
		base, r, ok := parseRange(tc.desc)
		if base != tc.wantBase || r != tc.want || ok != tc.ok {
			t.Errorf("%s: parseRange(%q) = %q, %+v, %t; want %q, %+v, %t", name, tc.desc, base, r, ok, tc.wantBase, tc.want, tc.ok)
		}
	}
}

func TestRangedValues(t *testing.T) {
	cases := map[string]struct {
		attrs      []Attribute
		wantValues []string
		wantNext   int
	}{
		"plain attribute is complete": {
			attrs:      []Attribute{{Name: "member", Values: []string{"a", "b"}}},
			wantValues: []string{"a", "b"}, wantNext: -1,
		},
		"case-insensitive name": {
			attrs:      []Attribute{{Name: "MEMBER", Values: []string{"a"}}},
			wantValues: []string{"a"}, wantNext: -1,
		},
		"first range asks for more": {
			attrs:      []Attribute{{Name: "cn", Values: []string{"g"}}, {Name: "member;range=0-2", Values: []string{"a", "b", "c"}}},
			wantValues: []string{"a", "b", "c"}, wantNext: 3,
		},
		"AD sends an empty plain attribute and the range": {
			attrs:      []Attribute{{Name: "member"}, {Name: "member;range=0-1", Values: []string{"a", "b"}}},
			wantValues: []string{"a", "b"}, wantNext: 2,
		},
		"last range": {
			attrs:      []Attribute{{Name: "member;range=1500-*", Values: []string{"z"}}},
			wantValues: []string{"z"}, wantNext: -1,
		},
		"other attribute's range is ignored": {
			attrs:      []Attribute{{Name: "memberOf;range=0-1", Values: []string{"x"}}},
			wantValues: nil, wantNext: -1,
		},
		"no values": {wantNext: -1},
	}
	for name, tc := range cases {
		values, next := rangedValues(&Entry{DN: "cn=g", Attributes: tc.attrs}, "member")
		if diff := cmp.Diff(tc.wantValues, values); diff != "" || next != tc.wantNext {
			t.Errorf("%s: next = %d (want %d), values (-want +got):\n%s", name, next, tc.wantNext, diff)
		}
	}
}

func TestMemberSchemas(t *testing.T) {
	cases := map[string]struct {
		attr     MemberAttribute
		raw      string
		wantKind memberKind
		want     string
	}{
		"member DN":                       {"member", " cn=a,dc=x ", dnValues, "cn=a,dc=x"},
		"member attribute case":           {"Member", "cn=a,dc=x", dnValues, "cn=a,dc=x"},
		"uniqueMember plain":              {"uniqueMember", "cn=a,dc=x", dnValues, "cn=a,dc=x"},
		"uniqueMember with UID":           {"uniqueMember", "cn=a,dc=x#'0101'B", dnValues, "cn=a,dc=x"},
		"uniqueMember with empty UID":     {"uniqueMember", "cn=a,dc=x#''B", dnValues, "cn=a,dc=x"},
		"uniqueMember escaped # kept":     {"uniqueMember", `cn=a\#b,dc=x`, dnValues, `cn=a\#b,dc=x`},
		"uniqueMember lower-case attr":    {"uniquemember", "cn=a,dc=x#'1'B", dnValues, "cn=a,dc=x"},
		"memberUid is a login":            {"memberUid", " fry ", loginValues, "fry"},
		"memberUid keeps a DN-like login": {"memberUid", "cn=x", loginValues, "cn=x"},
	}
	for name, tc := range cases {
		s, ok := schemaFor(tc.attr)
		if !ok {
			t.Errorf("%s: no schema for %q", name, tc.attr)
			continue
		}
		if s.kind != tc.wantKind {
			t.Errorf("%s: kind = %v, want %v", name, s.kind, tc.wantKind)
		}
		if got := s.value(tc.raw); got != tc.want {
			t.Errorf("%s: value(%q) = %q, want %q", name, tc.raw, got, tc.want)
		}
	}
	if _, ok := schemaFor("owner"); ok {
		t.Error("schemaFor(owner) found a schema")
	}
	if s, _ := schemaFor("member"); s.backlink != "memberOf" {
		t.Errorf("member's back link = %q, want memberOf", s.backlink)
	}
	if s, _ := schemaFor("memberUid"); s.backlink != "" {
		t.Errorf("memberUid has a back link %q", s.backlink)
	}
}

func TestFirstValueWins(t *testing.T) {
	e := &Entry{DN: "cn=x", Attributes: []Attribute{
		{Name: "uid", Values: []string{"", "  "}},
		{Name: "sAMAccountName", Values: []string{" JDoe "}},
		{Name: "mail", Values: []string{"jdoe@example.org", "john@example.org"}},
	}}
	cases := map[string]struct {
		attrs    []string
		want     string
		wantAttr string
	}{
		"blank uid skipped":      {[]string{"uid", "sAMAccountName", "mail"}, "JDoe", "sAMAccountName"},
		"order decides":          {[]string{"mail", "sAMAccountName"}, "jdoe@example.org", "mail"},
		"name case-insensitive":  {[]string{"SAMACCOUNTNAME"}, "JDoe", "SAMACCOUNTNAME"},
		"none present":           {[]string{"employeeNumber"}, "", ""},
		"first of multi-valued":  {[]string{"mail"}, "jdoe@example.org", "mail"},
		"missing then present":   {[]string{"employeeNumber", "mail"}, "jdoe@example.org", "mail"},
		"empty list finds none":  {nil, "", ""},
		"only blank values seen": {[]string{"uid"}, "", ""},
	}
	for name, tc := range cases {
		got, attr := firstValue(e, tc.attrs)
		if got != tc.want || attr != tc.wantAttr {
			t.Errorf("%s: firstValue(%v) = %q from %q, want %q from %q", name, tc.attrs, got, attr, tc.want, tc.wantAttr)
		}
	}
}

func TestAttrName(t *testing.T) {
	for _, ok := range []string{"uid", "sAMAccountName", "x-custom-1", "1.2.840.113556.1.4.221", "mail"} {
		if !attrName.MatchString(ok) {
			t.Errorf("%q rejected", ok)
		}
	}
	for _, bad := range []string{"", "uid)(objectClass=*", "uid=x", "1uid", "mail;lang-en", "a b", "uid*", "1", "1.", "ä"} {
		if attrName.MatchString(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}
