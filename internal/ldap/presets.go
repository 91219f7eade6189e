package ldap

import (
	"fmt"
	"slices"
	"strings"
)

// Schema names a preset of a Query's users and groups fields. The values are
// those of the Directory's spec.schema.
type Schema string

// The schema presets.
const (
	// SchemaActiveDirectory is Microsoft Active Directory (and Samba's AD
	// domain controller).
	SchemaActiveDirectory Schema = "ActiveDirectory"
	// SchemaRFC2307 is the NIS schema: posixAccount and posixGroup.
	SchemaRFC2307 Schema = "RFC2307"
	// SchemaRFC4519 is inetOrgPerson with groupOfNames and
	// groupOfUniqueNames.
	SchemaRFC4519 Schema = "RFC4519"
)

// ADUserFilter is the ActiveDirectory preset's users filter: person
// accounts (objectCategory=person leaves computer accounts out, which are of
// objectClass user too), not disabled (ACCOUNTDISABLE, bit 0x2 of
// userAccountControl, tested with the bitwise-AND matching rule) and not one
// of the domain's built-in accounts (Administrator, Guest, krbtgt and the
// like carry isCriticalSystemObject).
const ADUserFilter = "(&(objectCategory=person)(objectClass=user)" +
	"(!(userAccountControl:1.2.840.113556.1.4.803:=2))(!(isCriticalSystemObject=TRUE)))"

// preset is the values a Schema supplies. An empty field supplies nothing.
type preset struct {
	userFilter            string
	loginAttributes       []string
	lowercaseLogins       bool
	displayNameAttributes []string
	emailAttribute        string
	groupFilter           string
	nameAttribute         string
	memberAttribute       MemberAttribute
	nested                Nesting
	primaryGroups         bool
}

var presets = map[Schema]preset{
	SchemaActiveDirectory: {
		userFilter:            ADUserFilter,
		loginAttributes:       []string{"sAMAccountName"},
		lowercaseLogins:       true,
		displayNameAttributes: []string{"displayName", "cn"},
		emailAttribute:        "mail",
		groupFilter:           "(objectClass=group)",
		nameAttribute:         "cn",
		memberAttribute:       MemberAttributeMember,
		nested:                NestingActiveDirectory,
		primaryGroups:         true,
	},
	SchemaRFC2307: {
		userFilter:            "(objectClass=posixAccount)",
		loginAttributes:       []string{"uid"},
		displayNameAttributes: []string{"displayName", "cn", "gecos"},
		emailAttribute:        "mail",
		groupFilter:           "(objectClass=posixGroup)",
		nameAttribute:         "cn",
		memberAttribute:       MemberAttributeMemberUID,
		nested:                NestingNone,
	},
	SchemaRFC4519: {
		userFilter:            "(objectClass=inetOrgPerson)",
		loginAttributes:       []string{"uid"},
		displayNameAttributes: []string{"displayName", "cn"},
		emailAttribute:        "mail",
		groupFilter:           "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))",
		nameAttribute:         "cn",
		memberAttribute:       MemberAttributeMember,
		nested:                NestingRecursive,
	},
}

// Schemas are the schema presets, sorted.
func Schemas() []Schema {
	out := make([]Schema, 0, len(presets))
	for s := range presets {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// applyPreset fills the fields of q that are unset with the values of its
// Schema and returns them as "field=value", in the order of the spec. A
// Query without a Schema, or with one that is not a preset (validate
// reports it), is left as it is.
func (q *Query) applyPreset() []string {
	p, ok := presets[q.Schema]
	if !ok {
		return nil
	}
	var supplied []string
	set := func(field, value string) { supplied = append(supplied, field+"="+value) }
	u := &q.Users
	if u.Filter == "" {
		u.Filter = p.userFilter
		set("users.filter", p.userFilter)
	}
	if len(nonEmpty(u.LoginAttributes, nil)) == 0 {
		u.LoginAttributes = append([]string(nil), p.loginAttributes...)
		set("users.loginAttributes", strings.Join(p.loginAttributes, ","))
	}
	if u.LowercaseLogins == nil {
		u.LowercaseLogins = &p.lowercaseLogins
		set("users.lowercaseLogins", fmt.Sprint(p.lowercaseLogins))
	}
	if len(nonEmpty(u.DisplayNameAttributes, nil)) == 0 {
		u.DisplayNameAttributes = append([]string(nil), p.displayNameAttributes...)
		set("users.displayNameAttributes", strings.Join(p.displayNameAttributes, ","))
	}
	if u.EmailAttribute == "" {
		u.EmailAttribute = p.emailAttribute
		set("users.emailAttribute", p.emailAttribute)
	}
	if q.Groups == nil {
		return supplied
	}
	g := *q.Groups
	if g.Filter == "" {
		g.Filter = p.groupFilter
		set("groups.filter", p.groupFilter)
	}
	if g.NameAttribute == "" {
		g.NameAttribute = p.nameAttribute
		set("groups.nameAttribute", p.nameAttribute)
	}
	if g.MemberAttribute == "" {
		g.MemberAttribute = p.memberAttribute
		set("groups.memberAttribute", string(p.memberAttribute))
	}
	if g.Nested == "" {
		g.Nested = p.nested
		set("groups.nested", string(p.nested))
	}
	// Not a field of the spec, so not listed: the preset always resolves
	// primary groups.
	g.PrimaryGroups = g.PrimaryGroups || p.primaryGroups
	q.Groups = &g
	return supplied
}

// SchemaDefaults returns the values q's Schema supplies for the fields q
// leaves unset, as "field=value" in the order of the spec (the form of a
// Directory's status.schemaDefaults). It is empty without a Schema.
func (q Query) SchemaDefaults() []string {
	if q.Groups != nil {
		g := *q.Groups
		q.Groups = &g
	}
	return q.applyPreset()
}

// oldCRDDefaults are the values the Directory CRD wrote into every Directory
// before schema presets: with a schema set, a stored value equal to one of
// them counts as unset, so that the preset, not a default the administrator
// never chose, decides.
var oldCRDDefaults = struct {
	userFilter, emailAttribute, groupFilter, nameAttribute string
	loginAttributes, displayNameAttributes                 []string
	memberAttribute                                        MemberAttribute
	nested                                                 Nesting
}{
	userFilter:            "(objectClass=person)",
	loginAttributes:       []string{"uid"},
	displayNameAttributes: []string{"displayName", "cn"},
	emailAttribute:        "mail",
	groupFilter:           "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup)(objectClass=group))",
	nameAttribute:         "cn",
	memberAttribute:       MemberAttributeMember,
	nested:                NestingNone,
}

// clearOldDefaults unsets the fields of a Query built from a spec with a
// schema whose values are those the CRD used to default.
func (q *Query) clearOldDefaults() {
	if q.Schema == "" {
		return
	}
	d := oldCRDDefaults
	u := &q.Users
	if u.Filter == d.userFilter {
		u.Filter = ""
	}
	if slices.Equal(u.LoginAttributes, d.loginAttributes) {
		u.LoginAttributes = nil
	}
	if slices.Equal(u.DisplayNameAttributes, d.displayNameAttributes) {
		u.DisplayNameAttributes = nil
	}
	if u.EmailAttribute == d.emailAttribute {
		u.EmailAttribute = ""
	}
	if g := q.Groups; g != nil {
		if g.Filter == d.groupFilter {
			g.Filter = ""
		}
		if g.NameAttribute == d.nameAttribute {
			g.NameAttribute = ""
		}
		if g.MemberAttribute == d.memberAttribute {
			g.MemberAttribute = ""
		}
		if g.Nested == d.nested {
			g.Nested = ""
		}
	}
}

func joinSchemas() string {
	var out []string
	for _, s := range Schemas() {
		out = append(out, string(s))
	}
	return strings.Join(out, ", ")
}
