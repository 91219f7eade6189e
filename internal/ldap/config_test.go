package ldap

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

func TestEndpoint(t *testing.T) {
	cases := map[string]struct {
		cfg    Config
		want   endpoint
		errHas string
	}{
		"ldap default port":    {cfg: Config{URL: "ldap://ldap.example.org"}, want: endpoint{host: "ldap.example.org", addr: "ldap.example.org:389"}},
		"ldaps default port":   {cfg: Config{URL: "ldaps://ldap.example.org"}, want: endpoint{tls: true, host: "ldap.example.org", addr: "ldap.example.org:636"}},
		"explicit port":        {cfg: Config{URL: "ldap://127.0.0.1:1389/"}, want: endpoint{host: "127.0.0.1", addr: "127.0.0.1:1389"}},
		"IPv6":                 {cfg: Config{URL: "ldaps://[::1]:1636"}, want: endpoint{tls: true, host: "::1", addr: "[::1]:1636"}},
		"scheme case":          {cfg: Config{URL: "LDAPS://x"}, want: endpoint{tls: true, host: "x", addr: "x:636"}},
		"startTLS with ldap":   {cfg: Config{URL: "ldap://x", StartTLS: true}, want: endpoint{host: "x", addr: "x:389"}},
		"startTLS with ldaps":  {cfg: Config{URL: "ldaps://x", StartTLS: true}, errHas: "drop startTLS or use ldap://"},
		"http scheme":          {cfg: Config{URL: "http://x"}, errHas: `has scheme "http"`},
		"no host":              {cfg: Config{URL: "ldap://"}, errHas: "not a valid LDAP URL"},
		"not a URL":            {cfg: Config{URL: "ldap.example.org"}, errHas: "not a valid LDAP URL"},
		"base DN in the path":  {cfg: Config{URL: "ldap://x/dc=example,dc=org"}, errHas: "put the base DN into users.baseDN"},
		"control chars in URL": {cfg: Config{URL: "ldap://x\n"}, errHas: "not a valid LDAP URL"},
	}
	for name, tc := range cases {
		got, err := tc.cfg.endpoint()
		if tc.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errHas) || ReasonOf(err) != ReasonInvalidConfig {
				t.Errorf("%s: err = %v, want InvalidConfig containing %q", name, err, tc.errHas)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: endpoint() = %+v, %v; want %+v", name, got, err, tc.want)
		}
	}
}

func TestConfigNeverPrintsPassword(t *testing.T) {
	const pw = "s3cr3t-Passw0rd"
	cfg := Config{URL: "ldap://x", BindDN: "cn=admin,dc=x", BindPassword: pw}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{cfg, &cfg} {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, pw) {
				t.Errorf("Sprintf(%s, %T) prints the password: %s", verb, v, out)
			}
		}
	}
	if !strings.Contains(cfg.String(), "<redacted>") {
		t.Errorf("String() = %s does not say a password is set", cfg.String())
	}
}

func TestDialRejectsBadConfigBeforeConnecting(t *testing.T) {
	cases := map[string]struct {
		cfg    Config
		errHas string
	}{
		"password without DN": {Config{URL: "ldap://127.0.0.1:1", BindPassword: "x", BindPasswordSource: `Secret "b" key "p"`},
			`a bind password is configured (Secret "b" key "p") but no bind DN`},
		"DN without password": {Config{URL: "ldap://127.0.0.1:1", BindDN: "cn=a,dc=x", BindPasswordSource: `Secret "b" key "p"`},
			`bind DN cn=a,dc=x has an empty password; put the password into Secret "b" key "p"`},
		"CA bundle without certificate": {Config{URL: "ldaps://127.0.0.1:1", CABundle: []byte("not PEM"), CASource: `Secret "ca" key "ca.crt"`},
			`the CA bundle in Secret "ca" key "ca.crt" holds no PEM certificate`},
		"bad scheme": {Config{URL: "ftp://x"}, `has scheme "ftp"`},
	}
	for name, tc := range cases {
		c, err := Dial(context.Background(), tc.cfg)
		if c != nil || err == nil || ReasonOf(err) != ReasonInvalidConfig || !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("%s: Dial = %v, %v; want InvalidConfig containing %q", name, c, err, tc.errHas)
		}
	}
}

func TestQueryValidate(t *testing.T) {
	base := func() Query {
		return Query{Users: UserQuery{BaseDN: people}, Groups: &GroupQuery{BaseDN: groups}}
	}
	cases := map[string]struct {
		mutate func(*Query)
		errHas string
	}{
		"defaults are valid":          {func(*Query) {}, ""},
		"no groups is valid":          {func(q *Query) { q.Groups = nil }, ""},
		"empty users base":            {func(q *Query) { q.Users.BaseDN = " " }, "users.baseDN is empty"},
		"users base not a DN":         {func(q *Query) { q.Users.BaseDN = "people" }, `users.baseDN "people" is not a DN`},
		"filter without parentheses":  {func(q *Query) { q.Users.Filter = "objectClass=person" }, "users.filter objectClass=person is not a valid LDAP filter"},
		"unbalanced group filter":     {func(q *Query) { q.Groups.Filter = "(|(cn=a)" }, "groups.filter (|(cn=a) is not a valid LDAP filter"},
		"bad scope":                   {func(q *Query) { q.Users.Scope = "Tree" }, `users.scope "Tree" is not one of Base, One, Sub`},
		"login attribute injection":   {func(q *Query) { q.Users.LoginAttributes = []string{"uid)(x=*"} }, `users.loginAttributes "uid)(x=*" is not an attribute name`},
		"email attribute with option": {func(q *Query) { q.Users.EmailAttribute = "mail;lang-en" }, "users.emailAttribute"},
		"unknown member attribute":    {func(q *Query) { q.Groups.MemberAttribute = "owner" }, `groups.memberAttribute "owner" is not one of`},
		"nesting with memberUid": {func(q *Query) {
			q.Groups.MemberAttribute = MemberAttributeMemberUID
			q.Groups.Nested = NestingRecursive
		}, "lists logins, so its groups cannot contain groups; set nested to None"},
		"AD nesting with uniqueMember": {func(q *Query) {
			q.Groups.MemberAttribute = MemberAttributeUniqueMember
			q.Groups.Nested = NestingActiveDirectory
		}, "needs memberAttribute member"},
		"unknown nesting":     {func(q *Query) { q.Groups.Nested = "Deep" }, `groups.nested "Deep"`},
		"groups base missing": {func(q *Query) { q.Groups.BaseDN = "" }, "groups.baseDN is empty"},
	}
	for name, tc := range cases {
		q := base()
		tc.mutate(&q)
		err := q.withDefaults().validate()
		if tc.errHas == "" {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.errHas) || ReasonOf(err) != ReasonInvalidConfig {
			t.Errorf("%s: err = %v, want InvalidConfig containing %q", name, err, tc.errHas)
		}
	}
}

func TestWithDefaultsDoesNotShareSlices(t *testing.T) {
	q := Query{Users: UserQuery{BaseDN: people}}.withDefaults()
	q.Users.LoginAttributes[0] = "changed"
	if DefaultLoginAttributes[0] != "uid" {
		t.Fatalf("withDefaults shares DefaultLoginAttributes: %v", DefaultLoginAttributes)
	}
}

func TestFromSpec(t *testing.T) {
	depth := int32(4)
	spec := &iamv1alpha1.DirectorySpec{
		URL:                   "ldaps://ldap.example.org",
		TLS:                   &iamv1alpha1.DirectoryTLS{CASecretRef: &iamv1alpha1.SecretKeySelector{Name: "ldap-ca", Key: "ca.crt"}, ServerName: "ldap.internal", InsecureSkipVerify: true},
		BindDN:                "cn=sync,dc=example,dc=org",
		BindPasswordSecretRef: &iamv1alpha1.SecretKeySelector{Name: "ldap-bind", Key: "password"},
		Users: iamv1alpha1.DirectoryUsers{
			BaseDN: "ou=people,dc=example,dc=org", Filter: "(objectClass=inetOrgPerson)", Scope: iamv1alpha1.ScopeOne,
			LoginAttributes: []string{"sAMAccountName", "uid"}, LowercaseLogins: new(true),
			DisplayNameAttributes: []string{"cn"}, EmailAttribute: "userPrincipalName",
		},
		Groups: &iamv1alpha1.DirectoryGroups{
			BaseDN: "ou=groups,dc=example,dc=org", Filter: "(objectClass=group)", Scope: iamv1alpha1.ScopeSub,
			NameAttribute: "name", MemberAttribute: iamv1alpha1.MemberAttributeMember,
			Nested: iamv1alpha1.NestedRecursive, MaxNestingDepth: depth,
		},
		Timeout:  metav1.Duration{Duration: 7 * time.Second},
		PageSize: 200,
	}
	wantQ := Query{
		Users: UserQuery{BaseDN: "ou=people,dc=example,dc=org", Filter: "(objectClass=inetOrgPerson)", Scope: ScopeOne,
			LoginAttributes: []string{"sAMAccountName", "uid"}, LowercaseLogins: new(true),
			DisplayNameAttributes: []string{"cn"}, EmailAttribute: "userPrincipalName"},
		Groups: &GroupQuery{BaseDN: "ou=groups,dc=example,dc=org", Filter: "(objectClass=group)", Scope: ScopeSub,
			NameAttribute: "name", MemberAttribute: MemberAttributeMember, Nested: NestingRecursive, MaxNestingDepth: 4},
		PageSize: 200,
	}
	if diff := cmp.Diff(wantQ, QueryFromSpec(spec)); diff != "" {
		t.Errorf("QueryFromSpec (-want +got):\n%s", diff)
	}
	wantC := Config{URL: "ldaps://ldap.example.org", CABundle: []byte("PEM"), CASource: `Secret "ldap-ca" key "ca.crt"`,
		ServerName: "ldap.internal", InsecureSkipVerify: true, BindDN: "cn=sync,dc=example,dc=org", BindPassword: "pw",
		BindPasswordSource: `Secret "ldap-bind" key "password"`, Timeout: 7 * time.Second}
	if diff := cmp.Diff(wantC, ConfigFromSpec(spec, "pw", []byte("PEM"))); diff != "" {
		t.Errorf("ConfigFromSpec (-want +got):\n%s", diff)
	}

	// A spec as the API server stores it when nothing is set gets this
	// package's defaults.
	bare := QueryFromSpec(&iamv1alpha1.DirectorySpec{Users: iamv1alpha1.DirectoryUsers{BaseDN: "dc=x"}, Groups: &iamv1alpha1.DirectoryGroups{BaseDN: "dc=x"}}).withDefaults()
	wantBare := Query{
		Users: UserQuery{BaseDN: "dc=x", Filter: DefaultUserFilter, Scope: ScopeSub, LoginAttributes: []string{"uid"},
			LowercaseLogins: new(false), DisplayNameAttributes: []string{"displayName", "cn"}, EmailAttribute: "mail"},
		Groups: &GroupQuery{BaseDN: "dc=x", Filter: DefaultGroupFilter, Scope: ScopeSub, NameAttribute: "cn",
			MemberAttribute: MemberAttributeMember, Nested: NestingNone, MaxNestingDepth: 10},
		PageSize: 500,
	}
	if diff := cmp.Diff(wantBare, bare); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}
