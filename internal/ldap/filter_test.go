package ldap

import (
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
)

// hostile are values an attacker (or an unlucky directory) could put into a
// login or a DN: each must end up as one literal assertion value.
var hostile = []string{
	"*)(uid=*",
	"*",
	"fry)(|(objectClass=*",
	`back\slash`,
	"nul\x00byte",
	"(",
	")",
	"ünïcödé",
	`cn=Smith\, John (ops),ou=people,dc=example,dc=org`,
	"*)(&",
	"",
}

func TestEqualityFilterEscapes(t *testing.T) {
	for _, v := range hostile {
		f := equalityFilter("uid", v)
		p, err := goldap.CompileFilter(f)
		if err != nil {
			t.Errorf("equalityFilter(uid, %q) = %s does not compile: %v", v, f, err)
			continue
		}
		if p.Tag != goldap.FilterEqualityMatch || len(p.Children) != 2 {
			t.Errorf("equalityFilter(uid, %q) = %s is a %s filter, want one equality match",
				v, f, goldap.FilterMap[uint64(p.Tag)])
			continue
		}
		if attr, val := p.Children[0].Value, p.Children[1].Value; attr != "uid" || val != v {
			t.Errorf("equalityFilter(uid, %q) = %s asserts %v=%q", v, f, attr, val)
		}
	}
}

func TestInChainFilterEscapes(t *testing.T) {
	for _, v := range hostile {
		f := inChainFilter("memberOf", v)
		p, err := goldap.CompileFilter(f)
		if err != nil {
			t.Errorf("inChainFilter(%q) = %s does not compile: %v", v, f, err)
			continue
		}
		if p.Tag != goldap.FilterExtensibleMatch {
			t.Errorf("inChainFilter(%q) = %s is a %s filter, want an extensible match", v, f, goldap.FilterMap[uint64(p.Tag)])
			continue
		}
		// MatchingRuleAssertion: matchingRule [1], type [2], matchValue [3].
		var rule, typ, value any
		for _, c := range p.Children {
			switch c.Tag {
			case 1:
				rule = c.Value
			case 2:
				typ = c.Value
			case 3:
				value = c.Value
			}
		}
		if rule != InChainRule || typ != "memberOf" || value != v {
			t.Errorf("inChainFilter(%q) = %s: rule %v, type %v, value %q", v, f, rule, typ, value)
		}
	}
}

func TestLoginFilterStructure(t *testing.T) {
	cases := map[string]struct {
		attrs    []string
		login    string
		wantTag  int
		children int
	}{
		"one attribute is one equality":   {[]string{"uid"}, "*)(uid=*", goldap.FilterEqualityMatch, 2},
		"two attributes are an OR of two": {[]string{"uid", "mail"}, "*)(uid=*", goldap.FilterOr, 2},
		"three attributes":                {[]string{"uid", "mail", "sAMAccountName"}, "a*", goldap.FilterOr, 3},
	}
	for name, tc := range cases {
		f := andFilter(DefaultUserFilter, loginFilter(tc.attrs, tc.login))
		p, err := goldap.CompileFilter(f)
		if err != nil {
			t.Fatalf("%s: %s: %v", name, f, err)
		}
		if p.Tag != goldap.FilterAnd || len(p.Children) != 2 {
			t.Fatalf("%s: %s is not an AND of the user filter and the login filter", name, f)
		}
		login := p.Children[1]
		if int(login.Tag) != tc.wantTag || len(login.Children) != tc.children {
			t.Errorf("%s: login part of %s: tag %d with %d children, want %d with %d", name, f, login.Tag, len(login.Children), tc.wantTag, tc.children)
		}
		if tc.wantTag == goldap.FilterOr {
			for i, c := range login.Children {
				if c.Tag != goldap.FilterEqualityMatch || c.Children[0].Value != tc.attrs[i] || c.Children[1].Value != tc.login {
					t.Errorf("%s: %s: branch %d is not (%s=%q)", name, f, i, tc.attrs[i], tc.login)
				}
			}
		} else if login.Children[1].Value != tc.login {
			t.Errorf("%s: %s asserts %q", name, f, login.Children[1].Value)
		}
	}
}

func TestAndOrSingle(t *testing.T) {
	if got := andFilter("(a=1)"); got != "(a=1)" {
		t.Errorf("andFilter of one = %s", got)
	}
	if got := orFilter("(a=1)", "(b=2)"); got != "(|(a=1)(b=2))" {
		t.Errorf("orFilter = %s", got)
	}
	if got := andFilter("(a=1)", "(b=2)"); got != "(&(a=1)(b=2))" {
		t.Errorf("andFilter = %s", got)
	}
}

func BenchmarkLoginFilter(b *testing.B) {
	attrs := []string{"uid", "sAMAccountName", "mail"}
	for b.Loop() {
		andFilter(DefaultUserFilter, loginFilter(attrs, "*)(uid=*"))
	}
}
