package directory_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/ldaptest"
)

var peLogins = []string{"amy", "bender", "fry", "hermes", "leela", "professor", "zoidberg"}

const (
	shipCrewDN = "cn=ship_crew,ou=people,dc=planetexpress,dc=com"
	zoidbergDN = "cn=John A. Zoidberg,ou=people,dc=planetexpress,dc=com"
	fryDN      = "cn=Philip J. Fry,ou=people,dc=planetexpress,dc=com"
)

func hasPermission(p iamv1alpha1.GlobalPermission) func(*iamv1alpha1.User) bool {
	return func(u *iamv1alpha1.User) bool { return slices.Contains(u.Status.GlobalPermissions, p) }
}

// A full sync of Planet Express: every entry becomes a User with its
// directory groups and mapped profile, the User controller gives the
// members of ship_crew the permissions of the Group that maps it; a user
// added to the group in LDAP gains them; an administrator's own fields
// survive later syncs; a no-change resync writes nothing; the metrics are
// exposed.
func TestFullSyncPlanetExpress(t *testing.T) {
	t.Parallel()
	s := planetExpress(t)
	ns := env.Namespace(t)
	create(t,
		&iamv1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns}, Spec: iamv1alpha1.LicenseSpec{Profiles: []iamv1alpha1.Profile{
			{Name: "designer", Seats: 4}, {Name: "reader", Seats: 20}}}},
		&iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: "crew", Namespace: ns}, Spec: iamv1alpha1.GroupSpec{
			LDAPGroups: []string{"ship_crew"}, GlobalPermissions: []iamv1alpha1.GlobalPermission{"createProjects"}}},
	)
	d := peDirectory(t, ns, s.URL)
	d.Spec.ProfileMappings = []iamv1alpha1.ProfileMapping{{Group: "cn=admin_staff," + peBase, Profile: "reader"}, {Group: "ship_crew", Profile: "designer"}}
	d.Spec.DefaultProfile = "reader"
	create(t, d)

	d = synced(t, ns, "pe")
	if d.Status.UsersFound != 7 || d.Status.GroupsFound != 2 || d.Status.Created != 7 || d.Status.LastSuccessTime == nil || d.Status.LastSyncDuration == nil {
		t.Errorf("status after the first sync: %+v", d.Status)
	}
	if c := condition(d, iamv1alpha1.ConditionDegraded); c.Status != metav1.ConditionFalse || c.Reason != iamv1alpha1.ReasonInStep {
		t.Errorf("Degraded = %+v", c)
	}
	// The test server is plain ldap:// on loopback (allowPlaintextBind).
	if c := condition(d, iamv1alpha1.ConditionInsecure); c.Status != metav1.ConditionTrue || c.Reason != iamv1alpha1.ReasonPlaintextBind {
		t.Errorf("Insecure = %+v", c)
	}
	us := users(t, ns)
	if diff := cmp.Diff(peLogins, names(us)); diff != "" {
		t.Fatalf("users (-want +got):\n%s", diff)
	}
	fry := us["fry"]
	want := iamv1alpha1.UserSpec{Login: "fry", DisplayName: "Fry", Email: "fry@planetexpress.com", Profile: "designer",
		DirectoryGroups: []string{shipCrewDN, "ship_crew"}, Active: ptr.To(true), Source: iamv1alpha1.UserSourceLDAP, Directory: "pe"}
	if diff := cmp.Diff(want, fry.Spec); diff != "" {
		t.Errorf("fry's spec (-want +got):\n%s", diff)
	}
	if fry.Labels[iamv1alpha1.LabelDirectory] != "pe" {
		t.Errorf("fry's labels = %v", fry.Labels)
	}
	if p := us["hermes"].Spec.Profile; p != "reader" {
		t.Errorf("hermes (admin_staff) has profile %q, want reader", p)
	}
	if p := us["amy"].Spec.Profile; p != "reader" {
		t.Errorf("amy (no group) has profile %q, want the default reader", p)
	}
	waitUser(t, ns, "fry", "gains createProjects through Group crew", hasPermission("createProjects"))
	waitEvent(t, ns, "Directory/pe Normal Synced", "Users created: 7,")

	// Metrics, from controller-runtime's registry.
	labels := map[string]string{"namespace": ns, "directory": "pe"}
	if v, ok := metric(t, "gatehouse_directory_users", labels); !ok || v != 7 {
		t.Errorf("gatehouse_directory_users = %v (found %t), want 7", v, ok)
	}
	if v, ok := metric(t, "gatehouse_directory_groups", labels); !ok || v != 2 {
		t.Errorf("gatehouse_directory_groups = %v (found %t), want 2", v, ok)
	}
	if v, ok := metric(t, "gatehouse_directory_sync_duration_seconds", labels); !ok || v < 1 {
		t.Errorf("gatehouse_directory_sync_duration_seconds has %v samples (found %t)", v, ok)
	}
	if v, _ := metric(t, "gatehouse_directory_user_writes_total", labels); v != 7 {
		t.Errorf("gatehouse_directory_user_writes_total = %v, want 7", v)
	}

	// Incremental: zoidberg joins ship_crew in LDAP.
	ctx := tctx(t)
	if err := s.AddValues(ctx, shipCrewDN, "member", zoidbergDN); err != nil {
		t.Fatal(err)
	}
	d = syncNow(t, ns, "pe")
	if d.Status.Updated != 1 || d.Status.Created != 0 {
		t.Errorf("after zoidberg joined: created %d, updated %d; want 0, 1", d.Status.Created, d.Status.Updated)
	}
	z := waitUser(t, ns, "zoidberg", "gains createProjects", hasPermission("createProjects"))
	if z.Spec.Profile != "designer" || !slices.Contains(z.Spec.DirectoryGroups, "ship_crew") {
		t.Errorf("zoidberg: %+v", z.Spec)
	}

	// An administrator's own fields: a profile override, local groups, an
	// inactive user. A sync that changes fry's name keeps all of them.
	update(t, &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Name: "fry", Namespace: ns}}, func(u *iamv1alpha1.User) {
		u.Spec.Profile = "reader"
		u.Spec.Groups = []string{"crew"}
	})
	update(t, &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Name: "hermes", Namespace: ns}}, func(u *iamv1alpha1.User) {
		u.Spec.Active = ptr.To(false)
	})
	if err := s.Replace(ctx, fryDN, "displayName", "Philip J. Fry"); err != nil {
		t.Fatal(err)
	}
	d = syncNow(t, ns, "pe")
	if d.Status.Updated != 1 {
		t.Errorf("the sync after fry's rename updated %d Users, want 1", d.Status.Updated)
	}
	fry = *getUser(t, ns, "fry")
	if fry.Spec.DisplayName != "Philip J. Fry" || fry.Spec.Profile != "reader" || !slices.Equal(fry.Spec.Groups, []string{"crew"}) {
		t.Errorf("fry after the admin's override and a rename: %+v", fry.Spec)
	}
	if getUser(t, ns, "hermes").Spec.IsActive() {
		t.Errorf("hermes was reactivated; an administrator deactivated him")
	}

	// Seat shortage never fails a sync: amy and the professor join
	// ship_crew; with leela, bender and zoidberg that is five designers
	// (fry is a reader by override) for four seats: one waits Pending. The
	// professor is also in admin_staff (reader), but designer comes first
	// in the License.
	for _, dn := range []string{"cn=Amy Wong+sn=Kroker," + peBase, "cn=Hubert J. Farnsworth," + peBase} {
		if err := s.AddValues(ctx, shipCrewDN, "member", dn); err != nil {
			t.Fatal(err)
		}
	}
	d = syncNow(t, ns, "pe")
	if c := condition(d, iamv1alpha1.ConditionReady); c.Status != metav1.ConditionTrue || d.Status.Updated != 2 {
		t.Errorf("after a seat shortage: Ready %+v, updated %d", c, d.Status.Updated)
	}
	if p := getUser(t, ns, "professor").Spec.Profile; p != "designer" {
		t.Errorf("the professor has profile %q, want designer (first in the License)", p)
	}
	eventually(t, "one designer Pending", func() (bool, string) {
		var pending []string
		for n, u := range users(t, ns) {
			if u.Spec.Profile == "designer" && u.Status.Seat == iamv1alpha1.SeatPending {
				pending = append(pending, n)
			}
		}
		return len(pending) == 1, strings.Join(pending, ",")
	})

	// A no-change resync writes nothing: the resource versions stay.
	before := quietVersions(t, ns)
	writes, _ := metric(t, "gatehouse_directory_user_writes_total", labels)
	d = syncNow(t, ns, "pe")
	if d.Status.Created+d.Status.Updated+d.Status.Deactivated != 0 {
		t.Errorf("a no-change resync counted changes: %+v", d.Status)
	}
	if after, _ := metric(t, "gatehouse_directory_user_writes_total", labels); after != writes {
		t.Errorf("a no-change resync wrote %v Users", after-writes)
	}
	if diff := cmp.Diff(before, versions(t, ns)); diff != "" {
		t.Errorf("a no-change resync changed Users (-before +after):\n%s", diff)
	}
}

// setPassword changes the bind password Secret.
func setPassword(t *testing.T, ns, password string) {
	t.Helper()
	update(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: bindSecret, Namespace: ns}}, func(s *corev1.Secret) {
		s.Data = map[string][]byte{"password": []byte(password)}
	})
}

// versions are the Users' resource versions.
func versions(t *testing.T, ns string) map[string]string {
	out := map[string]string{}
	for n, u := range users(t, ns) {
		out[n] = u.ResourceVersion
	}
	return out
}

// quietVersions waits until no User changes for a second (the User
// controller has written every status) and returns the versions.
func quietVersions(t *testing.T, ns string) map[string]string {
	t.Helper()
	last, since := versions(t, ns), time.Now()
	for time.Since(since) < time.Second {
		time.Sleep(100 * time.Millisecond)
		if v := versions(t, ns); !cmp.Equal(v, last) {
			last, since = v, time.Now()
		}
	}
	return last
}

// A user who left the directory is deactivated (and no longer counts as a
// member of its Groups), deactivated again after an administrator's
// active: true, with an Event saying why, and reactivated when it comes
// back; nothing else changes.
func TestRemovalDeactivates(t *testing.T) {
	t.Parallel()
	s := planetExpress(t)
	ns := env.Namespace(t)
	create(t, peDirectory(t, ns, s.URL), &iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: "staff", Namespace: ns}})
	synced(t, ns, "pe")
	for _, n := range []string{"fry", "zoidberg"} {
		update(t, &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Name: n, Namespace: ns}}, func(u *iamv1alpha1.User) { u.Spec.Groups = []string{"staff"} })
	}
	waitGroup(t, ns, "staff", "2 members", func(g *iamv1alpha1.Group) bool { return g.Status.Members == 2 })
	ctx := tctx(t)
	if err := s.Delete(ctx, zoidbergDN); err != nil {
		t.Fatal(err)
	}
	d := syncNow(t, ns, "pe")
	if d.Status.Deactivated != 1 || d.Status.UsersFound != 6 {
		t.Errorf("after zoidberg left: %+v", d.Status)
	}
	for n, u := range users(t, ns) {
		if u.Spec.IsActive() == (n == "zoidberg") {
			t.Errorf("user %s active = %t", n, u.Spec.IsActive())
		}
	}
	if z := getUser(t, ns, "zoidberg"); z.Spec.DisplayName != "Zoidberg" || z.Spec.Email == "" {
		t.Errorf("zoidberg lost his fields on deactivation: %+v", z.Spec)
	}
	waitEvent(t, ns, "Directory/pe Normal Synced", "deactivated: 1 ")
	if d.Status.ActiveUsers != 6 || d.Status.Deleted != 0 {
		t.Errorf("activeUsers %d, deleted %d after zoidberg left; want 6, 0", d.Status.ActiveUsers, d.Status.Deleted)
	}
	// Only active users are members: zoidberg no longer counts in staff.
	waitGroup(t, ns, "staff", "1 member, 1 inactive not counted", func(g *iamv1alpha1.Group) bool {
		return g.Status.Members == 1 && strings.Contains(groupReady(g).Message, "1 inactive user not counted")
	})
	// The User's Licensed condition says where its deactivation comes from.
	waitUser(t, ns, "zoidberg", "Licensed names the Directory", func(u *iamv1alpha1.User) bool {
		c := meta.FindStatusCondition(u.Status.Conditions, iamv1alpha1.ConditionLicensed)
		return c != nil && strings.Contains(c.Message, "It comes from Directory pe") && strings.Contains(c.Message, "put the user back into the directory")
	})

	// An administrator's active: true does not hold: the next sync
	// deactivates zoidberg again, and says why on the User.
	update(t, &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Name: "zoidberg", Namespace: ns}}, func(u *iamv1alpha1.User) { u.Spec.Active = ptr.To(true) })
	d = syncNow(t, ns, "pe")
	if getUser(t, ns, "zoidberg").Spec.IsActive() || d.Status.Deactivated != 1 {
		t.Errorf("zoidberg is active after a sync (deactivated %d)", d.Status.Deactivated)
	}
	if msg := condition(d, iamv1alpha1.ConditionSynced).Message; !strings.Contains(msg, "an administrator had set spec.active: true") || !strings.Contains(msg, "zoidberg") {
		t.Errorf("Synced message %q", msg)
	}
	waitEvent(t, ns, "User/zoidberg Warning DeactivatedByDirectory", "Directory pe deactivated this User again", `login "zoidberg"`, "put it back into the directory")
	waitEvent(t, ns, "Directory/pe Warning DeactivatedByDirectory", "zoidberg")

	// Back in the directory: active again.
	if err := s.Add(ctx, ldaptest.NewEntry(zoidbergDN, "objectClass", "inetOrgPerson", "cn", "John A. Zoidberg", "sn", "Zoidberg",
		"uid", "zoidberg", "displayName", "Zoidberg", "mail", "zoidberg@planetexpress.com")); err != nil {
		t.Fatal(err)
	}
	d = syncNow(t, ns, "pe")
	if !getUser(t, ns, "zoidberg").Spec.IsActive() || d.Status.Updated != 1 {
		t.Errorf("zoidberg is back in the directory but not active again (updated %d)", d.Status.Updated)
	}
}

// The safety bound: a sync that would deactivate more than
// maxDeactivationPercent stops, changes nothing and says how to proceed
// (activeUsers still counts the Users it left active); a dry run says it
// is blocked, and with the annotation what the sync would do past it,
// without using it up; the annotation lets one sync through; a directory
// that returns no user stops as well.
func TestSafetyBound(t *testing.T) {
	t.Parallel()
	s := ldaptest.Start(t, ldaptest.GroupOfNamesTree())
	ns := env.Namespace(t)
	d := exampleDirectory(t, ns, s, s.URL)
	create(t, d)
	synced(t, ns, "example")
	if got := names(users(t, ns)); !slices.Equal(got, []string{"ann", "ben", "cid", "jsmith"}) {
		t.Fatalf("users %v", got)
	}
	ctx := tctx(t)
	if err := s.Delete(ctx, ldaptest.UserDN(ldaptest.People(s.Suffix), "cid")); err != nil {
		t.Fatal(err)
	}
	// 1 of 4 is 25%, more than the default 20%.
	syncNow(t, ns, "example")
	d = waitDir(t, ns, "example", "stopped by the bound", cond(iamv1alpha1.ConditionDegraded, metav1.ConditionTrue, iamv1alpha1.ReasonDeactivationLimit))
	msg := condition(d, iamv1alpha1.ConditionDegraded).Message
	for _, want := range []string{"deactivate 1 of the directory's 4 active Users (25.0 %)", "(20 %)", "cid", iamv1alpha1.AnnotationAllowMassRemoval} {
		if !strings.Contains(msg, want) {
			t.Errorf("Degraded message %q lacks %q", msg, want)
		}
	}
	if c := condition(d, iamv1alpha1.ConditionReady); c.Status != metav1.ConditionFalse {
		t.Errorf("Ready = %+v", c)
	}
	for n, u := range users(t, ns) {
		if !u.Spec.IsActive() {
			t.Errorf("user %s was deactivated by a stopped sync", n)
		}
	}
	// The columns say what happened: 3 found, 4 still active.
	if d.Status.UsersFound != 3 || d.Status.ActiveUsers != 4 {
		t.Errorf("after the stop: usersFound %d, activeUsers %d; want 3, 4", d.Status.UsersFound, d.Status.ActiveUsers)
	}
	waitEvent(t, ns, "Directory/example Warning DeactivationLimitExceeded")

	// A dry run says it is blocked; with the annotation, what the real
	// sync would do, without using the annotation up.
	update(t, d, func(d *iamv1alpha1.Directory) { d.Spec.DryRun = true })
	d = waitDir(t, ns, "example", "dry run blocked", func(d *iamv1alpha1.Directory) bool {
		return d.Status.ObservedGeneration == d.Generation && d.Status.Plan != nil && d.Status.Plan.Blocked != ""
	})
	update(t, d, func(d *iamv1alpha1.Directory) {
		d.Annotations = map[string]string{iamv1alpha1.AnnotationAllowMassRemoval: "2024-06-01"}
	})
	d = waitDir(t, ns, "example", "dry run allowed", func(d *iamv1alpha1.Directory) bool {
		return d.Status.Plan != nil && d.Status.Plan.AllowedBy == "2024-06-01"
	})
	if d.Status.Plan.Blocked != "" || d.Status.Plan.Deactivate != 1 || d.Status.AllowMassRemovalHandled != "" {
		t.Errorf("dry run with the annotation: %+v, handled %q", d.Status.Plan, d.Status.AllowMassRemovalHandled)
	}
	if c := condition(d, iamv1alpha1.ConditionSynced); c.Reason != iamv1alpha1.ReasonDryRun || !strings.Contains(c.Message, "lets the next sync through, which would create 0, update 0, deactivate 1") ||
		strings.Contains(c.Message, "nothing was changed. If this is intended") {
		t.Errorf("Synced = %+v", c)
	}
	if c := condition(d, iamv1alpha1.ConditionDegraded); c.Reason != iamv1alpha1.ReasonDryRun || strings.Contains(c.Message, "in step with it") {
		t.Errorf("Degraded = %+v", c)
	}
	if !getUser(t, ns, "cid").Spec.IsActive() {
		t.Fatalf("a dry run deactivated cid")
	}

	// The annotation the dry run did not use up lets one sync through.
	update(t, d, func(d *iamv1alpha1.Directory) { d.Spec.DryRun = false })
	d = waitDir(t, ns, "example", "allowed once", func(d *iamv1alpha1.Directory) bool { return d.Status.AllowMassRemovalHandled == "2024-06-01" })
	if c := condition(d, iamv1alpha1.ConditionReady); c.Status != metav1.ConditionTrue || d.Status.Deactivated != 1 || d.Status.ActiveUsers != 3 {
		t.Errorf("after the annotation: Ready %+v, deactivated %d, activeUsers %d", c, d.Status.Deactivated, d.Status.ActiveUsers)
	}
	if getUser(t, ns, "cid").Spec.IsActive() {
		t.Errorf("cid is still active after the allowed sync")
	}

	// A filter that matches nothing: the directory "returns no user".
	update(t, d, func(d *iamv1alpha1.Directory) { d.Spec.Users.Filter = "(uid=nobody-at-all)" })
	d = waitDir(t, ns, "example", "stopped: empty", cond(iamv1alpha1.ConditionDegraded, metav1.ConditionTrue, iamv1alpha1.ReasonEmptyDirectory))
	if !strings.Contains(condition(d, iamv1alpha1.ConditionDegraded).Message, "3 active Users") {
		t.Errorf("EmptyDirectory message: %q", condition(d, iamv1alpha1.ConditionDegraded).Message)
	}
	for n, u := range users(t, ns) {
		if u.Spec.IsActive() != (n != "cid") {
			t.Errorf("user %s active = %t after the empty read", n, u.Spec.IsActive())
		}
	}
}

// slapd stops: Ready False with the reason in words, nothing deactivated;
// it comes back: the sync recovers by itself (back-off).
func TestOutageAndRecovery(t *testing.T) {
	t.Parallel()
	s := ldaptest.Start(t, ldaptest.GroupOfNamesTree())
	ns := env.Namespace(t)
	create(t, exampleDirectory(t, ns, s, s.URL))
	synced(t, ns, "example")
	s.Stop()
	syncNow(t, ns, "example")
	d := waitDir(t, ns, "example", "not ready", cond(iamv1alpha1.ConditionReady, metav1.ConditionFalse, "Unreachable"))
	if msg := condition(d, iamv1alpha1.ConditionReady).Message; !strings.Contains(msg, "connection refused") || !strings.Contains(msg, "No User was deactivated") {
		t.Errorf("Ready message %q", msg)
	}
	if c := condition(d, iamv1alpha1.ConditionDegraded); c.Status != metav1.ConditionTrue {
		t.Errorf("Degraded = %+v", c)
	}
	for n, u := range users(t, ns) {
		if !u.Spec.IsActive() {
			t.Errorf("user %s deactivated during an outage", n)
		}
	}
	if len(users(t, ns)) != 4 {
		t.Errorf("users lost during an outage: %v", names(users(t, ns)))
	}
	waitEvent(t, ns, "Directory/example Warning SyncFailed", "connection refused")
	if v, _ := metric(t, "gatehouse_directory_sync_errors_total", map[string]string{"namespace": ns, "directory": "example", "reason": "Unreachable"}); v < 1 {
		t.Errorf("gatehouse_directory_sync_errors_total{reason=Unreachable} = %v", v)
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	d = waitDir(t, ns, "example", "recovered", cond(iamv1alpha1.ConditionReady, metav1.ConditionTrue, ""))
	if d.Status.UsersFound != 4 {
		t.Errorf("after recovery: %+v", d.Status)
	}
}

// The connection is cut after the first page of the user search: a failed
// sync, never a partial one that deactivates the rest.
func TestConnectionLostMidPaging(t *testing.T) {
	t.Parallel()
	s := ldaptest.Start(t, ldaptest.BigTree(250, 0, 0))
	p := ldaptest.NewProxy(t, s.Addr)
	ns := env.Namespace(t)
	d := exampleDirectory(t, ns, s, p.URL)
	d.Spec.Groups = nil
	d.Spec.PageSize = 100
	create(t, d)
	d = synced(t, ns, "example")
	if d.Status.Created != 250 {
		t.Fatalf("first sync created %d", d.Status.Created)
	}
	p.CutAfterSearchDone(1)
	syncNow(t, ns, "example")
	d = waitDir(t, ns, "example", "failed", cond(iamv1alpha1.ConditionSynced, metav1.ConditionFalse, "Unreachable"))
	if msg := condition(d, iamv1alpha1.ConditionSynced).Message; !strings.Contains(msg, "page 2") || !strings.Contains(msg, "incomplete") {
		t.Errorf("Synced message %q", msg)
	}
	if d.Status.UsersFound != 250 {
		t.Errorf("usersFound after a cut read = %d, want the last complete read's 250", d.Status.UsersFound)
	}
	us := users(t, ns)
	for n, u := range us {
		if !u.Spec.IsActive() {
			t.Fatalf("user %s deactivated after a cut read", n)
		}
	}
	if len(us) != 250 {
		t.Errorf("%d users after a cut read", len(us))
	}
	p.CutAfterSearchDone(0)
	waitDir(t, ns, "example", "recovered", cond(iamv1alpha1.ConditionSynced, metav1.ConditionTrue, iamv1alpha1.ReasonSyncSucceeded))
}

// OnDemand: only Users an administrator created with source LDAP are
// filled in; a login the directory does not know gets a clear condition;
// a login such as *)(uid=* matches nothing.
func TestOnDemand(t *testing.T) {
	t.Parallel()
	s := planetExpress(t)
	ns := env.Namespace(t)
	ldapUser := func(name, login string) *iamv1alpha1.User {
		return &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: iamv1alpha1.UserSpec{Login: login, Source: iamv1alpha1.UserSourceLDAP, Directory: "pe"}}
	}
	create(t, ldapUser("fry", "fry"), ldapUser("ghost", "ghost"), ldapUser("injection", "*)(uid=*"))
	d := peDirectory(t, ns, s.URL)
	d.Spec.Provisioning = iamv1alpha1.ProvisioningOnDemand
	create(t, d)
	d = synced(t, ns, "pe")
	fry := getUser(t, ns, "fry")
	if fry.Spec.DisplayName != "Fry" || fry.Spec.Email != "fry@planetexpress.com" || !slices.Contains(fry.Spec.DirectoryGroups, "ship_crew") ||
		fry.Labels[iamv1alpha1.LabelDirectory] != "pe" {
		t.Errorf("fry not filled in: %+v %v", fry.Spec, fry.Labels)
	}
	for _, n := range []string{"ghost", "injection"} {
		if u := getUser(t, ns, n); u.Spec.DisplayName != "" || u.Spec.Email != "" || len(u.Spec.DirectoryGroups) != 0 || u.Labels[iamv1alpha1.LabelDirectory] != "" {
			t.Errorf("%s was filled in: %+v", n, u.Spec)
		}
	}
	if got := names(users(t, ns)); !slices.Equal(got, []string{"fry", "ghost", "injection"}) {
		t.Errorf("OnDemand created Users: %v", got)
	}
	c := condition(d, iamv1alpha1.ConditionDegraded)
	if c.Status != metav1.ConditionTrue || c.Reason != iamv1alpha1.ReasonUnknownLogins ||
		!strings.Contains(c.Message, `User ghost (login "ghost")`) || !strings.Contains(c.Message, `User injection (login "*)(uid=*")`) {
		t.Errorf("Degraded = %+v", c)
	}
	if d.Status.UsersFound != 1 {
		t.Errorf("usersFound = %d, want 1", d.Status.UsersFound)
	}
	waitEvent(t, ns, "Directory/pe Warning UnknownLogins", "ghost")

	// A User created later is filled in without waiting for the interval.
	create(t, ldapUser("leela", "Leela"))
	waitUser(t, ns, "leela", "filled in", func(u *iamv1alpha1.User) bool { return u.Spec.Email == "leela@planetexpress.com" })
}

// OnDemand with nobody to fill in: a new Directory (OnDemand is the default,
// so that re-creating one through GitOps never provisions the whole
// directory) says what OnDemand does and the two ways on, not "Read 0 users".
func TestOnDemandNobodyYet(t *testing.T) {
	t.Parallel()
	s := planetExpress(t)
	ns := env.Namespace(t)
	d := peDirectory(t, ns, s.URL)
	d.Spec.Provisioning = ""
	create(t, d)
	d = synced(t, ns, "pe")
	if d.Spec.Provisioning != iamv1alpha1.ProvisioningOnDemand {
		t.Errorf("default provisioning = %q, want OnDemand", d.Spec.Provisioning)
	}
	msg := condition(d, iamv1alpha1.ConditionSynced).Message
	for _, want := range []string{"Provisioning is OnDemand and no User names this Directory yet", "spec.source LDAP and spec.directory pe", "spec.provisioning to All"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Synced message %q does not say %q", msg, want)
		}
	}
	if strings.Contains(msg, "Read 0") {
		t.Errorf("Synced message %q", msg)
	}
	if n := len(users(t, ns)); n != 0 {
		t.Errorf("OnDemand with nobody to fill in created %d Users", n)
	}
}

// A User created by hand with a directory login is never taken over: the
// conflict is reported in the Directory's status and in Events.
func TestHandMadeUserNotTakenOver(t *testing.T) {
	t.Parallel()
	s := planetExpress(t)
	ns := env.Namespace(t)
	create(t, &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Name: "philip", Namespace: ns},
		Spec: iamv1alpha1.UserSpec{Login: "fry", DisplayName: "Philip (local)", Groups: []string{"local"}}})
	create(t, peDirectory(t, ns, s.URL))
	d := synced(t, ns, "pe")
	c := condition(d, iamv1alpha1.ConditionDegraded)
	if c.Status != metav1.ConditionTrue || c.Reason != iamv1alpha1.ReasonLoginConflict || !strings.Contains(c.Message, `login "fry": User philip is a local User`) {
		t.Errorf("Degraded = %+v", c)
	}
	if d.Status.Created != 6 {
		t.Errorf("created %d, want 6", d.Status.Created)
	}
	p := getUser(t, ns, "philip")
	if p.Spec.DisplayName != "Philip (local)" || p.Spec.Source != iamv1alpha1.UserSourceLocal || p.Labels[iamv1alpha1.LabelDirectory] != "" || len(p.Spec.DirectoryGroups) != 0 {
		t.Errorf("the hand-made User was changed: %+v %v", p.Spec, p.Labels)
	}
	if _, ok := users(t, ns)["fry"]; ok {
		t.Errorf("a second User with login fry was created")
	}
	waitEvent(t, ns, "User/philip Warning NotManagedByDirectory", "left alone")
	waitEvent(t, ns, "Directory/pe Warning LoginConflict", "fry")
}

// dryRun: the plan goes into status and nothing is written.
func TestDryRun(t *testing.T) {
	t.Parallel()
	s := planetExpress(t)
	ns := env.Namespace(t)
	d := peDirectory(t, ns, s.URL)
	d.Spec.DryRun = true
	create(t, d)
	d = synced(t, ns, "pe")
	want := &iamv1alpha1.DirectoryPlan{Create: 7, CreateNames: peLogins}
	if diff := cmp.Diff(want, d.Status.Plan); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if c := condition(d, iamv1alpha1.ConditionSynced); c.Reason != iamv1alpha1.ReasonDryRun {
		t.Errorf("Synced = %+v", c)
	}
	// Not "in step": nothing was written.
	if c := condition(d, iamv1alpha1.ConditionDegraded); c.Reason != iamv1alpha1.ReasonDryRun || !strings.Contains(c.Message, "not brought in step") ||
		!strings.Contains(c.Message, "would create 7") {
		t.Errorf("Degraded = %+v", c)
	}
	if c := condition(d, iamv1alpha1.ConditionSyncing); c.Status != metav1.ConditionFalse || c.Reason != iamv1alpha1.ReasonDryRun {
		t.Errorf("Syncing = %+v", c)
	}
	// Zero counters are shown, not left out.
	raw := rawStatus(t, ns, "pe")
	for _, k := range []string{"created", "updated", "deactivated", "deleted", "activeUsers", "skipped"} {
		if v, ok := raw[k]; !ok || v != int64(0) {
			t.Errorf("status.%s = %v (present %t), want 0", k, v, ok)
		}
	}
	if plan, _ := raw["plan"].(map[string]any); plan["update"] != int64(0) || plan["deactivate"] != int64(0) {
		t.Errorf("status.plan = %v, want the zero counts shown", plan)
	}
	if us := users(t, ns); len(us) != 0 {
		t.Errorf("a dry run created %v", names(us))
	}
	waitEvent(t, ns, "Directory/pe Normal DryRun", "would create 7")
	// The real sync clears the plan when it starts (Syncing True) and
	// ends with Syncing False.

	update(t, d, func(d *iamv1alpha1.Directory) { d.Spec.DryRun = false })
	d = synced(t, ns, "pe")
	if d.Status.Plan != nil || d.Status.Created != 7 || len(users(t, ns)) != 7 {
		t.Errorf("after the dry run: %+v", d.Status)
	}
}

// No Secret value reaches an Event, a status, a condition or a log line,
// also when the bind fails; a Secret change re-syncs at once.
func TestBindPasswordNeverShown(t *testing.T) {
	t.Parallel()
	s := planetExpress(t)
	ns := env.Namespace(t)
	const wrong = "Wrong-Password-Zebra-42"
	d := peDirectory(t, ns, s.URL)
	setPassword(t, ns, wrong)
	create(t, d)
	d = waitDir(t, ns, "pe", "bind failed", cond(iamv1alpha1.ConditionReady, metav1.ConditionFalse, "BindFailed"))
	if msg := condition(d, iamv1alpha1.ConditionReady).Message; !strings.Contains(msg, "invalid credentials") || !strings.Contains(msg, `Secret "ldap-bind" key "password"`) {
		t.Errorf("Ready message %q", msg)
	}
	waitEvent(t, ns, "Warning SyncFailed", "invalid credentials")

	// The right password: the Secret's change re-syncs without sync-now.
	setPassword(t, ns, ldaptest.PlanetExpressAdminPassword)
	d = synced(t, ns, "pe")
	if d.Status.Created != 7 {
		t.Errorf("created %d after the password was fixed", d.Status.Created)
	}

	// Also a missing Secret says which one, and nothing else.
	update(t, d, func(d *iamv1alpha1.Directory) { d.Spec.BindPasswordSecretRef.Name = "missing" })
	d = waitDir(t, ns, "pe", "secret missing", cond(iamv1alpha1.ConditionReady, metav1.ConditionFalse, iamv1alpha1.ReasonSecretNotFound))

	var everything []string
	b, _ := json.Marshal(d)
	everything = append(everything, string(b))
	b, _ = json.Marshal(users(t, ns))
	everything = append(everything, string(b))
	everything = append(everything, events(t, ns)...)
	everything = append(everything, logs.String())
	for _, pw := range []string{wrong, ldaptest.PlanetExpressAdminPassword} {
		for _, text := range everything {
			if strings.Contains(text, pw) {
				t.Fatalf("the bind password %q appears in:\n%.2000s", pw, text)
			}
		}
	}
	if !strings.Contains(logs.String(), "directory") {
		t.Errorf("the captured log is empty; the test proves nothing")
	}
}

// ldaps:// with the CA from a Secret; insecureSkipVerify works but raises
// the Insecure condition and a Warning Event.
func TestTLSAndInsecure(t *testing.T) {
	t.Parallel()
	s := ldaptest.Start(t, ldaptest.GroupOfNamesTree())
	ns := env.Namespace(t)
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ldap-ca", Namespace: ns, Labels: map[string]string{iamv1alpha1.LabelCredentialFor: "directory.example"}},
		Data: map[string][]byte{"ca.crt": s.CA.CertPEM}})
	d := exampleDirectory(t, ns, s, s.LDAPSURL)
	d.Spec.TLS = &iamv1alpha1.DirectoryTLS{CASecretRef: &iamv1alpha1.SecretKeySelector{Name: "ldap-ca", Key: "ca.crt"}}
	create(t, d)
	d = synced(t, ns, "example")
	if d.Status.UsersFound != 4 || condition(d, iamv1alpha1.ConditionInsecure).Status != metav1.ConditionFalse {
		t.Errorf("ldaps with a CA: %+v", d.Status)
	}
	update(t, d, func(d *iamv1alpha1.Directory) { d.Spec.TLS = &iamv1alpha1.DirectoryTLS{InsecureSkipVerify: true} })
	d = waitDir(t, ns, "example", "insecure", cond(iamv1alpha1.ConditionInsecure, metav1.ConditionTrue, iamv1alpha1.ReasonInsecureSkipVerify))
	if condition(d, iamv1alpha1.ConditionReady).Status != metav1.ConditionTrue {
		t.Errorf("Ready with insecureSkipVerify: %+v", condition(d, iamv1alpha1.ConditionReady))
	}
	waitEvent(t, ns, "Directory/example Warning InsecureSkipVerify")
}

// TestLargeSync syncs a BigTree of 10,000 users and 1,000 groups (100
// members each), then makes a no-change resync, a sync the safety bound
// stops and one an empty directory stops, and logs how long each took. GATEHOUSE_LARGE=1 runs it; a number above 1 is the number of users
// (groups are a tenth of it):
//
//	GATEHOUSE_LARGE=1 KUBEBUILDER_ASSETS=$PWD/bin/k8s/1.37.2 go test ./controllers/directory -run TestLargeSync -v -timeout 60m
func TestLargeSync(t *testing.T) {
	large := os.Getenv("GATEHOUSE_LARGE")
	if testing.Short() || large == "" {
		t.Skip("set GATEHOUSE_LARGE=1 to sync 10,000 users")
	}
	nUsers, perGroup := 10000, 100
	if n, err := strconv.Atoi(large); err == nil && n > 1 {
		nUsers = n
	}
	nGroups := nUsers / 10
	start := time.Now()
	s := ldaptest.Start(t, ldaptest.BigTree(nUsers, nGroups, perGroup))
	t.Logf("slapd with %d users and %d groups started in %s", nUsers, nGroups, time.Since(start).Round(time.Millisecond))
	ns := env.Namespace(t)
	d := exampleDirectory(t, ns, s, s.URL)
	d.Spec.PageSize = 1000
	create(t, d)
	first := largeWait(t, ns, func(d *iamv1alpha1.Directory) bool {
		return d.Status.ObservedGeneration == d.Generation && d.Status.LastSuccessTime != nil
	})
	t.Logf("first sync: %d users, %d groups, created %d, sync duration %s", first.Status.UsersFound, first.Status.GroupsFound,
		first.Status.Created, first.Status.LastSyncDuration.Duration)
	labels := map[string]string{"namespace": ns, "directory": "example"}
	writes, _ := metric(t, "gatehouse_directory_user_writes_total", labels)
	d = syncNow(t, ns, "example")
	after, _ := metric(t, "gatehouse_directory_user_writes_total", labels)
	t.Logf("no-change resync: sync duration %s, %v User writes", d.Status.LastSyncDuration.Duration, after-writes)
	if after != writes {
		t.Errorf("the no-change resync wrote %v Users", after-writes)
	}

	// The stops: a filter that matches 70 % of the users (a bound stop of
	// 30 %), then one that matches nobody (an empty-directory stop). Both
	// are decided from the cache: neither reads a User from the API
	// server, so neither should take longer than the no-change resync.
	gets := func() float64 {
		v, _ := metric(t, "rest_client_requests_total", map[string]string{"method": "GET"})
		return v
	}
	for _, stop := range []struct{ what, filter, reason string }{
		{"bound stop (30 % removed)", "(&(objectClass=person)(!(uid=*0))(!(uid=*1))(!(uid=*2)))", iamv1alpha1.ReasonDeactivationLimit},
		{"empty-directory stop", "(uid=nobody-at-all)", iamv1alpha1.ReasonEmptyDirectory},
	} {
		before, getsBefore, began := d.Status.LastAttemptTime, gets(), time.Now()
		update(t, d, func(d *iamv1alpha1.Directory) { d.Spec.Users.Filter = stop.filter })
		d = largeWait(t, ns, func(d *iamv1alpha1.Directory) bool {
			c := condition(d, iamv1alpha1.ConditionSynced)
			return d.Status.ObservedGeneration == d.Generation && c.Reason == stop.reason && d.Status.LastAttemptTime != nil && !d.Status.LastAttemptTime.Equal(before)
		})
		wall := time.Since(began)
		t.Logf("%s: sync duration %s (spec edit to status %s), %d found, %d active, %v GET requests of the manager meanwhile",
			stop.what, d.Status.LastSyncDuration.Duration, wall.Round(time.Millisecond), d.Status.UsersFound, d.Status.ActiveUsers, gets()-getsBefore)
		if now, _ := metric(t, "gatehouse_directory_user_writes_total", labels); now != after {
			t.Errorf("the %s wrote %v Users", stop.what, now-after)
		}
	}
}

func largeWait(t *testing.T, ns string, ok func(*iamv1alpha1.Directory) bool) *iamv1alpha1.Directory {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	for ctx.Err() == nil {
		var d iamv1alpha1.Directory
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "example"}, &d); err == nil && ok(&d) {
			return &d
		}
		time.Sleep(time.Second)
	}
	t.Fatal("the large sync did not finish within 30 minutes")
	return nil
}

// TestConfusedDeputy: a Directory whose bind password Secret is not marked
// for it, or that would bind in clear text without allowPlaintextBind, sends
// nothing: a loopback listener speaking LDAP receives no connection. With a
// marked Secret and allowPlaintextBind it receives the password, so the
// test can fail; and the status says Insecure=True PlaintextBind.
func TestConfusedDeputy(t *testing.T) {
	ns := env.Namespace(t)
	deputy := testenv.StartDeputy(t, testenv.DeputyLDAP)
	url := fmt.Sprintf("ldap://%s:%d", deputy.Host, deputy.Port)
	const stolen, own = "erins-key-5a1c", "bind-pw-9e2f"
	// Another user's per-user key, and a Secret marked for another object.
	create(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "lake-erin", Namespace: ns,
		Labels: map[string]string{iamv1alpha1.LabelConnection: "lake", iamv1alpha1.LabelUser: "erin"}}, Data: map[string][]byte{"password": []byte(stolen)}})
	dir := func(name, secret string, plaintext bool) *iamv1alpha1.Directory {
		return &iamv1alpha1.Directory{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: iamv1alpha1.DirectorySpec{
			URL: url, BindDN: "cn=admin", AllowPlaintextBind: plaintext,
			BindPasswordSecretRef: &iamv1alpha1.SecretKeySelector{Name: secret, Key: "password"},
			Users:                 iamv1alpha1.DirectoryUsers{BaseDN: "ou=people"}, Provisioning: iamv1alpha1.ProvisioningAll}}
	}
	create(t, dir("thief", "lake-erin", true))
	waitDir(t, ns, "thief", "Ready=False SecretNotMarked", cond(iamv1alpha1.ConditionReady, metav1.ConditionFalse, iamv1alpha1.ReasonSecretNotMarked))

	// A marked Secret, but a plaintext bind not allowed.
	createSecret(t, ns, "bind", own, "plain")
	create(t, dir("plain", "bind", false))
	d := waitDir(t, ns, "plain", "Ready=False PlaintextBind", cond(iamv1alpha1.ConditionReady, metav1.ConditionFalse, iamv1alpha1.ReasonPlaintextBind))
	if c := condition(d, iamv1alpha1.ConditionInsecure); c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, "clear text") {
		t.Errorf("Insecure = %+v", c)
	}
	// The condition is the reconcile's decision, written after it would
	// have bound: the listener's silence is checked once it is there.
	if got, n := deputy.Received(); n != 0 {
		t.Fatalf("the listener was contacted %d times; it received %q", n, got)
	}

	// Allowed: the password reaches the listener (so the above could fail).
	update(t, &iamv1alpha1.Directory{ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: ns}}, func(d *iamv1alpha1.Directory) { d.Spec.AllowPlaintextBind = true })
	eventually(t, "the listener receives the marked password", func() (bool, string) {
		got, n := deputy.Received()
		return bytes.Contains(got, []byte(own)), fmt.Sprintf("%d connections, %q", n, got)
	})
	if got, _ := deputy.Received(); bytes.Contains(got, []byte(stolen)) {
		t.Errorf("erin's key reached the listener: %q", got)
	}
}

// A Directory pointing at a closed port fails and retries with back-off:
// one SyncFailed Event however often it retries, the cause logged once,
// never at error level with a stack trace; a different failure is a new
// Event.
func TestQuietFailures(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	port := closedPort(t)
	createSecret(t, ns, bindSecret, "not-sent-anywhere", "closed")
	d := &iamv1alpha1.Directory{ObjectMeta: metav1.ObjectMeta{Name: "closed", Namespace: ns}, Spec: iamv1alpha1.DirectorySpec{
		URL: fmt.Sprintf("ldap://127.0.0.1:%d", port), AllowPlaintextBind: true, BindDN: "cn=admin",
		BindPasswordSecretRef: &iamv1alpha1.SecretKeySelector{Name: bindSecret, Key: "password"},
		Users:                 iamv1alpha1.DirectoryUsers{BaseDN: "ou=people"}, Provisioning: iamv1alpha1.ProvisioningAll}}
	create(t, d)
	labels := map[string]string{"namespace": ns, "directory": "closed"}
	// Five failed attempts (back-off 0.2 s doubling to 2 s in this
	// package's manager).
	eventually(t, "five failed syncs", func() (bool, string) {
		v, _ := metric(t, "gatehouse_directory_sync_errors_total", labels)
		return v >= 5, fmt.Sprintf("%v failed syncs", v)
	})
	failed := func() []string {
		var out []string
		for _, e := range events(t, ns) {
			if strings.HasPrefix(e, "Directory/closed Warning SyncFailed") {
				out = append(out, e)
			}
		}
		return out
	}
	if evs := failed(); len(evs) != 1 || !strings.Contains(evs[0], "connection refused") {
		t.Errorf("SyncFailed Events after five failures: %q; want one", evs)
	}
	var retries, stacks int
	for _, line := range strings.Split(logs.String(), "\n") {
		if !strings.Contains(line, ns) {
			continue
		}
		if strings.Contains(line, "directory sync failed; retrying with back-off") {
			retries++
			if !strings.Contains(line, "connection refused") {
				t.Errorf("the retry log line lacks the cause: %s", line)
			}
		}
		if strings.Contains(line, "Reconciler error") || strings.Contains(line, "stacktrace") {
			stacks++
		}
	}
	if retries != 1 || stacks != 0 {
		t.Errorf("the log has %d first-failure lines (want 1) and %d reconciler errors (want 0)", retries, stacks)
	}
	d = getDir(t, ns, "closed")
	if c := condition(d, iamv1alpha1.ConditionSynced); c.Reason != "Unreachable" || !strings.Contains(c.Message, "retried with back-off") {
		t.Errorf("Synced = %+v", c)
	}

	// Another failure is another Event.
	update(t, d, func(d *iamv1alpha1.Directory) { d.Spec.BindPasswordSecretRef.Name = "missing" })
	waitEvent(t, ns, "Directory/closed Warning SyncFailed", "Secret missing")
	if evs := failed(); len(evs) != 2 {
		t.Errorf("SyncFailed Events after a second failure: %q; want two", evs)
	}
}

// While a sync runs, Syncing is True and says why; once it ended, False
// with the outcome's reason.
func TestSyncingCondition(t *testing.T) {
	t.Parallel()
	s := ldaptest.Start(t, ldaptest.GroupOfNamesTree())
	p := ldaptest.NewProxy(t, s.Addr)
	ns := env.Namespace(t)
	d := exampleDirectory(t, ns, s, p.URL)
	d.Spec.Timeout = metav1.Duration{Duration: 3 * time.Second}
	create(t, d)
	d = synced(t, ns, "example")
	if c := condition(d, iamv1alpha1.ConditionSyncing); c.Status != metav1.ConditionFalse || c.Reason != iamv1alpha1.ReasonSyncSucceeded {
		t.Errorf("Syncing after the first sync = %+v", c)
	}
	// The server hangs after the first answer: the sync started by a spec
	// change runs until the timeout.
	p.StallAfterSearchDone(1)
	update(t, d, func(d *iamv1alpha1.Directory) { d.Spec.PageSize = 100 })
	waitDir(t, ns, "example", "Syncing True", func(d *iamv1alpha1.Directory) bool {
		c := meta.FindStatusCondition(d.Status.Conditions, iamv1alpha1.ConditionSyncing)
		return c != nil && c.Status == metav1.ConditionTrue && c.Reason == iamv1alpha1.ReasonSyncInProgress && strings.Contains(c.Message, "spec changed") && c.ObservedGeneration == d.Generation
	})
	p.StallAfterSearchDone(0)
	waitDir(t, ns, "example", "Syncing False after the retry", func(d *iamv1alpha1.Directory) bool {
		return cond(iamv1alpha1.ConditionSyncing, metav1.ConditionFalse, iamv1alpha1.ReasonSyncSucceeded)(d) &&
			cond(iamv1alpha1.ConditionSynced, metav1.ConditionTrue, iamv1alpha1.ReasonSyncSucceeded)(d)
	})
}

// closedPort is a loopback port nothing listens on: one the kernel gave a
// listener that is closed again.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}
