package ldap

import (
	"fmt"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// The defaults of a Query without a Schema. The Directory CRD defaults none
// of these fields (TestCRDDefaults ties those it does default to this file),
// so this is the one place they are set.
const (
	DefaultUserFilter      = "(objectClass=person)"
	DefaultGroupFilter     = "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup)(objectClass=group))"
	DefaultEmailAttribute  = "mail"
	DefaultNameAttribute   = "cn"
	DefaultPageSize        = 500
	DefaultMaxNestingDepth = 10
)

// Default attribute lists of a Query without a Schema.
var (
	DefaultLoginAttributes       = []string{"uid"}
	DefaultDisplayNameAttributes = []string{"displayName", "cn"}
)

// Query says what to read from a directory. Zero fields take the Directory
// CRD's defaults, so a Query built by hand behaves like one built from a
// spec by QueryFromSpec.
type Query struct {
	// Schema is a preset for the fields of Users and Groups that are unset
	// ("": none); see presets.go.
	Schema Schema
	// Users says where the users are and how their attributes map.
	Users UserQuery
	// Groups says where the groups are; nil means groups are not read and
	// users have no groups.
	Groups *GroupQuery
	// PageSize is the RFC 2696 page size of every search.
	PageSize int
	// MaxUsers stops Read with a TooLarge error when the user search returns
	// more entries; 0 means no bound. It protects the operator's memory, not
	// the platform: the caller applies its own safety bounds to the counts.
	MaxUsers int
	// MaxGroups is MaxUsers for groups.
	MaxGroups int
}

// UserQuery is the users part of a Query.
type UserQuery struct {
	// BaseDN is where the user search starts.
	BaseDN string
	// Filter is the filter users match.
	Filter string
	// Scope is the scope of the user search.
	Scope Scope
	// LoginAttributes hold the login; the first non-empty one wins.
	LoginAttributes []string
	// LowercaseLogins turns logins to lower case; nil means the Schema's
	// choice, or false.
	LowercaseLogins *bool
	// DisplayNameAttributes hold the user's name; the first non-empty wins.
	DisplayNameAttributes []string
	// EmailAttribute holds the e-mail address.
	EmailAttribute string
}

// GroupQuery is the groups part of a Query.
type GroupQuery struct {
	// BaseDN is where the group search starts.
	BaseDN string
	// Filter is the filter groups match.
	Filter string
	// Scope is the scope of the group search.
	Scope Scope
	// NameAttribute holds the group's name. A group without it is named by
	// the value of its DN's first RDN.
	NameAttribute string
	// MemberAttribute lists the group's members.
	MemberAttribute MemberAttribute
	// Nested says how members of member groups are resolved.
	Nested Nesting
	// MaxNestingDepth bounds Recursive expansion: members of groups nested
	// up to this many levels below a group count.
	MaxNestingDepth int
	// PrimaryGroups counts a user as a member of its Active Directory
	// primary group: the group whose objectSid is the user's domain SID
	// followed by the user's primaryGroupID (see primarygroup.go). The
	// ActiveDirectory Schema sets it.
	PrimaryGroups bool
}

// QueryFromSpec builds the Query of a Directory spec.
func QueryFromSpec(spec *iamv1alpha1.DirectorySpec) Query {
	u := spec.Users
	q := Query{
		Schema: Schema(spec.Schema),
		Users: UserQuery{
			BaseDN:                u.BaseDN,
			Filter:                u.Filter,
			Scope:                 Scope(u.Scope),
			LoginAttributes:       u.LoginAttributes,
			LowercaseLogins:       u.LowercaseLogins,
			DisplayNameAttributes: u.DisplayNameAttributes,
			EmailAttribute:        u.EmailAttribute,
		},
		PageSize: int(spec.PageSize),
	}
	if g := spec.Groups; g != nil {
		q.Groups = &GroupQuery{
			BaseDN:          g.BaseDN,
			Filter:          g.Filter,
			Scope:           Scope(g.Scope),
			NameAttribute:   g.NameAttribute,
			MemberAttribute: MemberAttribute(g.MemberAttribute),
			Nested:          Nesting(g.Nested),
			MaxNestingDepth: int(g.MaxNestingDepth),
		}
	}
	q.clearOldDefaults()
	return q
}

// ConfigFromSpec builds the Config of a Directory spec. The caller reads the
// bind password and the CA bundle from the Secrets the spec names and passes
// them in; the Config names those Secrets in its error messages.
func ConfigFromSpec(spec *iamv1alpha1.DirectorySpec, bindPassword string, caBundle []byte) Config {
	cfg := Config{
		URL:          spec.URL,
		StartTLS:     spec.StartTLS,
		BindDN:       spec.BindDN,
		BindPassword: bindPassword,
		CABundle:     caBundle,
		Timeout:      spec.Timeout.Duration,
	}
	if ref := spec.BindPasswordSecretRef; ref != nil {
		cfg.BindPasswordSource = fmt.Sprintf("Secret %q key %q", ref.Name, ref.Key)
	}
	if t := spec.TLS; t != nil {
		cfg.ServerName = t.ServerName
		cfg.InsecureSkipVerify = t.InsecureSkipVerify
		if ref := t.CASecretRef; ref != nil {
			cfg.CASource = fmt.Sprintf("Secret %q key %q", ref.Name, ref.Key)
		}
	}
	return cfg
}

// withDefaults returns q with its zero fields set to the defaults. Slices
// are copied, so q's own are never changed.
func (q Query) withDefaults() Query {
	if q.Groups != nil {
		g := *q.Groups
		q.Groups = &g
	}
	q.applyPreset()
	u := &q.Users
	if u.Filter == "" {
		u.Filter = DefaultUserFilter
	}
	if u.Scope == "" {
		u.Scope = ScopeSub
	}
	u.LoginAttributes = nonEmpty(u.LoginAttributes, DefaultLoginAttributes)
	u.DisplayNameAttributes = nonEmpty(u.DisplayNameAttributes, DefaultDisplayNameAttributes)
	if u.EmailAttribute == "" {
		u.EmailAttribute = DefaultEmailAttribute
	}
	if u.LowercaseLogins == nil {
		u.LowercaseLogins = new(bool)
	}
	if q.PageSize <= 0 {
		q.PageSize = DefaultPageSize
	}
	if q.Groups != nil {
		g := *q.Groups
		if g.Filter == "" {
			g.Filter = DefaultGroupFilter
		}
		if g.Scope == "" {
			g.Scope = ScopeSub
		}
		if g.NameAttribute == "" {
			g.NameAttribute = DefaultNameAttribute
		}
		if g.MemberAttribute == "" {
			g.MemberAttribute = MemberAttributeMember
		}
		if g.Nested == "" {
			g.Nested = NestingNone
		}
		if g.MaxNestingDepth <= 0 {
			g.MaxNestingDepth = DefaultMaxNestingDepth
		}
		q.Groups = &g
	}
	return q
}

// nonEmpty returns a copy of the non-blank entries of list, trimmed, or of
// def when there are none.
func nonEmpty(list, def []string) []string {
	var out []string
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return append([]string(nil), def...)
	}
	return out
}

// Defaulted returns q with every unset field filled in as Read and Lookup
// fill it: from the Schema's preset, else from the defaults.
func (q Query) Defaulted() Query { return q.withDefaults() }

// validate checks a Query that withDefaults has filled in.
func (q Query) validate() error {
	if _, ok := presets[q.Schema]; q.Schema != "" && !ok {
		return newError(ReasonInvalidConfig, nil, "schema %q is not one of %s", q.Schema, joinSchemas())
	}
	u := q.Users
	if err := checkBase("users.baseDN", u.BaseDN); err != nil {
		return err
	}
	if err := checkFilter("users.filter", u.Filter); err != nil {
		return err
	}
	if err := checkScope("users.scope", u.Scope); err != nil {
		return err
	}
	for _, a := range u.LoginAttributes {
		if err := checkAttr("users.loginAttributes", a); err != nil {
			return err
		}
	}
	for _, a := range u.DisplayNameAttributes {
		if err := checkAttr("users.displayNameAttributes", a); err != nil {
			return err
		}
	}
	if err := checkAttr("users.emailAttribute", u.EmailAttribute); err != nil {
		return err
	}
	g := q.Groups
	if g == nil {
		return nil
	}
	if err := checkBase("groups.baseDN", g.BaseDN); err != nil {
		return err
	}
	if err := checkFilter("groups.filter", g.Filter); err != nil {
		return err
	}
	if err := checkScope("groups.scope", g.Scope); err != nil {
		return err
	}
	if err := checkAttr("groups.nameAttribute", g.NameAttribute); err != nil {
		return err
	}
	s, ok := schemaFor(g.MemberAttribute)
	if !ok {
		return newError(ReasonInvalidConfig, nil,
			"groups.memberAttribute %q is not one of member, uniqueMember, memberUid", g.MemberAttribute)
	}
	switch g.Nested {
	case NestingNone:
	case NestingRecursive, NestingActiveDirectory:
		if s.kind != dnValues {
			return newError(ReasonInvalidConfig, nil,
				"groups.nested %s needs a member attribute whose values are DNs, but %s (%s) lists logins, so its groups cannot contain groups; set nested to None",
				g.Nested, s.attribute, s.standard)
		}
		if g.Nested == NestingActiveDirectory && s.backlink == "" {
			return newError(ReasonInvalidConfig, nil,
				"groups.nested ActiveDirectory needs memberAttribute member (with its memberOf back link), not %s; use Recursive", s.attribute)
		}
	default:
		return newError(ReasonInvalidConfig, nil, "groups.nested %q is not one of None, Recursive, ActiveDirectory", g.Nested)
	}
	return nil
}

func checkBase(field, dn string) error {
	if strings.TrimSpace(dn) == "" {
		return newError(ReasonInvalidConfig, nil, "%s is empty; set it to the DN the search starts at, such as ou=people,dc=example,dc=org", field)
	}
	if _, err := goldap.ParseDN(dn); err != nil {
		return newError(ReasonInvalidConfig, err, "%s %q is not a DN (%v); write it as ou=people,dc=example,dc=org", field, dn, err)
	}
	return nil
}

func checkFilter(field, f string) error {
	if err := compileFilter(f); err != nil {
		return newError(ReasonInvalidConfig, err,
			"%s %s is not a valid LDAP filter (%s); write it in parentheses, such as (objectClass=person)", field, f, describe(err))
	}
	return nil
}

func checkScope(field string, s Scope) error {
	if _, ok := scopes[s]; !ok {
		return newError(ReasonInvalidConfig, nil, "%s %q is not one of Base, One, Sub", field, s)
	}
	return nil
}

func checkAttr(field, a string) error {
	if !attrName.MatchString(a) {
		return newError(ReasonInvalidConfig, nil,
			"%s %q is not an attribute name; use a name such as uid or sAMAccountName (letters, digits and -)", field, a)
	}
	return nil
}
