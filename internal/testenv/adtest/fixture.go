package adtest

import (
	"fmt"
	"io"
	"strings"
)

// The domain of the fixture.
const (
	// Realm is the Kerberos realm, the DNS domain in upper case.
	Realm = "GATEHOUSE.TEST"
	// NetBIOSDomain is the domain's NetBIOS name.
	NetBIOSDomain = "GATEHOUSE"
	// BaseDN is the domain root.
	BaseDN = "DC=gatehouse,DC=test"
	// AdminDN is the domain's Administrator, the bind DN of the tests.
	AdminDN = "CN=Administrator,CN=Users," + BaseDN
	// AdminPassword is Administrator's password.
	AdminPassword = "Gatehouse-Admin-7Qx!"
	// StaffOU holds the fixture's users, GroupsOU its groups.
	StaffOU  = "OU=Staff," + BaseDN
	GroupsOU = "OU=Groups," + BaseDN
	// DomainUsersDN is the primary group of every user but Grace.Hopper.
	DomainUsersDN = "CN=Domain Users,CN=Users," + BaseDN
)

// fixtureVersion names the fixture in the template cache: change it with
// the data below.
const fixtureVersion = 2

// The userAccountControl flags of the fixture (MS-ADTS 2.2.16).
const (
	uacDisabled       = 0x2
	uacPasswdNotReqd  = 0x20
	uacNormalAccount  = 0x200
	uacWorkstation    = 0x1000
	uacDontExpirePass = 0x10000
)

// FixtureUser is one user of the fixture.
type FixtureUser struct {
	// CN is the RDN value below StaffOU.
	CN string
	// Login is sAMAccountName, as the directory writes it.
	Login string
	// UPN is userPrincipalName ("": login@gatehouse.test).
	UPN string
	// Mail is the e-mail address ("": none).
	Mail string
	// Disabled sets ACCOUNTDISABLE.
	Disabled bool
	// Primary is the CN of the user's primary group in GroupsOU ("":
	// Domain Users).
	Primary string
}

// DN is the user's DN.
func (u FixtureUser) DN() string { return "CN=" + u.CN + "," + StaffOU }

// FixtureGroup is one group of the fixture in GroupsOU.
type FixtureGroup struct {
	// CN is the RDN value and sAMAccountName.
	CN string
	// Members are DNs: users, groups, computers.
	Members []string
}

// DN is the group's DN.
func (g FixtureGroup) DN() string { return "CN=" + g.CN + "," + GroupsOU }

// Users of the fixture: ten enabled people with mixed-case and odd logins
// (one without mail, one whose only membership is a primary group other
// than Domain Users, one whose only membership is Domain Users) and three
// disabled ones.
var Users = []FixtureUser{
	{CN: "Alice Archer", Login: "Alice.Archer", UPN: "alice@gatehouse.test", Mail: "alice.archer@gatehouse.test"},
	{CN: "Bob Brown", Login: "Bob.Brown", Mail: "bob.brown@gatehouse.test"},
	{CN: "Carol Chen", Login: "carol", Mail: "carol@gatehouse.test"},
	{CN: "Dave Davis", Login: "DAVE.DAVIS", Mail: "Dave.Davis@Gatehouse.test"},
	{CN: "Eve O'Neil", Login: "eve.o'neil", Mail: "eve@gatehouse.test"},
	{CN: "Frank Fischer", Login: "Frank-NoMail"},
	{CN: "Grace Hopper", Login: "Grace.Hopper", Mail: "grace@gatehouse.test", Primary: "Contractors"},
	{CN: "Heidi Klum", Login: "heidi", Mail: "heidi@gatehouse.test"},
	{CN: "Ivan Ivanov", Login: "Ivan.Ivanov", Mail: "ivan@gatehouse.test"},
	{CN: "Judy Doe", Login: "jdoe", UPN: "judy.doe@gatehouse.test", Mail: "judy.doe@gatehouse.test"},
	{CN: "Mallory Off", Login: "Mallory.Off", Mail: "mallory@gatehouse.test", Disabled: true},
	{CN: "Oscar Old", Login: "oscar", Disabled: true},
	{CN: "Peggy Gone", Login: "Peggy.Gone", Mail: "peggy@gatehouse.test", Disabled: true},
}

// Computers of the fixture, in CN=Computers: accounts of objectClass
// computer (a subclass of user) that a users filter of objectClass=user
// alone would match.
var Computers = []string{"WS01", "SRV-DB"}

// ComputerDN is the DN of the computer account name.
func ComputerDN(name string) string { return "CN=" + name + ",CN=Computers," + BaseDN }

func userDN(cn string) string  { return "CN=" + cn + "," + StaffOU }
func groupDN(cn string) string { return "CN=" + cn + "," + GroupsOU }

// Groups of the fixture: Engineering > Backend > Databases nests two levels
// deep; Databases also lists a disabled user and a computer.
var Groups = []FixtureGroup{
	{CN: "Databases", Members: []string{userDN("Ivan Ivanov"), userDN("Mallory Off"), ComputerDN("SRV-DB")}},
	{CN: "Backend", Members: []string{userDN("Bob Brown"), groupDN("Databases")}},
	{CN: "Engineering", Members: []string{userDN("Alice Archer"), groupDN("Backend")}},
	{CN: "Sales", Members: []string{userDN("Carol Chen"), userDN("Eve O'Neil"), userDN("Frank Fischer"), userDN("Judy Doe")}},
	// Grace.Hopper is a member by her primaryGroupID only.
	{CN: "Contractors", Members: []string{userDN("Dave Davis"), userDN("Grace Hopper")}},
	// Partners nests Contractors: Grace.Hopper is in it through her primary
	// group, which the in-chain rule does not follow.
	{CN: "Partners", Members: []string{groupDN("Contractors")}},
}

// writeSeed writes the LDIF that ldbadd loads into the stopped domain:
// the OUs, users, computers and groups.
func writeSeed(w io.Writer) error {
	var b strings.Builder
	entry := func(dn string, attrs ...string) {
		fmt.Fprintf(&b, "dn: %s\n", dn)
		for i := 0; i+1 < len(attrs); i += 2 {
			if attrs[i+1] != "" {
				fmt.Fprintf(&b, "%s: %s\n", attrs[i], attrs[i+1])
			}
		}
		b.WriteString("\n")
	}
	entry(StaffOU, "objectClass", "organizationalUnit")
	entry(GroupsOU, "objectClass", "organizationalUnit")
	for _, u := range Users {
		uac := uacNormalAccount | uacPasswdNotReqd | uacDontExpirePass
		if u.Disabled {
			uac |= uacDisabled
		}
		upn := u.UPN
		if upn == "" {
			upn = strings.ToLower(u.Login) + "@gatehouse.test"
		}
		given, sn, _ := strings.Cut(u.CN, " ")
		entry(u.DN(), "objectClass", "user", "sAMAccountName", u.Login, "userPrincipalName", upn,
			"displayName", u.CN, "givenName", given, "sn", sn, "mail", u.Mail,
			"userAccountControl", fmt.Sprint(uac))
	}
	for _, c := range Computers {
		entry(ComputerDN(c), "objectClass", "computer", "sAMAccountName", c+"$",
			"userAccountControl", fmt.Sprint(uacWorkstation))
	}
	for _, g := range Groups {
		fmt.Fprintf(&b, "dn: %s\nobjectClass: group\nsAMAccountName: %s\n", g.DN(), g.CN)
		for _, m := range g.Members {
			fmt.Fprintf(&b, "member: %s\n", m)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// primaryChanges are the LDIF modifications that give users their primary
// group once the groups exist (rids: the groups' RIDs by CN). Active
// Directory requires a user to be a member of a group before it becomes
// the primary one, drops the user from the group's member attribute when it
// does, and lists the user in the former primary group, Domain Users,
// instead: that membership is removed, so that the user's only membership
// is the primary one.
func primaryChanges(rids map[string]string) (string, error) {
	var b strings.Builder
	for _, u := range Users {
		if u.Primary == "" {
			continue
		}
		rid, ok := rids[u.Primary]
		if !ok {
			return "", fmt.Errorf("the primary group %s of %s has no RID", u.Primary, u.Login)
		}
		fmt.Fprintf(&b, "dn: %s\nchangetype: modify\nreplace: primaryGroupID\nprimaryGroupID: %s\n\n", u.DN(), rid)
		fmt.Fprintf(&b, "dn: %s\nchangetype: modify\ndelete: member\nmember: %s\n\n", DomainUsersDN, u.DN())
	}
	return b.String(), nil
}
