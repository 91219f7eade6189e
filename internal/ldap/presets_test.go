package ldap

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

func TestSchemaPresets(t *testing.T) {
	base := func() *iamv1alpha1.DirectorySpec {
		return &iamv1alpha1.DirectorySpec{
			Schema: iamv1alpha1.SchemaActiveDirectory,
			Users:  iamv1alpha1.DirectoryUsers{BaseDN: "DC=corp,DC=example"},
			Groups: &iamv1alpha1.DirectoryGroups{BaseDN: "DC=corp,DC=example"},
		}
	}
	adDefaults := []string{
		"users.filter=" + ADUserFilter,
		"users.loginAttributes=sAMAccountName",
		"users.lowercaseLogins=true",
		"users.displayNameAttributes=displayName,cn",
		"users.emailAttribute=mail",
		"groups.filter=(objectClass=group)",
		"groups.nameAttribute=cn",
		"groups.memberAttribute=member",
		"groups.nested=ActiveDirectory",
	}
	tests := map[string]struct {
		mutate       func(*iamv1alpha1.DirectorySpec)
		wantUsers    UserQuery
		wantGroups   GroupQuery
		wantDefaults []string
	}{
		"ActiveDirectory alone": {
			mutate: func(*iamv1alpha1.DirectorySpec) {},
			wantUsers: UserQuery{BaseDN: "DC=corp,DC=example", Filter: ADUserFilter, Scope: ScopeSub,
				LoginAttributes: []string{"sAMAccountName"}, LowercaseLogins: new(true),
				DisplayNameAttributes: []string{"displayName", "cn"}, EmailAttribute: "mail"},
			wantGroups: GroupQuery{BaseDN: "DC=corp,DC=example", Filter: "(objectClass=group)", Scope: ScopeSub,
				NameAttribute: "cn", MemberAttribute: MemberAttributeMember, Nested: NestingActiveDirectory,
				MaxNestingDepth: DefaultMaxNestingDepth, PrimaryGroups: true},
			wantDefaults: adDefaults,
		},
		// A Directory stored before presets carries the CRD's old defaults:
		// with a schema they count as unset.
		"ActiveDirectory over the old CRD defaults": {
			mutate: func(s *iamv1alpha1.DirectorySpec) {
				s.Users.Filter, s.Users.LoginAttributes = "(objectClass=person)", []string{"uid"}
				s.Users.DisplayNameAttributes, s.Users.EmailAttribute = []string{"displayName", "cn"}, "mail"
				s.Groups.Filter = "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup)(objectClass=group))"
				s.Groups.NameAttribute, s.Groups.MemberAttribute, s.Groups.Nested = "cn", iamv1alpha1.MemberAttributeMember, iamv1alpha1.NestedNone
				s.Users.Scope, s.Groups.Scope, s.Groups.MaxNestingDepth = iamv1alpha1.ScopeSub, iamv1alpha1.ScopeSub, 10
			},
			wantUsers: UserQuery{BaseDN: "DC=corp,DC=example", Filter: ADUserFilter, Scope: ScopeSub,
				LoginAttributes: []string{"sAMAccountName"}, LowercaseLogins: new(true),
				DisplayNameAttributes: []string{"displayName", "cn"}, EmailAttribute: "mail"},
			wantGroups: GroupQuery{BaseDN: "DC=corp,DC=example", Filter: "(objectClass=group)", Scope: ScopeSub,
				NameAttribute: "cn", MemberAttribute: MemberAttributeMember, Nested: NestingActiveDirectory,
				MaxNestingDepth: 10, PrimaryGroups: true},
			wantDefaults: adDefaults,
		},
		"explicit fields override ActiveDirectory": {
			mutate: func(s *iamv1alpha1.DirectorySpec) {
				s.Users.Filter = "(&(objectClass=user)(department=IT))"
				s.Users.LoginAttributes = []string{"userPrincipalName"}
				s.Users.LowercaseLogins = new(false)
				s.Groups.Nested = iamv1alpha1.NestedRecursive
			},
			wantUsers: UserQuery{BaseDN: "DC=corp,DC=example", Filter: "(&(objectClass=user)(department=IT))", Scope: ScopeSub,
				LoginAttributes: []string{"userPrincipalName"}, LowercaseLogins: new(false),
				DisplayNameAttributes: []string{"displayName", "cn"}, EmailAttribute: "mail"},
			wantGroups: GroupQuery{BaseDN: "DC=corp,DC=example", Filter: "(objectClass=group)", Scope: ScopeSub,
				NameAttribute: "cn", MemberAttribute: MemberAttributeMember, Nested: NestingRecursive,
				MaxNestingDepth: DefaultMaxNestingDepth, PrimaryGroups: true},
			wantDefaults: []string{
				"users.displayNameAttributes=displayName,cn", "users.emailAttribute=mail",
				"groups.filter=(objectClass=group)", "groups.nameAttribute=cn", "groups.memberAttribute=member",
			},
		},
		"RFC2307": {
			mutate: func(s *iamv1alpha1.DirectorySpec) { s.Schema = iamv1alpha1.SchemaRFC2307 },
			wantUsers: UserQuery{BaseDN: "DC=corp,DC=example", Filter: "(objectClass=posixAccount)", Scope: ScopeSub,
				LoginAttributes: []string{"uid"}, LowercaseLogins: new(false),
				DisplayNameAttributes: []string{"displayName", "cn", "gecos"}, EmailAttribute: "mail"},
			wantGroups: GroupQuery{BaseDN: "DC=corp,DC=example", Filter: "(objectClass=posixGroup)", Scope: ScopeSub,
				NameAttribute: "cn", MemberAttribute: MemberAttributeMemberUID, Nested: NestingNone,
				MaxNestingDepth: DefaultMaxNestingDepth},
			wantDefaults: []string{
				"users.filter=(objectClass=posixAccount)", "users.loginAttributes=uid", "users.lowercaseLogins=false",
				"users.displayNameAttributes=displayName,cn,gecos", "users.emailAttribute=mail",
				"groups.filter=(objectClass=posixGroup)", "groups.nameAttribute=cn", "groups.memberAttribute=memberUid",
				"groups.nested=None",
			},
		},
		"RFC4519 without groups": {
			mutate: func(s *iamv1alpha1.DirectorySpec) { s.Schema, s.Groups = iamv1alpha1.SchemaRFC4519, nil },
			wantUsers: UserQuery{BaseDN: "DC=corp,DC=example", Filter: "(objectClass=inetOrgPerson)", Scope: ScopeSub,
				LoginAttributes: []string{"uid"}, LowercaseLogins: new(false),
				DisplayNameAttributes: []string{"displayName", "cn"}, EmailAttribute: "mail"},
			wantDefaults: []string{
				"users.filter=(objectClass=inetOrgPerson)", "users.loginAttributes=uid", "users.lowercaseLogins=false",
				"users.displayNameAttributes=displayName,cn", "users.emailAttribute=mail",
			},
		},
		// Without a schema the old defaults are values like any other, and
		// the defaults are today's.
		"no schema": {
			mutate: func(s *iamv1alpha1.DirectorySpec) { s.Schema = "" },
			wantUsers: UserQuery{BaseDN: "DC=corp,DC=example", Filter: DefaultUserFilter, Scope: ScopeSub,
				LoginAttributes: DefaultLoginAttributes, LowercaseLogins: new(false),
				DisplayNameAttributes: DefaultDisplayNameAttributes, EmailAttribute: DefaultEmailAttribute},
			wantGroups: GroupQuery{BaseDN: "DC=corp,DC=example", Filter: DefaultGroupFilter, Scope: ScopeSub,
				NameAttribute: DefaultNameAttribute, MemberAttribute: MemberAttributeMember, Nested: NestingNone,
				MaxNestingDepth: DefaultMaxNestingDepth},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			spec := base()
			tc.mutate(spec)
			q := QueryFromSpec(spec)
			got := q.Defaulted()
			if diff := cmp.Diff(tc.wantUsers, got.Users); diff != "" {
				t.Errorf("users (-want +got):\n%s", diff)
			}
			if spec.Groups == nil {
				if got.Groups != nil {
					t.Errorf("groups = %+v, want none", got.Groups)
				}
			} else if diff := cmp.Diff(tc.wantGroups, *got.Groups); diff != "" {
				t.Errorf("groups (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantDefaults, q.SchemaDefaults()); diff != "" {
				t.Errorf("SchemaDefaults (-want +got):\n%s", diff)
			}
			if err := got.validate(); err != nil {
				t.Errorf("validate: %v", err)
			}
		})
	}
}

// TestSchemaDefaultsLeavesQueryAlone: SchemaDefaults and Defaulted work on
// copies, so the Query the controller keeps is not filled in behind it.
func TestSchemaDefaultsLeavesQueryAlone(t *testing.T) {
	q := Query{Schema: SchemaActiveDirectory, Groups: &GroupQuery{BaseDN: "DC=x"}}
	_ = q.SchemaDefaults()
	_ = q.Defaulted()
	if q.Users.Filter != "" || q.Groups.Filter != "" || q.Groups.PrimaryGroups {
		t.Errorf("the Query was changed: %+v %+v", q.Users, *q.Groups)
	}
}

func TestUnknownSchema(t *testing.T) {
	q := Query{Schema: "OpenLDAP", Users: UserQuery{BaseDN: "dc=x"}}.withDefaults()
	err := q.validate()
	if err == nil || !strings.Contains(err.Error(), `schema "OpenLDAP" is not one of ActiveDirectory, RFC2307, RFC4519`) {
		t.Errorf("validate = %v", err)
	}
}

// TestCRDDefaults ties the Directory CRD's remaining defaults to this
// package's, and checks that the fields a preset supplies have none (a CRD
// default would mask the preset).
func TestCRDDefaults(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "config", "crd", "bases", "iam.gatehouse.dev_directories.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal(b, &crd); err != nil {
		t.Fatal(err)
	}
	spec := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
	users, groups := spec.Properties["users"], spec.Properties["groups"]
	def := func(p apiextensionsv1.JSONSchemaProps) string {
		if p.Default == nil {
			return ""
		}
		return string(p.Default.Raw)
	}
	for field, want := range map[string]string{
		"users.scope":            fmt.Sprintf("%q", ScopeSub),
		"groups.scope":           fmt.Sprintf("%q", ScopeSub),
		"groups.maxNestingDepth": fmt.Sprint(DefaultMaxNestingDepth),
		"pageSize":               fmt.Sprint(DefaultPageSize),
	} {
		obj, name, _ := strings.Cut(field, ".")
		var p apiextensionsv1.JSONSchemaProps
		switch obj {
		case "users":
			p = users.Properties[name]
		case "groups":
			p = groups.Properties[name]
		default:
			p = spec.Properties[obj]
		}
		if got := def(p); got != want {
			t.Errorf("the CRD default of %s is %s, want %s (this package's)", field, got, want)
		}
	}
	for _, f := range []string{"filter", "loginAttributes", "lowercaseLogins", "displayNameAttributes", "emailAttribute"} {
		if got := def(users.Properties[f]); got != "" {
			t.Errorf("the CRD defaults users.%s to %s; a preset supplies it, so it must have no CRD default", f, got)
		}
	}
	for _, f := range []string{"filter", "nameAttribute", "memberAttribute", "nested"} {
		if got := def(groups.Properties[f]); got != "" {
			t.Errorf("the CRD defaults groups.%s to %s; a preset supplies it, so it must have no CRD default", f, got)
		}
	}
	var enum []string
	for _, v := range spec.Properties["schema"].Enum {
		enum = append(enum, strings.Trim(string(v.Raw), `"`))
	}
	var schemas []string
	for _, s := range Schemas() {
		schemas = append(schemas, string(s))
	}
	if diff := cmp.Diff(schemas, enum); diff != "" {
		t.Errorf("the CRD's schema enum and the presets differ (-presets +CRD):\n%s", diff)
	}
}

func TestSID(t *testing.T) {
	// objectSid of a Samba group, as ldapsearch prints it.
	raw, err := base64.StdEncoding.DecodeString("AQUAAAAAAAUVAAAAhOJmOgTY7LPinlvFTwQAAA==")
	if err != nil {
		t.Fatal(err)
	}
	sid, ok := decodeSID(raw)
	if want := "S-1-5-21-979821188-3018643460-3311116002-1103"; !ok || sid != want {
		t.Fatalf("decodeSID = %q, %v; want %s", sid, ok, want)
	}
	back, ok := encodeSID(sid)
	if !ok || string(back) != string(raw) {
		t.Errorf("encodeSID(%s) = %x, want %x", sid, back, raw)
	}
	for _, bad := range [][]byte{nil, {1}, {2, 1, 0, 0, 0, 0, 0, 5, 1, 0, 0, 0}, {1, 2, 0, 0, 0, 0, 0, 5, 1, 0, 0, 0}} {
		if s, ok := decodeSID(bad); ok {
			t.Errorf("decodeSID(%x) = %s, want not a SID", bad, s)
		}
	}
	user := &Entry{DN: "CN=u", Attributes: []Attribute{
		{Name: "objectSid", Values: []string{string(raw)}}, {Name: "primaryGroupID", Values: []string{"513"}},
	}}
	if got, want := primaryGroupSID(user), "S-1-5-21-979821188-3018643460-3311116002-513"; got != want {
		t.Errorf("primaryGroupSID = %s, want %s", got, want)
	}
	f, err := sidFilter("S-1-5-32-544")
	if want := `(objectSid=\01\02\00\00\00\00\00\05\20\00\00\00\20\02\00\00)`; err != nil || f != want {
		t.Errorf("sidFilter = %s, %v; want %s", f, err, want)
	}
}
