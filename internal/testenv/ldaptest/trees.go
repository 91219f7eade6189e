package ldaptest

import (
	"fmt"
	"path/filepath"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"
)

// Tree is the data and the schema a Server starts with.
type Tree struct {
	// Suffix is the database suffix; empty means DefaultSuffix.
	Suffix string
	// AdminDN is the rootdn; empty means cn=admin,<Suffix>.
	AdminDN string
	// AdminPassword is the rootdn's password; empty means
	// DefaultAdminPassword.
	AdminPassword string
	// Entries are the entries, parents before children. When the first is
	// not the suffix entry, a dcObject/organization suffix entry is added.
	Entries []Entry
	// Schema holds extra schema definitions in slapd.conf form
	// ("attributetype ( ... )", "objectclass ( ... )"), loaded after core,
	// cosine, inetorgperson and nis.
	Schema []string
	// MemberOf, when set, loads the memberof overlay (and refint for the
	// attributes it lists).
	MemberOf *MemberOf
	// Online adds the entries through LDAP after start instead of with
	// slapadd, so that overlays (memberOf) see them. Slower: for small trees.
	Online bool
}

// MemberOf configures the memberof overlay (slapo-memberof).
type MemberOf struct {
	// GroupOC is the object class of groups (memberof-group-oc).
	GroupOC string
	// MemberAD is the member attribute (memberof-member-ad).
	MemberAD string
	// MemberOfAD is the back-link attribute (memberof-memberof-ad).
	MemberOfAD string
	// Dangling is ignore, drop or error (memberof-dangling).
	Dangling string
	// RefInt keeps memberOf in step on renames and deletes (memberof-refint).
	RefInt bool
	// RefIntAttributes, when not empty, loads the refint overlay for them.
	RefIntAttributes []string
}

// withDefaults fills in a copy of the tree.
func (t *Tree) withDefaults() *Tree {
	c := *t
	if c.Suffix == "" {
		c.Suffix = DefaultSuffix
	}
	if c.AdminDN == "" {
		c.AdminDN = ChildDN(c.Suffix, "cn", "admin")
	}
	if c.AdminPassword == "" {
		c.AdminPassword = DefaultAdminPassword
	}
	if len(c.Entries) == 0 || !strings.EqualFold(c.Entries[0].DN, c.Suffix) {
		c.Entries = append([]Entry{SuffixEntry(c.Suffix)}, c.Entries...)
	}
	return &c
}

// SuffixEntry is a dcObject/organization entry for a dc=... suffix.
func SuffixEntry(suffix string) Entry {
	dc := "example"
	if dn, err := goldap.ParseDN(suffix); err == nil && len(dn.RDNs) > 0 && len(dn.RDNs[0].Attributes) > 0 {
		dc = dn.RDNs[0].Attributes[0].Value
	}
	return NewEntry(suffix, "objectClass", "top", "objectClass", "dcObject", "objectClass", "organization",
		"dc", dc, "o", dc)
}

// slapdConf renders the slapd.conf of the tree for a server in dir.
func (t *Tree) slapdConf(dir string) string {
	var b strings.Builder
	for _, s := range []string{"core", "cosine", "inetorgperson", "nis"} {
		fmt.Fprintf(&b, "include %s\n", filepath.Join(SchemaDir, s+".schema"))
	}
	for _, s := range t.Schema {
		fmt.Fprintf(&b, "%s\n", oneLine(s))
	}
	fmt.Fprintf(&b, "pidfile %s\nargsfile %s\n", filepath.Join(dir, "slapd.pid"), filepath.Join(dir, "slapd.args"))
	fmt.Fprintf(&b, "modulepath %s\nmoduleload back_mdb\n", ModuleDir)
	if m := t.MemberOf; m != nil {
		b.WriteString("moduleload memberof\n")
		if len(m.RefIntAttributes) > 0 {
			b.WriteString("moduleload refint\n")
		}
	}
	fmt.Fprintf(&b, "TLSCACertificateFile %s\nTLSCertificateFile %s\nTLSCertificateKeyFile %s\n",
		filepath.Join(dir, "ca.pem"), filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key"))
	// No size or time limits: paging is what bounds a response.
	b.WriteString("sizelimit unlimited\ntimelimit unlimited\n")
	b.WriteString("database mdb\nmaxsize 4294967296\n")
	fmt.Fprintf(&b, "suffix %s\nrootdn %s\nrootpw %s\n", quote(t.Suffix), quote(t.AdminDN), quote(t.AdminPassword))
	fmt.Fprintf(&b, "directory %s\n", filepath.Join(dir, "db"))
	b.WriteString("index objectClass eq\nindex uid,cn,mail eq\nindex member,uniqueMember,memberUid eq\n")
	if m := t.MemberOf; m != nil {
		b.WriteString("overlay memberof\n")
		for k, v := range map[string]string{
			"memberof-group-oc": m.GroupOC, "memberof-member-ad": m.MemberAD,
			"memberof-memberof-ad": m.MemberOfAD, "memberof-dangling": m.Dangling,
		} {
			if v != "" {
				fmt.Fprintf(&b, "%s %s\n", k, v)
			}
		}
		if m.RefInt {
			b.WriteString("memberof-refint TRUE\n")
		}
		if len(m.RefIntAttributes) > 0 {
			fmt.Fprintf(&b, "overlay refint\nrefint_attributes %s\n", strings.Join(m.RefIntAttributes, " "))
		}
	}
	return b.String()
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// oneLine joins the lines of a schema definition.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// ChildDN is <attr>=<value>,<parent> with value escaped (RFC 4514).
func ChildDN(parent, attr, value string) string {
	return attr + "=" + goldap.EscapeDN(value) + "," + parent
}

// UserDN is uid=<uid>,<parent> with uid escaped.
func UserDN(parent, uid string) string { return ChildDN(parent, "uid", uid) }

// GroupDN is cn=<cn>,<parent> with cn escaped.
func GroupDN(parent, cn string) string { return ChildDN(parent, "cn", cn) }

// Person is an inetOrgPerson below parent with RDN uid=<uid> (escaped).
// Optional extra name/value pairs are added, e.g. "displayName", "Alice".
func Person(parent, uid, cn, mail string, extra ...string) Entry {
	sn := cn
	if i := strings.LastIndex(cn, " "); i >= 0 {
		sn = cn[i+1:]
	}
	e := NewEntry(UserDN(parent, uid),
		"objectClass", "top", "objectClass", "person", "objectClass", "organizationalPerson",
		"objectClass", "inetOrgPerson", "uid", uid, "cn", cn, "sn", sn)
	if mail != "" {
		e.Add("mail", mail)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		e.Add(extra[i], extra[i+1])
	}
	return e
}

// OU is an organizationalUnit below parent.
func OU(parent, ou string) Entry {
	return NewEntry(ChildDN(parent, "ou", ou), "objectClass", "top", "objectClass", "organizationalUnit", "ou", ou)
}

// GroupOfNames is a groupOfNames below parent with RDN cn=<cn> and the member
// DNs (RFC 4519 requires at least one).
func GroupOfNames(parent, cn string, members ...string) Entry {
	e := NewEntry(GroupDN(parent, cn), "objectClass", "top", "objectClass", "groupOfNames", "cn", cn)
	e.Add("member", members...)
	return e
}

// GroupOfUniqueNames is a groupOfUniqueNames with uniqueMember values.
func GroupOfUniqueNames(parent, cn string, members ...string) Entry {
	e := NewEntry(GroupDN(parent, cn), "objectClass", "top", "objectClass", "groupOfUniqueNames", "cn", cn)
	e.Add("uniqueMember", members...)
	return e
}

// PosixGroup is an RFC 2307 posixGroup with memberUid values (logins).
func PosixGroup(parent, cn string, gid int, memberUids ...string) Entry {
	e := NewEntry(GroupDN(parent, cn), "objectClass", "top", "objectClass", "posixGroup",
		"cn", cn, "gidNumber", fmt.Sprint(gid))
	if len(memberUids) > 0 {
		e.Add("memberUid", memberUids...)
	}
	return e
}

// PosixPerson is a Person that is also an RFC 2307 posixAccount.
func PosixPerson(parent, uid, cn, mail string, uidNumber int) Entry {
	e := Person(parent, uid, cn, mail)
	e.Add("objectClass", "posixAccount")
	e.Add("uidNumber", fmt.Sprint(uidNumber))
	e.Add("gidNumber", "100")
	e.Add("homeDirectory", "/home/"+uid)
	return e
}

// People returns the DN of ou=people below suffix; Groups that of ou=groups.
func People(suffix string) string { return ChildDN(suffix, "ou", "people") }

// Groups returns the DN of ou=groups below suffix.
func Groups(suffix string) string { return ChildDN(suffix, "ou", "groups") }

// RFC2307Tree is a directory of posixAccount users and posixGroup groups
// below DefaultSuffix:
//
//	alice, bob, carol, dave (posixAccount; dave has displayName "Dave D.")
//	nologin: an inetOrgPerson without uid (a sync skips it)
//	developers: alice bob; ops: carol ghost (ghost has no entry);
//	everyone: alice bob carol dave; empty: no members
func RFC2307Tree() *Tree {
	s := DefaultSuffix
	p, g := People(s), Groups(s)
	nologin := NewEntry(ChildDN(p, "cn", "No Login"), "objectClass", "top", "objectClass", "person", "objectClass", "organizationalPerson",
		"objectClass", "inetOrgPerson", "cn", "No Login", "sn", "Login")
	dave := PosixPerson(p, "dave", "Dave Davis", "dave@example.org", 1004)
	dave.Add("displayName", "Dave D.")
	return &Tree{Entries: []Entry{
		SuffixEntry(s), OU(s, "people"), OU(s, "groups"),
		PosixPerson(p, "alice", "Alice Adams", "alice@example.org", 1001),
		PosixPerson(p, "bob", "Bob Brown", "bob@example.org", 1002),
		PosixPerson(p, "carol", "Carol Clark", "carol@example.org", 1003),
		dave, nologin,
		PosixGroup(g, "developers", 2001, "alice", "bob"),
		PosixGroup(g, "ops", 2002, "carol", "ghost"),
		PosixGroup(g, "everyone", 2003, "alice", "bob", "carol", "dave"),
		PosixGroup(g, "empty", 2004),
	}}
}

// GroupOfNamesTree is an RFC 4519 directory below DefaultSuffix:
//
//	users: ann, ben, cid, jsmith (DN cn=Smith\, John: an escaped comma)
//	groupOfNames admins: ann, jsmith (member DNs written in another case,
//	  spacing and escaping than the entries' own)
//	groupOfNames staff: ann ben cid jsmith and uid=gone (no entry)
//	groupOfUniqueNames auditors: ben, cid#'0101'B (with an optional UID)
func GroupOfNamesTree() *Tree {
	s := DefaultSuffix
	p, g := People(s), Groups(s)
	smith := NewEntry(ChildDN(p, "cn", "Smith, John"), "objectClass", "top", "objectClass", "person", "objectClass", "organizationalPerson",
		"objectClass", "inetOrgPerson", "cn", "Smith, John", "sn", "Smith", "uid", "jsmith", "mail", "john.smith@example.org")
	return &Tree{Entries: []Entry{
		SuffixEntry(s), OU(s, "people"), OU(s, "groups"),
		Person(p, "ann", "Ann Archer", "ann@example.org"),
		Person(p, "ben", "Ben Baker", "ben@example.org", "displayName", "Benjamin"),
		Person(p, "cid", "Cid Cooper", "cid@example.org"),
		smith,
		GroupOfNames(g, "admins", "UID=Ann, OU=People, DC=Example, DC=Org", `CN=smith\2C  john,ou=people,dc=example,dc=org`),
		GroupOfNames(g, "staff", UserDN(p, "ann"), UserDN(p, "ben"), UserDN(p, "cid"), smith.DN, UserDN(p, "gone")),
		GroupOfUniqueNames(g, "auditors", UserDN(p, "ben"), UserDN(p, "cid")+"#'0101'B"),
	}}
}

// NestedTree is a groupOfNames directory with nested groups below
// DefaultSuffix. Users u1 … u6.
//
//	chain: top ⊃ mid ⊃ low ⊃ leaf; top has u1, mid u2, low u3, leaf u4
//	cycle: cyc-a ⊃ cyc-b ⊃ cyc-c ⊃ cyc-a; cyc-a has u5, cyc-b u6, cyc-c u1
//	self:  a group that lists itself and u2
func NestedTree() *Tree {
	s := DefaultSuffix
	p, g := People(s), Groups(s)
	u := func(n int) string { return UserDN(p, fmt.Sprintf("u%d", n)) }
	grp := func(cn string) string { return GroupDN(g, cn) }
	entries := []Entry{SuffixEntry(s), OU(s, "people"), OU(s, "groups")}
	for i := 1; i <= 6; i++ {
		entries = append(entries, Person(p, fmt.Sprintf("u%d", i), fmt.Sprintf("User %d", i), fmt.Sprintf("u%d@example.org", i)))
	}
	entries = append(entries,
		GroupOfNames(g, "top", u(1), grp("mid")),
		GroupOfNames(g, "mid", u(2), grp("low")),
		GroupOfNames(g, "low", u(3), grp("leaf")),
		GroupOfNames(g, "leaf", u(4)),
		GroupOfNames(g, "cyc-a", u(5), grp("cyc-b")),
		GroupOfNames(g, "cyc-b", u(6), grp("cyc-c")),
		GroupOfNames(g, "cyc-c", u(1), grp("cyc-a")),
		GroupOfNames(g, "self", u(2), grp("self")),
	)
	return &Tree{Entries: entries}
}

// BigTree is a generated directory below DefaultSuffix of users
// uid=user000001… and groupOfNames groups cn=group0001…, each group with
// membersPerGroup distinct members spread over all users (deterministic:
// the same arguments give the same tree). It loads with slapadd, so 10,000
// users and 1,000 groups take seconds.
func BigTree(users, groups, membersPerGroup int) *Tree {
	s := DefaultSuffix
	p, g := People(s), Groups(s)
	entries := make([]Entry, 0, 3+users+groups)
	entries = append(entries, SuffixEntry(s), OU(s, "people"), OU(s, "groups"))
	for i := range users {
		uid := BigUser(i)
		entries = append(entries, Person(p, uid, "User "+uid, uid+"@example.org"))
	}
	if users == 0 {
		membersPerGroup = 0
	}
	membersPerGroup = min(membersPerGroup, users)
	for j := range groups {
		e := NewEntry(GroupDN(g, BigGroup(j)), "objectClass", "top", "objectClass", "groupOfNames", "cn", BigGroup(j))
		members := BigMembers(users, membersPerGroup, j)
		if len(members) == 0 {
			e.Add("member", ChildDN(s, "cn", "nobody")) // groupOfNames requires a member
		}
		for _, m := range members {
			e.Add("member", UserDN(p, BigUser(m)))
		}
		entries = append(entries, e)
	}
	return &Tree{Entries: entries}
}

// BigUser is the uid of user i of a BigTree.
func BigUser(i int) string { return fmt.Sprintf("user%06d", i+1) }

// BigGroup is the cn of group j of a BigTree.
func BigGroup(j int) string { return fmt.Sprintf("group%04d", j+1) }

// BigMembers returns the user indexes that group j of a BigTree of users
// lists: n distinct indexes, in the order the group lists them.
func BigMembers(users, n, j int) []int {
	if users == 0 {
		return nil
	}
	// A stride coprime with users visits distinct users.
	stride := 7919
	for gcd(stride, users) != 1 {
		stride += 2
	}
	out := make([]int, min(n, users))
	start := (j * 104729) % users
	for k := range out {
		out[k] = (start + k*stride) % users
	}
	return out
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
