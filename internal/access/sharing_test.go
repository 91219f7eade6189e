package access

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

func sharing(g iamv1alpha1.Grantee) iamv1alpha1.Grantee { g.AllowSharing = true; return g }

// sharingWorld: dataset/sales shared by Owner bob with alice (Editor,
// allowSharing), carl (Consumer, allowSharing), dan (Editor) and rita
// (Owner, but a reader); dataset/orphanish has Owner pat, who waits for a
// seat, and alice as its only seated sharer.
func sharingWorld() Snapshot {
	eve := user("eve", "full")
	f := false
	eve.Spec.Active = &f
	l := license()
	l.Spec.Profiles[2].Seats = 0 // editor profile: nobody gets a seat
	pat := user("pat", "editor")
	return Snapshot{Now: genEpoch, License: l,
		Users: []iamv1alpha1.User{user("alice", "full"), user("bob", "full"), user("carl", "full"), user("dan", "full"),
			user("frank", "full", "data"), user("rita", "reader"), user("pm", "full"), user("ops", "full"), eve, pat},
		Groups:      []iamv1alpha1.Group{group("data")},
		Connections: []iamv1alpha1.Connection{conn("pg", "All")},
		Shares: []iamv1alpha1.Share{
			share("sales", "dataset/sales", to("User", "bob", "Owner"), sharing(to("User", "alice", "Editor")),
				sharing(to("User", "carl", "Consumer")), to("User", "dan", "Editor"), to("User", "rita", "Owner")),
			share("orphanish", "dataset/orphanish", to("User", "pat", "Owner"), sharing(to("User", "alice", "Editor"))),
			share("legacy", "dataset/legacy", to("User", "bob", "Owner"), to("User", "eve", "Consumer")),
			share("dep", "deployment/d", to("User", "bob", "Owner"), to("User", "dan", "Editor"), to("User", "carl", "Consumer")),
			share("mp", "modelPackage/m", to("User", "bob", "Owner"), to("User", "dan", "Editor"), to("User", "carl", "Consumer")),
			share("cm", "customModel/c", to("User", "bob", "Owner"), to("User", "dan", "Editor"), to("User", "carl", "Consumer")),
		},
		ResourceGrants: []iamv1alpha1.ResourceGrant{
			grant("pm", "project/churn", []iamv1alpha1.Subject{{Kind: "User", Name: "pm"}}, "editPermissions", "writeProjectContent"),
			grant("readers", "project/churn", []iamv1alpha1.Subject{{Kind: "Group", Name: "data"}}, "readProjectContent"),
			grant("admins", "project/churn", []iamv1alpha1.Subject{{Kind: "User", Name: "dan"}}, "admin"),
			grant("gpu-ops", "codeEnv/gpu", []iamv1alpha1.Subject{{Kind: "User", Name: "ops"}}, "manageUsers"),
		},
	}
}

func findShare(s Snapshot, name string) *iamv1alpha1.Share {
	for i := range s.Shares {
		if s.Shares[i].Name == name {
			return s.Shares[i].DeepCopy()
		}
	}
	return nil
}

func findGrant(s Snapshot, name string) *iamv1alpha1.ResourceGrant {
	for i := range s.ResourceGrants {
		if s.ResourceGrants[i].Name == name {
			return s.ResourceGrants[i].DeepCopy()
		}
	}
	return nil
}

func withGrantees(s *iamv1alpha1.Share, gs ...iamv1alpha1.Grantee) *iamv1alpha1.Share {
	c := s.DeepCopy()
	c.Spec.Grantees = gs
	return c
}

func TestCheckShare(t *testing.T) {
	w := sharingWorld()
	ix := NewIndex(w)
	sales := findShare(w, "sales")
	orph := findShare(w, "orphanish")
	legacy, dep, mp, cm := findShare(w, "legacy"), findShare(w, "dep"), findShare(w, "mp"), findShare(w, "cm")
	g := sales.Spec.Grantees
	add := func(extra ...iamv1alpha1.Grantee) *iamv1alpha1.Share {
		return withGrantees(sales, append(append([]iamv1alpha1.Grantee(nil), g...), extra...)...)
	}
	without := func(i int) *iamv1alpha1.Share {
		return withGrantees(sales, append(append([]iamv1alpha1.Grantee(nil), g[:i]...), g[i+1:]...)...)
	}
	replace := func(i int, n iamv1alpha1.Grantee) *iamv1alpha1.Share {
		c := withGrantees(sales, append([]iamv1alpha1.Grantee(nil), g...)...)
		c.Spec.Grantees[i] = n
		return c
	}
	newShare := func(res string, gs ...iamv1alpha1.Grantee) *iamv1alpha1.Share {
		s := share("new", res, gs...)
		return &s
	}
	tests := map[string]struct {
		before, after *iamv1alpha1.Share
		req           Requester
		wantRule      int    // -1: allowed
		wantMsg       string // substring
	}{
		"Editor with allowSharing shares as Editor":    {sales, add(to("User", "frank", "Editor")), Requester{User: "alice"}, -1, ""},
		"Editor cannot grant Owner":                    {sales, add(to("User", "frank", "Owner")), Requester{User: "alice"}, 2, "alice is Editor on dataset/sales and cannot grant Owner to User frank (rule 2: share only up to your own role); grant Editor at most, or ask an Owner (bob, rita) for a higher role."},
		"Consumer cannot grant Editor":                 {sales, add(to("Group", "data", "Editor")), Requester{User: "carl"}, 2, "carl is Consumer on dataset/sales and cannot grant Editor"},
		"Consumer without data cannot grant data":      {sales, add(withData(to("User", "frank", "Consumer"))), Requester{User: "carl"}, 2, "carl cannot grant Consumer with canUseData to User frank on dataset/sales: it does not hold downloadDataSample"},
		"no allowSharing, no sharing":                  {sales, add(to("User", "frank", "Consumer")), Requester{User: "dan"}, 2, "dan is Editor on dataset/sales and cannot change who it is shared with: that needs Owner or allowSharing (rule 2"},
		"profile-capped Owner shares only as Consumer": {sales, add(to("User", "frank", "Editor")), Requester{User: "rita"}, 2, "rita is Consumer on dataset/sales and cannot grant Editor"},
		"capped Owner may share as Consumer":           {sales, add(to("User", "frank", "Consumer")), Requester{User: "rita"}, -1, ""},
		"a stranger cannot share":                      {sales, add(to("User", "frank", "Consumer")), Requester{User: "frank"}, 2, "frank has no role on dataset/sales and cannot change who it is shared with: that needs Owner or allowSharing"},
		"inactive users cannot be shared with":         {sales, add(to("User", "eve", "Consumer")), Requester{User: "bob"}, 1, "User eve is inactive, so dataset/sales cannot be shared with it (rule 1"},
		"unknown groups cannot be shared with":         {sales, add(to("Group", "ghosts", "Consumer")), Requester{User: "bob"}, 1, "Group ghosts does not exist"},
		"unknown organizations cannot be shared with":  {sales, add(to("Organization", "initech", "Consumer")), Requester{User: "bob"}, 1, "No active user belongs to organization initech"},
		"cannot remove a collaborator above oneself":   {sales, without(0), Requester{User: "alice"}, 3, "User bob is Owner on dataset/sales, above alice's Editor, so alice cannot remove it (rule 3"},
		"cannot downgrade a collaborator above":        {sales, replace(0, to("User", "bob", "Editor")), Requester{User: "alice"}, 3, "cannot downgrade it"},
		"may downgrade a collaborator below":           {sales, replace(2, to("User", "carl", "Consumer")), Requester{User: "alice"}, -1, ""},
		"anyone may leave":                             {sales, without(3), Requester{User: "dan"}, -1, ""},
		"the last Owner cannot leave": {sales, withGrantees(sales, g[1], g[2], g[3]), Requester{User: "bob"}, 4,
			"dataset/sales would be left without an Owner (rule 4: every shared resource keeps at least one Owner); make another active user Owner first"},
		"the Owner leaves after making another Owner": {sales, withGrantees(sales, to("User", "alice", "Owner"), g[2], g[3]), Requester{User: "bob"}, -1, ""},
		"deleting the share leaves no Owner":          {sales, nil, Requester{User: "bob"}, 4, "without an Owner"},
		"the last seated sharer cannot stop sharing": {orph, withGrantees(orph, orph.Spec.Grantees[0], to("User", "alice", "Editor")), Requester{User: "alice"}, 5,
			"dataset/orphanish would be left with nobody who can share it (rule 5"},
		"creating a new resource names oneself Owner": {nil, newShare("dataset/fresh", to("User", "alice", "Owner"), to("User", "dan", "Editor")), Requester{User: "alice"}, -1, ""},
		"creating a new resource without oneself":     {nil, newShare("dataset/fresh", to("User", "dan", "Owner")), Requester{User: "alice"}, 4, "add yourself (User alice) as Owner"},
		"a known connection cannot be claimed":        {nil, newShare("connection/pg", to("User", "alice", "Owner")), Requester{User: "alice"}, 2, "alice has no role on connection/pg and cannot change who it is shared with: that needs Owner or allowSharing"},
		"an environment has no Editor":                {nil, newShare("environment/py", to("User", "alice", "Editor")), Requester{User: "alice"}, 0, "environment has no Editor role: use Consumer or Owner"},
		"administrators are exempt":                   {sales, nil, Requester{Admin: true}, -1, ""},

		// Rule 1 for every grantee added or raised; seats.
		"a Pending user cannot be shared with": {sales, add(to("User", "pat", "Consumer")), Requester{User: "bob"}, 1, "User pat holds no seat (it waits Pending for one)"},
		"an inactive grantee already listed cannot be raised": {legacy, withGrantees(legacy, legacy.Spec.Grantees[0], to("User", "eve", "Editor")), Requester{User: "bob"}, 1,
			"User eve is inactive, so dataset/legacy cannot be shared with it (rule 1"},
		"an inactive grantee already listed may stay": {legacy, withGrantees(legacy, legacy.Spec.Grantees[0], to("User", "eve", "Consumer"), to("User", "dan", "Consumer")), Requester{User: "bob"}, -1, ""},
		"a Pending Owner has no sharing rights":       {orph, withGrantees(orph, append(orph.Spec.Grantees, to("User", "dan", "Consumer"))...), Requester{User: "pat"}, 2, "pat holds no seat (it is inactive, or waits Pending for one), so it has no sharing rights"},

		// Rule 2 per type: the sharing permission the status lists.
		"deployment: an Editor holds addUser":                {dep, withGrantees(dep, append(dep.Spec.Grantees, to("User", "frank", "Editor"))...), Requester{User: "dan"}, -1, ""},
		"deployment: an Editor changes levels up to its own": {dep, withGrantees(dep, dep.Spec.Grantees[0], dep.Spec.Grantees[1], to("User", "carl", "Editor")), Requester{User: "dan"}, -1, ""},
		"deployment: an Editor cannot grant Owner":           {dep, withGrantees(dep, append(dep.Spec.Grantees, to("User", "frank", "Owner"))...), Requester{User: "dan"}, 2, "dan is Editor on deployment/d and cannot grant Owner"},
		"deployment: a Consumer holds no addUser":            {dep, withGrantees(dep, append(dep.Spec.Grantees, to("User", "frank", "Consumer"))...), Requester{User: "carl"}, 2, "carl is Consumer on deployment/d and cannot change who it is shared with: that needs addUser on it"},
		"deployment: a Consumer holds no removeUsers":        {dep, withGrantees(dep, dep.Spec.Grantees[0], dep.Spec.Grantees[2]), Requester{User: "carl"}, 2, "that needs removeUsers on it"},
		"modelPackage: a Consumer holds share":               {mp, withGrantees(mp, append(mp.Spec.Grantees, to("User", "frank", "Consumer"))...), Requester{User: "carl"}, -1, ""},
		"customModel: only Owners share":                     {cm, withGrantees(cm, append(cm.Spec.Grantees, to("User", "frank", "Consumer"))...), Requester{User: "dan"}, 2, "only Owners share a customModel"},
		"customModel: the Owner shares":                      {cm, withGrantees(cm, append(cm.Spec.Grantees, to("User", "frank", "Editor"))...), Requester{User: "bob"}, -1, ""},
		"project: createProjects is needed to create one":    {nil, newShare("project/fresh", to("User", "alice", "Owner")), Requester{User: "alice"}, 4, "creating a project needs the global permission createProjects"},
		"a reader cannot create a resource":                  {nil, newShare("dataset/mine", to("User", "rita", "Owner"), to("User", "dan", "Owner")), Requester{User: "rita"}, 4, "rita's profile allows at most Consumer"},
		"a first Share cannot pass for another (case)":       {nil, newShare("dataset/Sales", to("User", "alice", "Owner")), Requester{User: "alice"}, 4, "it reads as dataset/sales, which exists"},
		"a first Share cannot pass for another (width)":      {nil, newShare("dataset/ｓａｌｅｓ", to("User", "alice", "Owner")), Requester{User: "alice"}, 4, "it reads as dataset/sales"},
		"a first Share of a connection needs the Connection": {nil, newShare("connection/lake", to("User", "alice", "Owner")), Requester{User: "alice"}, 4, "There is no Connection lake"},
		"an unknown requester is told to ask an admin":       {sales, add(to("User", "frank", "Consumer")), Requester{User: "mallory"}, 2, "mallory is not a User of this namespace"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v := CheckShare(ix, tc.before, tc.after, tc.req)
			switch {
			case tc.wantRule < 0 && v != nil:
				t.Fatalf("rejected: rule %d: %s", v.Rule, v.Message)
			case tc.wantRule >= 0 && v == nil:
				t.Fatalf("allowed, want rule %d", tc.wantRule)
			case v != nil && (v.Rule != tc.wantRule || !strings.Contains(v.Message, tc.wantMsg)):
				t.Fatalf("got rule %d %q\nwant rule %d containing %q", v.Rule, v.Message, tc.wantRule, tc.wantMsg)
			}
		})
	}
}

func TestCheckGrant(t *testing.T) {
	w := sharingWorld()
	ix := NewIndex(w)
	readers := findGrant(w, "readers")
	admins := findGrant(w, "admins")
	with := func(g *iamv1alpha1.ResourceGrant, perms ...string) *iamv1alpha1.ResourceGrant {
		c := g.DeepCopy()
		c.Spec.Permissions = p(perms...)
		return c
	}
	withSubject := func(g *iamv1alpha1.ResourceGrant, kind iamv1alpha1.SubjectKind, name string) *iamv1alpha1.ResourceGrant {
		c := g.DeepCopy()
		c.Spec.Subjects = append(c.Spec.Subjects, iamv1alpha1.Subject{Kind: kind, Name: name})
		return c
	}
	gpu := grant("gpu-users", "codeEnv/gpu", []iamv1alpha1.Subject{{Kind: "Group", Name: "data"}}, "use")
	tests := map[string]struct {
		before, after *iamv1alpha1.ResourceGrant
		req           Requester
		wantRule      int
		wantMsg       string
	}{
		"editPermissions holder grants what it holds":  {readers, with(readers, "writeProjectContent"), Requester{User: "pm"}, -1, ""},
		"editPermissions holder cannot grant beyond":   {readers, with(readers, "deleteProject"), Requester{User: "pm"}, 2, "pm cannot grant deleteProject on project/churn to Group data: you may grant only permissions you hold yourself"},
		"cannot remove a permission one does not hold": {admins, nil, Requester{User: "pm"}, 3, "pm cannot remove admin, "},
		"no management permission, no change":          {readers, with(readers, "readDashboards"), Requester{User: "frank"}, 2, "frank cannot change the permissions on project/churn: that needs Owner or editPermissions on it, or admin"},
		"manageUsers alone cannot grant use it lacks":  {nil, &gpu, Requester{User: "ops"}, 2, "ops cannot grant use on codeEnv/gpu"},
		"only known subjects":                          {readers, withSubject(readers, "User", "eve"), Requester{User: "pm"}, 1, "User eve is inactive"},
		"unknown permissions are invalid":              {readers, with(readers, "read"), Requester{User: "pm"}, 0, `unknown permission "read" for project`},
		"a project admin (grant) may grant everything": {readers, with(readers, "deleteProject", "unlockHoldout"), Requester{User: "dan"}, -1, ""},
		"administrators are exempt":                    {admins, nil, Requester{Admin: true}, -1, ""},
		"types without management need Owner": {nil, func() *iamv1alpha1.ResourceGrant {
			g := grant("x", "dataset/sales", []iamv1alpha1.Subject{{Kind: "User", Name: "frank"}}, "viewMetadata")
			return &g
		}(), Requester{User: "alice"}, 2, "that needs Owner on it, or admin"},
		"an Owner grants on its dataset within its rights": {nil, func() *iamv1alpha1.ResourceGrant {
			g := grant("x", "dataset/sales", []iamv1alpha1.Subject{{Kind: "User", Name: "frank"}}, "delete")
			return &g
		}(), Requester{User: "bob"}, -1, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v := CheckGrant(ix, tc.before, tc.after, tc.req)
			switch {
			case tc.wantRule < 0 && v != nil:
				t.Fatalf("rejected: rule %d: %s", v.Rule, v.Message)
			case tc.wantRule >= 0 && v == nil:
				t.Fatalf("allowed, want rule %d", tc.wantRule)
			case v != nil && (v.Rule != tc.wantRule || !strings.Contains(v.Message, tc.wantMsg)):
				t.Fatalf("got rule %d %q\nwant rule %d containing %q", v.Rule, v.Message, tc.wantRule, tc.wantMsg)
			}
		})
	}
}

// FuzzShareEscalation: whatever a Share or ResourceGrant change that
// CheckShare or CheckGrant accepts gives any user on the resource, the
// requester held itself before the change (as RBAC's escalation check). The
// first Share of a resource the namespace did not know is a creation and is
// left out: its creator becomes Owner. An administrator holds every
// permission, also on a resource its change makes known.
func FuzzShareEscalation(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &byteSource{b: data}
		snap := genSnapshot(src)
		ix := NewIndex(snap)
		before := Compute(snap)
		for step := 0; step < 8 && !src.done(); step++ {
			req := pick(src, genUsers)
			next := snap
			var ref iamv1alpha1.ResourceRef
			var v *Violation
			creating := false
			if src.bool() {
				i := src.intn(len(snap.Shares) + 1)
				next.Shares = append([]iamv1alpha1.Share(nil), snap.Shares...)
				var old *iamv1alpha1.Share
				sh := genShare(src, fmt.Sprintf("share-%d", i))
				if i < len(snap.Shares) {
					old = &snap.Shares[i]
					sh = *mutateShare(src, old)
					if users := userGrantees(old); len(users) > 0 && src.bool() {
						req = pick(src, users)
					}
					next.Shares[i] = sh
				} else {
					next.Shares = append(next.Shares, sh)
				}
				ref = sh.Spec.Resource
				creating = old == nil && !known(ix, ref)
				v = CheckShare(ix, old, &sh, Requester{User: req})
			} else {
				i := src.intn(len(snap.ResourceGrants) + 1)
				next.ResourceGrants = append([]iamv1alpha1.ResourceGrant(nil), snap.ResourceGrants...)
				var old *iamv1alpha1.ResourceGrant
				g := genGrant(src, fmt.Sprintf("grant-%d", i))
				if i < len(snap.ResourceGrants) {
					old = &snap.ResourceGrants[i]
					g = *old.DeepCopy()
					perms, _ := PermissionsOf(g.Spec.Resource.Type)
					if src.bool() && len(g.Spec.Permissions) > 1 {
						g.Spec.Permissions = g.Spec.Permissions[1:]
					} else if len(perms) > 0 {
						g.Spec.Permissions = append(g.Spec.Permissions, pick(src, perms))
					}
					next.ResourceGrants[i] = g
				} else {
					next.ResourceGrants = append(next.ResourceGrants, g)
				}
				ref = g.Spec.Resource
				v = CheckGrant(ix, old, &g, Requester{User: req})
			}
			if v != nil || creating || !ValidType(ref.Type) {
				continue
			}
			after := Compute(next)
			escalationChecked++
			var mine PermissionSet
			if r := before.Users[req]; r != nil && len(r.GlobalPermissions) > 0 && r.GlobalPermissions[0] == iamv1alpha1.GlobalAdmin {
				mine = typeInfos[typeByName[ref.Type]].all // an administrator holds everything
			} else if r != nil {
				if ra := r.Find(ref); ra != nil {
					mine = permsOf(t, *ra)
				}
			}
			for name, ua := range after.Users {
				ra := ua.Find(ref)
				if ra == nil {
					continue
				}
				var had PermissionSet
				if rb := before.Users[name].Find(ref); rb != nil {
					had = permsOf(t, *rb)
				}
				if gained := permsOf(t, *ra) &^ had &^ mine; gained != 0 {
					t.Fatalf("step %d: a change on %s accepted for %s (who holds %v) gives %s %v", step, ref, req, Names(ref.Type, mine), name, Names(ref.Type, gained))
				}
			}
			snap, before, ix = next, after, NewIndex(next)
		}
	})
}

// mutateShare returns a copy of a share with one grantee added, removed or
// changed.
func mutateShare(src *byteSource, old *iamv1alpha1.Share) *iamv1alpha1.Share {
	sh := old.DeepCopy()
	gs := sh.Spec.Grantees
	switch src.intn(3) {
	case 0:
		g := genGrantee(src)
		for _, o := range gs {
			if o.Kind == g.Kind && o.Name == g.Name {
				return sh
			}
		}
		sh.Spec.Grantees = append(gs, g)
	case 1:
		if len(gs) > 1 {
			i := src.intn(len(gs))
			sh.Spec.Grantees = append(gs[:i:i], gs[i+1:]...)
		}
	default:
		if len(gs) > 0 {
			i := src.intn(len(gs))
			gs[i].Role, gs[i].CanUseData, gs[i].AllowSharing = pick(src, genRoles), src.bool(), src.bool()
		}
	}
	return sh
}

func userGrantees(s *iamv1alpha1.Share) []string {
	var out []string
	for _, g := range s.Spec.Grantees {
		if g.Kind == iamv1alpha1.GranteeUser {
			out = append(out, g.Name)
		}
	}
	return out
}

// escalationChecked counts the accepted changes FuzzShareEscalation
// checked, for TestEscalationCoverage.
var escalationChecked int

// known reports whether any Share, ResourceGrant or Connection names ref.
func known(ix *Index, ref iamv1alpha1.ResourceRef) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ti, ok := typeByName[ref.Type]
	return ok && ix.resources[resKey{ti, ref.Name}] != nil
}

func TestUserForKubernetesName(t *testing.T) {
	u := user("alice", "full")
	u.Spec.KubernetesUsername = "oidc:alice@corp"
	ix := NewIndex(Snapshot{Users: []iamv1alpha1.User{u, user("bob", "full")}})
	for in, want := range map[string]string{"oidc:alice@corp": "alice", "bob": "bob", "alice": ""} {
		if got, _ := ix.UserForKubernetesName(in); got != want {
			t.Errorf("UserForKubernetesName(%q) = %q, want %q", in, got, want)
		}
	}
}

// Two Users claiming one Kubernetes identity (possible only past the User
// webhook) fail closed: the name stands for neither, each names the other,
// and a change to one affects both.
func TestIdentityConflict(t *testing.T) {
	thief := user("mallory", "full")
	thief.Spec.KubernetesUsername = "bob"
	ix := NewIndex(Snapshot{Users: []iamv1alpha1.User{user("bob", "full"), thief, user("carol", "full")}})
	if got, ok := ix.UserForKubernetesName("bob"); ok {
		t.Errorf("UserForKubernetesName(bob) = %q with two Users claiming it; want none", got)
	}
	if got, ok := ix.UserForKubernetesName("carol"); !ok || got != "carol" {
		t.Errorf("UserForKubernetesName(carol) = %q, %v", got, ok)
	}
	for name, want := range map[string][]string{"bob": {"mallory"}, "mallory": {"bob"}, "carol": nil, "nobody": nil} {
		if got := ix.IdentityConflicts(name); !slices.Equal(got, want) {
			t.Errorf("IdentityConflicts(%s) = %v, want %v", name, got, want)
		}
	}

	fixed := thief.DeepCopy()
	fixed.Spec.KubernetesUsername = ""
	aff, err := ix.Upsert(fixed)
	if err != nil {
		t.Fatal(err)
	}
	affected := aff.Users
	if !slices.Contains(affected, "bob") || !slices.Contains(affected, "mallory") {
		t.Errorf("resolving the conflict affects %v; want bob and mallory", affected)
	}
	if got, ok := ix.UserForKubernetesName("bob"); !ok || got != "bob" {
		t.Errorf("after the fix UserForKubernetesName(bob) = %q, %v", got, ok)
	}
	if got := ix.IdentityConflicts("bob"); got != nil {
		t.Errorf("after the fix IdentityConflicts(bob) = %v", got)
	}
	if aff, _ = ix.Delete(KindUser, "bob"); !slices.Equal(aff.Users, []string{"bob"}) {
		affected = aff.Users
		t.Errorf("deleting bob affects %v", affected)
	}
	if _, ok := ix.UserForKubernetesName("bob"); ok {
		t.Error("a deleted User still stands for its identity")
	}
}

func TestForbiddenKubernetesGroup(t *testing.T) {
	admins := []string{"gatehouse-admins", "system:masters"}
	for kg, forbidden := range map[string]bool{
		"":                       false,
		"data-team":              false,
		"system:authenticated":   true,
		"system:masters":         true,
		"system:serviceaccounts": true,
		"gatehouse-admins":       true,
		"gatehouse-admins-not":   false,
		"System:authenticated":   false, // API-server groups are case-sensitive
	} {
		if got := ForbiddenKubernetesGroup(kg, admins) != ""; got != forbidden {
			t.Errorf("ForbiddenKubernetesGroup(%q) forbids: %v, want %v", kg, got, forbidden)
		}
	}
}

// TestRule2AgreesWithStatus: for every type and role, whether a user may
// add a grantee, change one's level or remove one (CheckShare) is exactly
// whether its status lists the type's sharing permission for that change
// (CATALOGUE.md: project shareProject; deployment addUser,
// changePermissionLevels, removeUsers; modelPackage and application share;
// codeEnv and cluster manageUsers; deployerInfrastructure admin), or, on
// types with none (containerExecConfig, ...), whether it is Owner; on
// datasets and connections, Owner or allowSharing.
func TestRule2AgreesWithStatus(t *testing.T) {
	sharePerms := map[iamv1alpha1.ResourceType][3]iamv1alpha1.Permission{
		"project":      {"shareProject", "shareProject", "shareProject"},
		"deployment":   {"addUser", "changePermissionLevels", "removeUsers"},
		"modelPackage": {"share", "share", "share"},
		"application":  {"share", "share", "share"},
		"codeEnv":      {"manageUsers", "manageUsers", "manageUsers"},
		"cluster":      {"manageUsers", "manageUsers", "manageUsers"},
		// containerExecConfig has none: Owners only.
		"deployerInfrastructure": {"admin", "admin", "admin"},
	}
	for _, typ := range Types() {
		roles, _ := RolesOf(typ)
		for _, role := range roles {
			for _, allow := range []bool{false, true} {
				me := to("User", "me", role)
				me.AllowSharing = allow
				s := share("s", string(typ)+"/r", to("User", "owner", "Owner"), me, to("User", "low", "Consumer"))
				w := Snapshot{Now: genEpoch, License: license(), Users: []iamv1alpha1.User{user("owner", "full"), user("me", "full"), user("low", "full"), user("new", "full")},
					Shares: []iamv1alpha1.Share{s}}
				if typ == iamv1alpha1.ResourceConnection {
					w.Connections = []iamv1alpha1.Connection{conn("r", "All")}
				}
				ix := NewIndex(w)
				var held []iamv1alpha1.Permission
				for _, r := range ix.ComputeUser("me").Resources {
					held = r.Permissions
				}
				// Add a grantee; change low's entry (allowSharing on data
				// types, canUseData elsewhere, where it gives nothing); remove low.
				data := typ == iamv1alpha1.ResourceDataset || typ == iamv1alpha1.ResourceConnection
				changed := to("User", "low", "Consumer")
				changed.AllowSharing, changed.CanUseData = data, !data
				changes := [3]*iamv1alpha1.Share{
					withGrantees(&s, append(append([]iamv1alpha1.Grantee(nil), s.Spec.Grantees...), to("User", "new", "Consumer"))...),
					withGrantees(&s, s.Spec.Grantees[0], s.Spec.Grantees[1], changed),
					withGrantees(&s, s.Spec.Grantees[0], s.Spec.Grantees[1]),
				}
				for op, after := range changes {
					var want bool
					switch perms, ok := sharePerms[typ]; {
					case data:
						want = role == "Owner" || allow
					case ok:
						want = slices.Contains(held, perms[op])
					default:
						want = role == "Owner"
					}
					v := CheckShare(ix, &s, after, Requester{User: "me"})
					if got := v == nil || v.Rule != 2; got != want {
						t.Errorf("%s as %s (allowSharing %v), change %d: allowed %v (%v), want %v (status lists %v)", typ, role, allow, op, got, v, want, held)
					}
				}
			}
		}
	}
}

// A Share or ResourceGrant being deleted grants nothing, finalizers or not,
// in the incremental Index and in a full Compute alike.
func TestTerminatingGrantsNothing(t *testing.T) {
	w := sharingWorld()
	ix := NewIndex(w)
	if r := ix.ComputeUser("dan"); !slices.ContainsFunc(r.Resources, func(a iamv1alpha1.ResourceAccess) bool { return a.Name == "sales" }) {
		t.Fatal("dan does not reach dataset/sales to begin with")
	}
	sales := findShare(w, "sales")
	sales.Finalizers = []string{"example.com/hold"}
	sales.DeletionTimestamp = &metav1.Time{Time: genEpoch}
	aff, err := ix.Upsert(sales)
	if err != nil {
		t.Fatal(err)
	}
	affected := aff.Users
	if !slices.Contains(affected, "dan") {
		t.Errorf("the terminating Share affects %v, not dan", affected)
	}
	for _, who := range []string{"dan", "carl"} {
		for _, r := range ix.ComputeUser(who).Resources {
			if r.Name == "sales" {
				t.Errorf("%s still reaches dataset/sales through a Share being deleted: %+v", who, r)
			}
		}
	}
	for i := range w.Shares {
		if w.Shares[i].Name == "sales" {
			w.Shares[i] = *sales
		}
	}
	for _, r := range Compute(w).Users["dan"].Resources {
		if r.Name == "sales" {
			t.Errorf("a full Compute gives dan dataset/sales through a Share being deleted")
		}
	}
}

// DetailReaders: active, seated members by Gatehouse's membership (local
// and directory-mapped), never a Pending, inactive or identity-sharing
// user; All is every such user.
func TestDetailReaders(t *testing.T) {
	l := license()
	l.Spec.Profiles[2].Seats = 1 // editor: one seat
	ldapUser := user("lou", "full")
	ldapUser.Spec.DirectoryGroups = []string{"cn=dba,dc=corp"}
	dba := group("dba")
	dba.Spec.LDAPGroups = []string{"cn=dba,dc=corp"}
	f := false
	gone := user("gone", "full", "dba")
	gone.Spec.Active = &f
	twinA, twinB := user("twin-a", "full", "dba"), user("twin-b", "full")
	twinA.Spec.KubernetesUsername, twinB.Spec.KubernetesUsername = "twin", "twin"
	first, second := user("first", "editor", "dba"), user("second", "editor", "dba")
	second.CreationTimestamp = metav1.Time{Time: genEpoch.Add(time.Hour)}
	first.CreationTimestamp = metav1.Time{Time: genEpoch}
	byGroups := conn("vault", "None")
	byGroups.Spec.DetailsReadableBy = &iamv1alpha1.Audience{Mode: "Groups", Groups: []string{"dba", "ghosts"}}
	byAll := conn("open", "None")
	byAll.Spec.DetailsReadableBy = &iamv1alpha1.Audience{Mode: "All"}
	ix := NewIndex(Snapshot{Now: genEpoch, License: l, Groups: []iamv1alpha1.Group{dba},
		Users:       []iamv1alpha1.User{user("ann", "full", "dba"), ldapUser, gone, twinA, twinB, first, second, user("out", "full")},
		Connections: []iamv1alpha1.Connection{byGroups, byAll, conn("closed", "None")}})
	for name, want := range map[string][]string{
		"vault":  {"ann", "first", "lou"},
		"open":   {"ann", "first", "lou", "out"},
		"closed": nil,
		"none":   nil,
	} {
		if got := ix.DetailReaders(name); !slices.Equal(got, want) {
			t.Errorf("DetailReaders(%s) = %v, want %v", name, got, want)
		}
	}
}

// TestRule2PropertyRandomWorlds: over random worlds (fixed seeds), for every
// seated user and every Share of a resource it reaches, whether CheckShare
// lets it add a seated user as Consumer under rule 2 equals what its status
// says: the type's sharing permission with a role (what it may share up
// to), or, on datasets and connections, a reaching grantee that is Owner or
// has allowSharing.
func TestRule2PropertyRandomWorlds(t *testing.T) {
	sharePerm := map[iamv1alpha1.ResourceType]iamv1alpha1.Permission{"project": "shareProject", "deployment": "addUser",
		"modelPackage": "share", "application": "share", "codeEnv": "manageUsers", "cluster": "manageUsers",
		"deployerInfrastructure": "admin"}
	checked := 0
	for seed := range 300 {
		snap := seededSnapshot(uint64(seed), 99)
		ix := NewIndex(snap)
		res := Compute(snap)
		for _, sh := range snap.Shares {
			ref := sh.Spec.Resource
			if _, err := info(ref.Type); err != nil {
				continue
			}
			for _, u := range snap.Users {
				ur := res.Users[u.Name]
				if ur == nil || ur.Seat != iamv1alpha1.SeatGranted {
					continue
				}
				ra := ur.Find(ref)
				if ra == nil {
					continue
				}
				// A seated user not yet a grantee, added as Consumer.
				var newcomer string
				for _, o := range snap.Users {
					if or := res.Users[o.Name]; or != nil && or.Seat == iamv1alpha1.SeatGranted && o.Name != u.Name &&
						!slices.ContainsFunc(sh.Spec.Grantees, func(g iamv1alpha1.Grantee) bool { return g.Kind == "User" && g.Name == o.Name }) {
						newcomer = o.Name
						break
					}
				}
				if newcomer == "" {
					continue
				}
				after := withGrantees(&sh, append(append([]iamv1alpha1.Grantee(nil), sh.Spec.Grantees...), to("User", newcomer, "Consumer"))...)
				v := CheckShare(ix, &sh, after, Requester{User: u.Name})
				if v != nil && v.Rule == 0 {
					continue // the generated Share is itself invalid for its type
				}
				got := v == nil || v.Rule != 2
				var want bool
				switch {
				case slices.Contains(ur.GlobalPermissions, iamv1alpha1.GlobalAdmin):
					want = true // admin: Owner of everything
				default:
					want = rule2Oracle(snap, ur, ra, ref, sharePerm)
				}
				if got != want {

					t.Errorf("seed %d: %s on %s (role %q, permissions %v): CheckShare allows adding a Consumer: %v (%v); the status says %v",
						seed, u.Name, ref, ra.Role, ra.Permissions, got, v, want)
				}
				checked++
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d cases checked: the generator does not exercise the property", checked)
	}
}

// rule2Oracle is what the status says of the right to add a Consumer.
func rule2Oracle(snap Snapshot, ur *UserResult, ra *iamv1alpha1.ResourceAccess, ref iamv1alpha1.ResourceRef, sharePerm map[iamv1alpha1.ResourceType]iamv1alpha1.Permission) bool {
	if ra.Role == "" {
		return false // no role: nothing to share up to
	}
	switch ref.Type {
	case iamv1alpha1.ResourceDataset, iamv1alpha1.ResourceConnection:
		return reachingSharer(snap, ur, ref)
	}
	if p, ok := sharePerm[ref.Type]; ok {
		return slices.Contains(ra.Permissions, p)
	}
	return ra.Role == iamv1alpha1.RoleOwner
}

// reachingSharer reports whether a valid grantee entry of a Share of ref
// that reaches user u (u itself, one of its groups, its organization) is
// Owner or has allowSharing.
func reachingSharer(snap Snapshot, u *UserResult, ref iamv1alpha1.ResourceRef) bool {
	var org string
	for _, x := range snap.Users {
		if x.Name == u.Name {
			org = x.Spec.Organization
		}
	}
	for _, sh := range snap.Shares {
		if sh.Spec.Resource != ref {
			continue
		}
		for _, g := range sh.Spec.Grantees {
			reaches := (g.Kind == "User" && g.Name == u.Name) || (g.Kind == "Group" && slices.Contains(u.Groups, g.Name)) ||
				(g.Kind == "Organization" && org != "" && g.Name == org)
			// An entry whose role the type lacks gives nothing, its
			// allowSharing included.
			if reaches && ValidRole(ref.Type, g.Role) == nil && (g.AllowSharing || g.Role == iamv1alpha1.RoleOwner) {
				return true
			}
		}
	}
	return false
}

// TestMayUseRandomWorlds: over random worlds, the Users a Connection's
// controllers count (MayUse) are exactly those whose computed permissions
// include `use` on it.
func TestMayUseRandomWorlds(t *testing.T) {
	checked := 0
	for seed := range 300 {
		snap := seededSnapshot(uint64(seed), 7)
		ix := NewIndex(snap)
		res := Compute(snap)
		for _, c := range snap.Connections {
			for _, name := range res.UserNames() {
				ra := res.Users[name].Find(iamv1alpha1.ResourceRef{Type: iamv1alpha1.ResourceConnection, Name: c.Name})
				if want, got := ra != nil && slices.Contains(ra.Permissions, "use"), ix.MayUse(c.Name, name); got != want {
					t.Errorf("seed %d: MayUse(%s, %s) = %v, but the user holding use is %v", seed, c.Name, name, got, want)
				}
			}
			checked++
		}
	}
	if checked < 100 {
		t.Fatalf("only %d Connections checked", checked)
	}
}
