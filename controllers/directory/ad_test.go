package directory_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/ldap"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/adtest"
)

// A Directory of a real Samba AD domain with only schema ActiveDirectory and
// the domain root, over LDAPS with the CA from a Secret: the enabled people
// become Users with lower-case sAMAccountName logins, their groups nested
// two levels deep and their primary group; a Group mapping and the profile
// mappings follow the nesting; the status lists what the preset supplied.
func TestActiveDirectorySchema(t *testing.T) {
	t.Parallel()
	s := adtest.Start(t)
	ns := env.Namespace(t)
	mark := map[string]string{iamv1alpha1.LabelCredentialFor: "directory.corp"}
	create(t,
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ad-ca", Namespace: ns, Labels: mark},
			Data: map[string][]byte{"ca.crt": s.CA.CertPEM}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ad-bind", Namespace: ns, Labels: mark},
			Data: map[string][]byte{"password": []byte(adtest.AdminPassword)}},
		&iamv1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns}, Spec: iamv1alpha1.LicenseSpec{Profiles: []iamv1alpha1.Profile{
			{Name: "designer", Seats: 5}, {Name: "reader", Seats: 20}}}},
		&iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: "engineering", Namespace: ns}, Spec: iamv1alpha1.GroupSpec{
			LDAPGroups: []string{"Engineering"}, GlobalPermissions: []iamv1alpha1.GlobalPermission{"createProjects"}}},
	)
	d := &iamv1alpha1.Directory{
		ObjectMeta: metav1.ObjectMeta{Name: "corp", Namespace: ns},
		Spec: iamv1alpha1.DirectorySpec{
			URL:                   s.URL,
			TLS:                   &iamv1alpha1.DirectoryTLS{CASecretRef: &iamv1alpha1.SecretKeySelector{Name: "ad-ca", Key: "ca.crt"}},
			BindDN:                adtest.AdminDN,
			BindPasswordSecretRef: &iamv1alpha1.SecretKeySelector{Name: "ad-bind", Key: "password"},
			Schema:                iamv1alpha1.SchemaActiveDirectory,
			Users:                 iamv1alpha1.DirectoryUsers{BaseDN: adtest.BaseDN},
			Groups:                &iamv1alpha1.DirectoryGroups{BaseDN: adtest.BaseDN},
			ProfileMappings:       []iamv1alpha1.ProfileMapping{{Group: "CN=Engineering," + adtest.GroupsOU, Profile: "designer"}},
			DefaultProfile:        "reader",
			Provisioning:          iamv1alpha1.ProvisioningAll,
		},
	}
	create(t, d)
	d = synced(t, ns, "corp")

	wantDefaults := []string{
		"users.filter=" + ldap.ADUserFilter,
		"users.loginAttributes=sAMAccountName",
		"users.lowercaseLogins=true",
		"users.displayNameAttributes=displayName,cn",
		"users.emailAttribute=mail",
		"groups.filter=(objectClass=group)",
		"groups.nameAttribute=cn",
		"groups.memberAttribute=member",
		"groups.nested=ActiveDirectory",
	}
	if diff := cmp.Diff(wantDefaults, d.Status.SchemaDefaults); diff != "" {
		t.Errorf("status.schemaDefaults (-want +got):\n%s", diff)
	}
	if d.Status.UsersFound != 10 || d.Status.Created != 10 || d.Status.Skipped != 0 {
		t.Errorf("found %d, created %d, skipped %d; want 10, 10, 0", d.Status.UsersFound, d.Status.Created, d.Status.Skipped)
	}
	if c := condition(d, iamv1alpha1.ConditionInsecure); c.Status != metav1.ConditionFalse {
		t.Errorf("Insecure = %+v, want False over LDAPS with a CA", c)
	}

	byLogin := map[string]iamv1alpha1.User{}
	for _, u := range users(t, ns) {
		byLogin[u.Spec.Login] = u
	}
	var logins []string
	for l := range byLogin {
		logins = append(logins, l)
	}
	slices.Sort(logins)
	// The enabled people only: no computer, disabled or built-in account.
	want := []string{"alice.archer", "bob.brown", "carol", "dave.davis", "eve.o'neil", "frank-nomail",
		"grace.hopper", "heidi", "ivan.ivanov", "jdoe"}
	if diff := cmp.Diff(want, logins); diff != "" {
		t.Fatalf("the logins of the Users (-want +got):\n%s", diff)
	}
	engineering := "CN=Engineering," + adtest.GroupsOU
	for login, w := range map[string]struct {
		profile string
		groups  []string // names among the User's directoryGroups
		email   string
	}{
		// Two levels below Engineering, and in Domain Users by primaryGroupID.
		"ivan.ivanov": {"designer", []string{"Backend", "Databases", "Domain Users", "Engineering"}, "ivan@gatehouse.test"},
		// Only in her primary group, Contractors, and Partners, which nests it.
		"grace.hopper": {"reader", []string{"Contractors", "Partners"}, "grace@gatehouse.test"},
		"heidi":        {"reader", []string{"Domain Users"}, "heidi@gatehouse.test"},
		"frank-nomail": {"reader", []string{"Domain Users", "Sales"}, ""},
	} {
		u := byLogin[login]
		var names []string
		for _, g := range u.Spec.DirectoryGroups {
			if !slices.Contains([]string{"Backend", "Contractors", "Databases", "Domain Users", "Engineering", "Partners", "Sales"}, g) {
				continue
			}
			names = append(names, g)
		}
		if u.Spec.Profile != w.profile || !slices.Equal(names, w.groups) || u.Spec.Email != w.email {
			t.Errorf("%s: profile %q, groups %v, e-mail %q; want %q, %v, %q", login, u.Spec.Profile, names, u.Spec.Email, w.profile, w.groups, w.email)
		}
	}
	if !slices.Contains(byLogin["ivan.ivanov"].Spec.DirectoryGroups, engineering) {
		t.Errorf("ivan.ivanov's directoryGroups %v lack %s", byLogin["ivan.ivanov"].Spec.DirectoryGroups, engineering)
	}
	waitUser(t, ns, byLogin["ivan.ivanov"].Name, "gains createProjects through Group engineering", hasPermission("createProjects"))
}
