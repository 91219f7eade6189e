package controllers_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	groupctrl "github.com/gatehouse-dev/gatehouse/controllers/group"
	licensectrl "github.com/gatehouse-dev/gatehouse/controllers/license"
	sharectrl "github.com/gatehouse-dev/gatehouse/controllers/share"
	userctrl "github.com/gatehouse-dev/gatehouse/controllers/user"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/manifest"
)

// TestSamples applies config/samples and checks every status against a
// fresh Compute of the same objects.
func TestSamples(t *testing.T) {
	ns := env.Namespace(t)
	docs, err := manifest.ReadPaths("../config/samples")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for _, d := range docs {
		o := d.Object.DeepCopy()
		if o.GetKind() == "Namespace" {
			continue
		}
		o.SetNamespace(ns)
		create(t, o)
	}
	consistent(t, ns)
	t.Logf("samples converged %v after the first create", time.Since(start).Round(time.Millisecond))
	alice := getUser(t, ns, "alice")
	if c := meta.FindStatusCondition(alice.Status.Conditions, "Ready"); c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != alice.Generation {
		t.Errorf("alice Ready = %+v", c)
	}
	dave := getUser(t, ns, "dave")
	if c := meta.FindStatusCondition(dave.Status.Conditions, "Licensed"); c == nil || c.Reason != "SeatLimitReached" ||
		!strings.Contains(c.Message, "All 3 seats of profile designer are taken") {
		t.Errorf("dave Licensed = %+v", c)
	}
	var l iamv1alpha1.License
	if err := env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: "default"}, &l); err != nil {
		t.Fatal(err)
	}
	if c := meta.FindStatusCondition(l.Status.Conditions, "SeatsAvailable"); c == nil || c.Reason != "OverCommitted" {
		t.Errorf("license SeatsAvailable = %+v", c)
	}
	waitEvent(t, ns, "License", "default", "OverCommitted", "profile designer has 4 active users for 3 seats, 1 waits Pending")

	// The samples' directory and warehouse are .example hosts, which never
	// resolve: both report it, and so nothing of this test is still on its
	// way when the next one starts.
	eventually(t, "the samples' Directory and Connection report their servers unreachable", func() (bool, string) {
		var d iamv1alpha1.Directory
		if err := env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: "planetexpress"}, &d); err != nil {
			return false, err.Error()
		}
		synced := meta.FindStatusCondition(d.Status.Conditions, iamv1alpha1.ConditionSynced)
		if synced == nil || synced.Status != metav1.ConditionFalse || synced.Reason == iamv1alpha1.ReasonSecretNotFound {
			return false, fmt.Sprintf("directory Synced = %+v", synced)
		}
		var c iamv1alpha1.Connection
		if err := env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: "warehouse"}, &c); err != nil {
			return false, err.Error()
		}
		reach := meta.FindStatusCondition(c.Status.Conditions, iamv1alpha1.ConditionReachable)
		if reach == nil || reach.Status != metav1.ConditionFalse || c.Status.LastTestTime == nil {
			return false, fmt.Sprintf("warehouse Reachable = %+v", reach)
		}
		return true, ""
	})
}

// TestIdempotent: once converged, reconciling again writes nothing — neither
// a reconcile of every object nor a change of no consequence.
func TestIdempotent(t *testing.T) {
	ns := env.Namespace(t)
	create(t, license(ns, profile("p", 5)), group(ns, "g", "createProjects"),
		user(ns, "a", "p", "g"), user(ns, "b", "p"),
		share(ns, "s", "dataset/sales", to("Group", "g", "Editor"), to("User", "b", "Consumer")))
	consistent(t, ns)
	versions := func() map[string]string {
		snap := snapshot(t, ns)
		out := map[string]string{"license": snap.License.ResourceVersion}
		for _, u := range snap.Users {
			out["user/"+u.Name] = u.ResourceVersion
		}
		for _, s := range snap.Shares {
			out["share/"+s.Name] = s.ResourceVersion
		}
		for _, g := range snap.Groups {
			out["group/"+g.Name] = g.ResourceVersion
		}
		return out
	}
	before := versions()
	// The status applies into this namespace only: the other tests'
	// Directories and Connections go on writing on their own clocks.
	writes := quietWrites(t, ns)
	if writes["User"] == 0 || writes["Share"] == 0 {
		t.Fatalf("the status applies of this namespace were not counted (%v): the test could not see a write", writes)
	}

	// Reconcile every object once more, as a resync would.
	c := op.Manager.GetClient()
	reconcilers := map[string]reconcile.Reconciler{
		"user":    &userctrl.Reconciler{Client: c, Engine: op.Engine, Recorder: op.Manager.GetEventRecorder("gatehouse-user"), Audit: audit.Discard()},
		"group":   &groupctrl.Reconciler{Client: c, Engine: op.Engine},
		"license": &licensectrl.Reconciler{Client: c, Engine: op.Engine, Recorder: op.Manager.GetEventRecorder("gatehouse-license")},
		"share":   &sharectrl.Reconciler{Client: c, Engine: op.Engine},
	}
	for key := range before {
		kind, name, ok := strings.Cut(key, "/")
		if !ok {
			kind, name = key, "default"
		}
		req := reconcile.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: name}}
		if res, err := reconcilers[kind].Reconcile(ctx(t), req); err != nil || !res.IsZero() {
			t.Errorf("reconciling %s again = %+v, %v; want nothing to do", key, res, err)
		}
	}
	if after := op.StatusWrites(ns); !maps.Equal(after, writes) {
		t.Errorf("reconciling a converged namespace wrote statuses: writes by kind were %v, now %v", writes, after)
	}

	// Touch an object without changing its spec: an annotation bumps the
	// resourceVersion but not the generation.
	update(t, group(ns, "g"), func(g *iamv1alpha1.Group) { g.Annotations = map[string]string{"touched": "yes"} })
	before["group/g"] = getGroup(t, ns, "g").ResourceVersion
	if after := quietWrites(t, ns); !maps.Equal(after, writes) {
		t.Errorf("a change of no consequence wrote statuses: writes by kind were %v, now %v", writes, after)
	}
	if diff := versions(); !maps.Equal(before, diff) {
		t.Errorf("resourceVersions moved: before %v after %v", before, diff)
	}
}

// quietWrites waits until the manager has made no status apply in ns for
// 700 ms, and returns its applies there by kind.
func quietWrites(t *testing.T, ns string) map[string]int {
	t.Helper()
	last := op.StatusWrites(ns)
	for stable := time.Now(); time.Since(stable) < 700*time.Millisecond; {
		time.Sleep(100 * time.Millisecond)
		if w := op.StatusWrites(ns); !maps.Equal(w, last) {
			last, stable = w, time.Now()
		}
	}
	return last
}

func getGroup(t *testing.T, ns, name string) *iamv1alpha1.Group {
	t.Helper()
	var g iamv1alpha1.Group
	if err := env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: name}, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

// TestDataRobotSharing: the DataRobot sharing examples.
func TestDataRobotSharing(t *testing.T) {
	ns := env.Namespace(t)
	ro := profile("viewer", 5)
	ro.MaxRole = "Consumer"
	create(t, license(ns, profile("full", 10), ro), group(ns, "modelers"))
	org := user(ns, "olga", "full")
	org.Spec.Organization = "acme"
	create(t, org, user(ns, "vic", "viewer"), user(ns, "gary", "full", "modelers"), user(ns, "gina", "full", "modelers"))

	// Organization shared as Consumer and the user as Editor: Editor.
	create(t, share(ns, "org-and-user", "project/churn", to("Organization", "acme", "Consumer"), to("User", "olga", "Editor")))
	waitUser(t, ns, "olga", "Editor on project/churn", roleOn("project/churn", "Editor"))

	// A read-only profile shared as Editor stays Consumer, and says why.
	create(t, share(ns, "to-viewer", "dataset/sales", to("User", "vic", "Editor")))
	vic := waitUser(t, ns, "vic", "Consumer on dataset/sales", roleOn("dataset/sales", "Consumer"))
	if a := access1(vic, "dataset/sales"); a.CappedBy == nil || a.CappedBy.Profile != "viewer" {
		t.Errorf("vic's access is not marked capped by the viewer profile: %+v", a)
	}

	// A group Owner share makes every member Owner.
	create(t, share(ns, "group-owner", "deployment/churn-model", to("Group", "modelers", "Owner")))
	waitUser(t, ns, "gary", "Owner on deployment/churn-model", roleOn("deployment/churn-model", "Owner"))
	waitUser(t, ns, "gina", "Owner on deployment/churn-model", roleOn("deployment/churn-model", "Owner"))

	// To lower one member: remove the user from the group and share with
	// the user individually.
	update(t, share(ns, "group-owner", ""), func(s *iamv1alpha1.Share) {
		s.Spec.Grantees = append(s.Spec.Grantees, to("User", "gina", "Consumer"))
	})
	consistent(t, ns)
	update(t, user(ns, "gina", ""), func(u *iamv1alpha1.User) { u.Spec.Groups = nil })
	waitUser(t, ns, "gina", "Consumer on deployment/churn-model", roleOn("deployment/churn-model", "Consumer"))
	waitEvent(t, ns, "User", "gina", "PermissionsChanged", "lost Owner on deployment/churn-model (now Consumer)")
	consistent(t, ns)
}

// TestDSSPermissions: cumulative group permissions and per-project
// permissions with their implications.
func TestDSSPermissions(t *testing.T) {
	ns := env.Namespace(t)
	create(t, license(ns, profile("designer", 10)),
		group(ns, "analysts", "createProjects"), group(ns, "coders", "writeIsolatedCode"),
		user(ns, "ann", "designer", "analysts", "coders"))
	u := waitUser(t, ns, "ann", "globals of both groups", func(u *iamv1alpha1.User) bool { return len(u.Status.GlobalPermissions) > 0 })
	want := []iamv1alpha1.GlobalPermission{"createProjects", "createProjectsFromMacros", "createProjectsFromTemplates", "writeIsolatedCode"}
	if !slices.Equal(u.Status.GlobalPermissions, want) {
		t.Errorf("global permissions %v, want %v (cumulative, with implications)", u.Status.GlobalPermissions, want)
	}
	create(t, grant(ns, "write", "project/churn", []iamv1alpha1.Subject{{Kind: "Group", Name: "analysts"}}, "writeProjectContent"),
		grant(ns, "edit", "project/churn", []iamv1alpha1.Subject{{Kind: "User", Name: "ann"}}, "editPermissions"))
	u = waitUser(t, ns, "ann", "project permissions", func(u *iamv1alpha1.User) bool {
		a := access1(u, "project/churn")
		return a != nil && slices.Contains(a.Permissions, "editPermissions")
	})
	wantPerms := []iamv1alpha1.Permission{"editPermissions", "readDashboards", "readProjectContent", "runScenarios", "writeDashboards", "writeProjectContent"}
	got := slices.Clone(access1(u, "project/churn").Permissions)
	slices.Sort(got)
	if !slices.Equal(got, wantPerms) {
		t.Errorf("project permissions %v, want %v", got, wantPerms)
	}
	if a := access1(u, "project/churn"); a.Role != "" {
		t.Errorf("grants alone give no role, got %q", a.Role)
	}
	// Removing the user from a group removes what came through it only.
	update(t, user(ns, "ann", ""), func(u *iamv1alpha1.User) { u.Spec.Groups = []string{"coders"} })
	waitUser(t, ns, "ann", "only the direct grant", func(u *iamv1alpha1.User) bool {
		a := access1(u, "project/churn")
		return a != nil && !slices.Contains(a.Permissions, "writeProjectContent")
	})
	waitEvent(t, ns, "User", "ann", "PermissionsChanged", "lost readProjectContent, runScenarios, writeDashboards, writeProjectContent on project/churn")
	recs := auditRecords(ns)
	found := false
	for _, r := range recs {
		if r["user"] == "ann" && strings.Contains(fmt.Sprint(r["cause"]), "User ann changed") && r["removed"] != nil {
			found = true
		}
	}
	if !found {
		t.Errorf("no audit record of ann's loss with its cause; records: %v", recs)
	}
	consistent(t, ns)
}

// TestSeats: order of creation, pending users, deactivation frees a seat,
// a shrink takes the newest users' seats with Events, expiry takes all.
func TestSeats(t *testing.T) {
	ns := env.Namespace(t)
	create(t, license(ns, profile("designer", 2)), user(ns, "first", "designer"))
	time.Sleep(1100 * time.Millisecond) // creation timestamps have seconds
	create(t, user(ns, "second", "designer"))
	time.Sleep(1100 * time.Millisecond)
	create(t, user(ns, "third", "designer"))
	waitUser(t, ns, "third", "Pending", seat("Pending"))
	waitUser(t, ns, "second", "Granted", seat("Granted"))

	// Deactivating the first gives the third its seat.
	update(t, user(ns, "first", ""), func(u *iamv1alpha1.User) { u.Spec.Active = ptr.To(false) })
	waitUser(t, ns, "first", "None", seat("None"))
	waitUser(t, ns, "third", "Granted", seat("Granted"))
	waitEvent(t, ns, "User", "third", "SeatGranted", "third holds a seat of profile designer")

	// Re-activating the first: it is the oldest, so the newest loses.
	update(t, user(ns, "first", ""), func(u *iamv1alpha1.User) { u.Spec.Active = ptr.To(true) })
	waitUser(t, ns, "third", "Pending", seat("Pending"))
	waitUser(t, ns, "first", "Granted", seat("Granted"))

	// Shrink to one seat: second loses it, with a Warning Event.
	update(t, license(ns), func(l *iamv1alpha1.License) { l.Spec.Profiles[0].Seats = 1 })
	waitUser(t, ns, "second", "Pending", seat("Pending"))
	waitEvent(t, ns, "User", "second", "SeatLost", "The 1 seat of profile designer is taken")
	consistent(t, ns)

	// Inactive: nothing at all.
	frank := user(ns, "frank", "designer", "g")
	frank.Spec.Active = ptr.To(false)
	create(t, group(ns, "g", "createProjects"), frank, share(ns, "s", "dataset/sales", to("User", "frank", "Owner")))
	f := waitUser(t, ns, "frank", "computed", func(u *iamv1alpha1.User) bool { return u.Status.ObservedGeneration > 0 })
	if f.Status.Seat != "None" || len(f.Status.Resources) != 0 || len(f.Status.GlobalPermissions) != 0 {
		t.Errorf("an inactive user has %+v", f.Status)
	}

	// Expiry: every user loses the seat at expiresAt, without any write.
	at := metav1.NewTime(time.Now().Add(3 * time.Second).Truncate(time.Second))
	update(t, license(ns), func(l *iamv1alpha1.License) { l.Spec.ExpiresAt = &at })
	waitUser(t, ns, "first", "LicenseExpired", func(u *iamv1alpha1.User) bool {
		c := meta.FindStatusCondition(u.Status.Conditions, "Licensed")
		return u.Status.Seat == "None" && c != nil && c.Reason == "LicenseExpired"
	})
	if time.Now().Before(at.Time) {
		t.Errorf("seats were taken before expiresAt %v", at)
	}
	eventually(t, "License Ready=False LicenseExpired", func() (bool, string) {
		var l iamv1alpha1.License
		_ = env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: "default"}, &l)
		c := meta.FindStatusCondition(l.Status.Conditions, "Ready")
		return c != nil && c.Reason == "LicenseExpired", fmt.Sprintf("%+v", c)
	})
}

// TestDeletions: deleting a Group, Share, ResourceGrant or the License
// recomputes the users they reached.
func TestDeletions(t *testing.T) {
	ns := env.Namespace(t)
	create(t, license(ns, profile("p", 5)), group(ns, "g", "createProjects"), user(ns, "u", "p", "g"),
		share(ns, "s", "dataset/sales", to("Group", "g", "Editor")),
		grant(ns, "rg", "project/churn", []iamv1alpha1.Subject{{Kind: "Group", Name: "g"}}, "readProjectContent"))
	waitUser(t, ns, "u", "both", func(u *iamv1alpha1.User) bool {
		return access1(u, "dataset/sales") != nil && access1(u, "project/churn") != nil
	})
	if err := env.Client.Delete(ctx(t), group(ns, "g")); err != nil {
		t.Fatal(err)
	}
	u := waitUser(t, ns, "u", "nothing from the group", func(u *iamv1alpha1.User) bool {
		return len(u.Status.Resources) == 0 && len(u.Status.GlobalPermissions) == 0
	})
	if c := meta.FindStatusCondition(u.Status.Conditions, "Ready"); c == nil || c.Reason != "UnknownGroup" || !strings.Contains(c.Message, "g") {
		t.Errorf("a user of a deleted group: Ready %+v", c)
	}
	eventually(t, "the share reports the missing group", func() (bool, string) {
		var s iamv1alpha1.Share
		_ = env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: "s"}, &s)
		c := meta.FindStatusCondition(s.Status.Conditions, "Ready")
		return c != nil && c.Reason == "UnknownGrantee" && strings.Contains(c.Message, `Group "g" does not exist`), fmt.Sprintf("%+v", c)
	})
	create(t, group(ns, "g"))
	waitUser(t, ns, "u", "back", func(u *iamv1alpha1.User) bool { return access1(u, "dataset/sales") != nil })
	if err := env.Client.Delete(ctx(t), share(ns, "s", "")); err != nil {
		t.Fatal(err)
	}
	waitUser(t, ns, "u", "share gone", func(u *iamv1alpha1.User) bool { return access1(u, "dataset/sales") == nil })
	if err := env.Client.Delete(ctx(t), license(ns)); err != nil {
		t.Fatal(err)
	}
	u = waitUser(t, ns, "u", "no licence", seat("None"))
	if c := meta.FindStatusCondition(u.Status.Conditions, "Licensed"); c == nil || c.Reason != "NoLicense" {
		t.Errorf("Licensed = %+v", c)
	}
	consistent(t, ns)
}

// TestInvalidReferences: Ready=False names the unknown permission, role or
// grantee and lists the valid ones.
func TestInvalidReferences(t *testing.T) {
	ns := env.Namespace(t)
	g := group(ns, "ldap")
	g.Spec.LDAPGroups = []string{"cn=nobody,ou=groups,dc=acme"}
	create(t, license(ns, profile("p", 5)), user(ns, "u", "p"), g,
		share(ns, "env", "environment/py", to("User", "zoe", "Owner"), to("User", "u", "Consumer")),
		grant(ns, "typo", "dataset/sales", []iamv1alpha1.Subject{{Kind: "User", Name: "u"}}, "download"))
	for _, tc := range []struct {
		obj    client.Object
		reason string
		text   string
	}{
		{&iamv1alpha1.Share{}, "UnknownGrantee", `User "zoe" does not exist in this namespace: create it or remove it from the list.`},
		{&iamv1alpha1.ResourceGrant{}, "UnknownPermission", `unknown permission "download" for dataset: valid are viewMetadata`},
	} {
		name := map[bool]string{true: "env", false: "typo"}[tc.reason == "UnknownGrantee"]
		eventually(t, name+" Ready=False "+tc.reason, func() (bool, string) {
			_ = env.Client.Get(ctx(t), client.ObjectKey{Namespace: ns, Name: name}, tc.obj)
			var conds []metav1.Condition
			switch o := tc.obj.(type) {
			case *iamv1alpha1.Share:
				conds = o.Status.Conditions
			case *iamv1alpha1.ResourceGrant:
				conds = o.Status.Conditions
			}
			c := meta.FindStatusCondition(conds, "Ready")
			return c != nil && c.Status == metav1.ConditionFalse && c.Reason == tc.reason && strings.Contains(c.Message, tc.text), fmt.Sprintf("%+v", c)
		})
	}
	eventually(t, "the group reports its unmatched directory group", func() (bool, string) {
		g := getGroup(t, ns, "ldap")
		c := meta.FindStatusCondition(g.Status.Conditions, "DirectoryGroupsMatched")
		r := meta.FindStatusCondition(g.Status.Conditions, "Ready")
		return c != nil && c.Reason == "NoMatchingUsers" && strings.Contains(c.Message, "cn=nobody,ou=groups,dc=acme") &&
			r != nil && r.Status == metav1.ConditionTrue, fmt.Sprintf("%+v", g.Status.Conditions)
	})
	// A user of that directory group makes it match; the condition turns.
	update(t, user(ns, "u", ""), func(u *iamv1alpha1.User) { u.Spec.DirectoryGroups = []string{"CN=Nobody,OU=Groups,DC=acme"} })
	eventually(t, "the directory group matches", func() (bool, string) {
		g := getGroup(t, ns, "ldap")
		c := meta.FindStatusCondition(g.Status.Conditions, "DirectoryGroupsMatched")
		return c != nil && c.Status == metav1.ConditionTrue && g.Status.Members == 1, fmt.Sprintf("%+v", g.Status)
	})
}

// TestOnlyAffectedUsersReconcile: a change to one group reconciles its
// members and nobody else.
func TestOnlyAffectedUsersReconcile(t *testing.T) {
	ns := env.Namespace(t)
	create(t, license(ns, profile("p", 20)), group(ns, "in"), group(ns, "out"))
	for i := range 3 {
		create(t, user(ns, fmt.Sprintf("member%d", i), "p", "in"))
	}
	for i := range 6 {
		create(t, user(ns, fmt.Sprintf("outsider%d", i), "p", "out"))
	}
	consistent(t, ns)
	before := snapshot(t, ns)
	enq := quiet(t, "gatehouse_engine_enqueued_total", map[string]string{"kind": "User"})
	update(t, group(ns, "in"), func(g *iamv1alpha1.Group) {
		g.Spec.GlobalPermissions = []iamv1alpha1.GlobalPermission{"createWorkspaces"}
	})
	for i := range 3 {
		waitUser(t, ns, fmt.Sprintf("member%d", i), "createWorkspaces", func(u *iamv1alpha1.User) bool {
			return slices.Contains(u.Status.GlobalPermissions, "createWorkspaces")
		})
	}
	after := quiet(t, "gatehouse_engine_enqueued_total", map[string]string{"kind": "User"})
	if got := after - enq; got != 3 {
		t.Errorf("a change to a group of 3 enqueued %v user reconciles", got)
	}
	now := snapshot(t, ns)
	for i, u := range before.Users {
		if strings.HasPrefix(u.Name, "outsider") && now.Users[i].ResourceVersion != u.ResourceVersion {
			t.Errorf("%s was written", u.Name)
		}
	}
}

// TestConcurrentEdits: many concurrent edits converge to what a fresh
// Compute of the final objects gives.
func TestConcurrentEdits(t *testing.T) {
	ns := env.Namespace(t)
	create(t, license(ns, profile("p", 8), profile("q", 4)))
	groups := []string{"g0", "g1", "g2", "g3"}
	for i, g := range groups {
		create(t, group(ns, g, []iamv1alpha1.GlobalPermission{"createProjects", "createWorkspaces", "writeIsolatedCode", "createCodeEnvs"}[i]))
	}
	for i := range 12 {
		create(t, user(ns, fmt.Sprintf("u%d", i), []string{"p", "q"}[i%2], groups[i%4]))
	}
	for i := range 4 {
		create(t, share(ns, fmt.Sprintf("s%d", i), fmt.Sprintf("dataset/d%d", i), to("Group", groups[i], "Consumer")))
	}
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for range 25 {
				switch r.IntN(4) {
				case 0:
					n := fmt.Sprintf("u%d", r.IntN(12))
					update(t, user(ns, n, ""), func(u *iamv1alpha1.User) {
						u.Spec.Groups = []string{groups[r.IntN(4)], groups[r.IntN(4)]}
						slices.Sort(u.Spec.Groups)
						u.Spec.Groups = slices.Compact(u.Spec.Groups)
					})
				case 1:
					n := fmt.Sprintf("u%d", r.IntN(12))
					update(t, user(ns, n, ""), func(u *iamv1alpha1.User) { u.Spec.Active = ptr.To(r.IntN(3) > 0) })
				case 2:
					n := fmt.Sprintf("s%d", r.IntN(4))
					update(t, share(ns, n, ""), func(s *iamv1alpha1.Share) {
						s.Spec.Grantees = []iamv1alpha1.Grantee{to("Group", groups[r.IntN(4)], []iamv1alpha1.Role{"Consumer", "Editor", "Owner"}[r.IntN(3)]),
							to("User", fmt.Sprintf("u%d", r.IntN(12)), "Owner")}
						if s.Spec.Grantees[1].Name == "" {
							s.Spec.Grantees = s.Spec.Grantees[:1]
						}
					})
				case 3:
					update(t, license(ns), func(l *iamv1alpha1.License) { l.Spec.Profiles[r.IntN(2)].Seats = int32(r.IntN(8)) })
				}
			}
		}()
	}
	wg.Wait()
	consistent(t, ns)
}

// TestSeatsNeverOvercommitted: 50 users created in parallel into a profile
// of 10 seats; at no moment do more than 10 statuses say Granted. A watch
// sees every status written, in order.
func TestSeatsNeverOvercommitted(t *testing.T) {
	ns := env.Namespace(t)
	create(t, license(ns, profile("p", 10)))
	wc, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	w, err := wc.Watch(ctx(t), &iamv1alpha1.UserList{}, client.InNamespace(ns))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	most := make(chan int, 1)
	go func() {
		seats := map[string]iamv1alpha1.SeatState{}
		top := 0
		for ev := range w.ResultChan() {
			u, ok := ev.Object.(*iamv1alpha1.User)
			if !ok {
				continue
			}
			seats[u.Name] = u.Status.Seat
			n := 0
			for _, s := range seats {
				if s == "Granted" {
					n++
				}
			}
			top = max(top, n)
		}
		most <- top
	}()
	var wg sync.WaitGroup
	for w := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				// Mostly in descending name order: within one second of
				// creation a later user ranks first and takes a seat from
				// one that holds it.
				create(t, user(ns, fmt.Sprintf("u%02d", 49-(i*10+w)), "p"))
			}
		}()
	}
	wg.Wait()
	consistent(t, ns)
	// Swaps: deactivating the oldest user gives the eleventh its seat;
	// re-activating takes it back. The two statuses are written by two
	// reconciles running at once; the grant must wait for the revocation.
	snap := snapshot(t, ns)
	sortBySeatOrder(snap.Users)
	oldest, eleventh := snap.Users[0].Name, snap.Users[10].Name
	for range 10 {
		update(t, user(ns, oldest, ""), func(u *iamv1alpha1.User) { u.Spec.Active = ptr.To(false) })
		waitUser(t, ns, eleventh, "Granted", seat("Granted"))
		update(t, user(ns, oldest, ""), func(u *iamv1alpha1.User) { u.Spec.Active = nil })
		waitUser(t, ns, oldest, "Granted", seat("Granted"))
		waitUser(t, ns, eleventh, "Pending", seat("Pending"))
	}
	w.Stop()
	n := <-most
	t.Logf("at most %d statuses said Granted at once", n)
	if n > 10 {
		t.Errorf("%d statuses said Granted at once for 10 seats", n)
	}
	snap = snapshot(t, ns)
	sortBySeatOrder(snap.Users)
	for i, u := range snap.Users {
		if want := map[bool]iamv1alpha1.SeatState{true: "Granted", false: "Pending"}[i < 10]; u.Status.Seat != want {
			t.Errorf("user %s (#%d by creation) is %s, want %s", u.Name, i, u.Status.Seat, want)
		}
	}
}

// sortBySeatOrder sorts users as seats are given: creation, then name.
func sortBySeatOrder(users []iamv1alpha1.User) {
	slices.SortFunc(users, func(a, b iamv1alpha1.User) int {
		if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}
