package admission_test

// The property of the perimeter: whatever a person asks the API server to
// change (spec, status or metadata, of any kind: owner references,
// finalizers, labels, the apply history by patch or by server-side apply
// under any manager's name), either it is refused, or afterwards, and once
// the garbage collector has done what the change makes it do, nobody holds
// a permission that person could not itself have granted, and nobody above
// the person's role lost access. The oracle is
// internal/access.Compute of the world before and after, read back from the
// API server; it knows nothing of how internal/webhook/admission decides.

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/engine"
)

// propertyResources are the resources of a random world: a data type, a
// type with a sharing permission per kind of change, one shared only by
// Owners, and a DSS project with grants.
var propertyResources = []string{"dataset/d0", "deployment/x0", "customModel/c0", "project/p0"}

var propertyRoles = []iamv1alpha1.Role{"Consumer", "Editor", "Owner"}

// randomWorld creates, in a namespace of its own, a License, 8 Users (some
// inactive, some waiting for a seat, some readers), 3 Groups (one giving
// admin) and Shares and ResourceGrants on propertyResources.
func randomWorld(t *testing.T, r *rand.Rand) string {
	t.Helper()
	ns := env.Namespace(t)
	objs := []client.Object{
		&iamv1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns}, Spec: iamv1alpha1.LicenseSpec{Profiles: []iamv1alpha1.Profile{
			{Name: "full", Seats: 5}, {Name: "reader", Seats: 2, MaxRole: "Consumer"}, {Name: "tight", Seats: 1},
		}}},
		&iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: "g0", Namespace: ns}, Spec: iamv1alpha1.GroupSpec{GlobalPermissions: []iamv1alpha1.GlobalPermission{"createProjects"}}},
		&iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: "g1", Namespace: ns}},
		&iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: "g2", Namespace: ns}, Spec: iamv1alpha1.GroupSpec{GlobalPermissions: []iamv1alpha1.GlobalPermission{"admin"}}},
	}
	profiles := []string{"full", "full", "full", "reader", "tight", "tight", "full", "reader"}
	for i, p := range profiles {
		u := user(ns, fmt.Sprintf("u%d", i), p)
		u.Spec.Groups = []string{[]string{"g0", "g1"}[r.IntN(2)]}
		if i == 0 {
			u.Spec.Groups = append(u.Spec.Groups, "g2") // u0 administers the namespace
		}
		if i == 7 {
			u.Spec.Active = ptr.To(false)
		}
		objs = append(objs, u)
	}
	for i, res := range propertyResources {
		owner := 1 + r.IntN(5)
		gs := []iamv1alpha1.Grantee{to("User", fmt.Sprintf("u%d", owner), "Owner")}
		for _, n := range r.Perm(8)[:3] {
			if n == owner || n == 7 {
				continue
			}
			g := to("User", fmt.Sprintf("u%d", n), propertyRoles[r.IntN(2)])
			g.AllowSharing, g.CanUseData = r.IntN(2) == 0, r.IntN(2) == 0
			gs = append(gs, g)
		}
		if r.IntN(2) == 0 {
			gs = append(gs, to("Group", "g1", "Consumer"))
		}
		objs = append(objs, share(ns, fmt.Sprintf("s%d", i), res, gs...))
	}
	objs = append(objs, &iamv1alpha1.ResourceGrant{ObjectMeta: metav1.ObjectMeta{Name: "rg0", Namespace: ns}, Spec: iamv1alpha1.ResourceGrantSpec{
		Resource: iamv1alpha1.ResourceRef{Type: "project", Name: "p0"},
		Subjects: []iamv1alpha1.Subject{{Kind: "User", Name: fmt.Sprintf("u%d", 1+r.IntN(6))}}, Permissions: []iamv1alpha1.Permission{"editPermissions", "writeProjectContent"}}})
	for _, o := range objs {
		if err := env.Client.Create(bg(), o); err != nil {
			t.Fatalf("the administrator cannot create %s: %v", o.GetName(), err)
		}
	}
	return ns
}

// readWorld reads a namespace back as a snapshot.
func readWorld(t *testing.T, ns string) access.Snapshot {
	t.Helper()
	snap, err := engine.ReadSnapshot(bg(), env.Client, ns, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// settle waits until every status of the namespace is what Compute gives,
// so that the webhooks judge the next request on the world as it is.
func settle(t *testing.T, ns string) access.Snapshot {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		snap := readWorld(t, ns)
		res := access.Compute(snap)
		ok := true
		for _, u := range snap.Users {
			want := res.Users[u.Name].Status()
			if u.Status.ObservedGeneration != u.Generation || u.Status.Seat != want.Seat ||
				!equality.Semantic.DeepEqual(u.Status.GlobalPermissions, want.GlobalPermissions) ||
				!equality.Semantic.DeepEqual(u.Status.Resources, want.Resources) {
				ok = false
			}
		}
		if ok {
			return snap
		}
		if time.Now().After(deadline) {
			t.Fatalf("namespace %s did not settle within 30s", ns)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// holdings is what each user holds: per resource its permissions and role
// rank, and its global permissions.
type holdings struct {
	res    map[string]map[string][]iamv1alpha1.Permission // user -> resource -> permissions
	rank   map[string]map[string]int
	global map[string][]iamv1alpha1.GlobalPermission
	admin  map[string]bool
	seated map[string]bool
}

func holdingsOf(snap access.Snapshot) holdings {
	h := holdings{res: map[string]map[string][]iamv1alpha1.Permission{}, rank: map[string]map[string]int{},
		global: map[string][]iamv1alpha1.GlobalPermission{}, admin: map[string]bool{}, seated: map[string]bool{}}
	for name, u := range access.Compute(snap).Users {
		h.res[name], h.rank[name] = map[string][]iamv1alpha1.Permission{}, map[string]int{}
		for _, a := range u.Resources {
			key := string(a.Type) + "/" + a.Name
			h.res[name][key] = a.Permissions
			h.rank[name][key] = slices.Index(propertyRoles, a.Role) + 1
		}
		h.global[name] = u.GlobalPermissions
		h.admin[name] = slices.Contains(u.GlobalPermissions, iamv1alpha1.GlobalAdmin)
		h.seated[name] = u.Seat == iamv1alpha1.SeatGranted
	}
	return h
}

// requesters of the property test: object name (empty for a stranger) and
// Kubernetes identity.
type requester struct{ user, identity string }

// violations checks the property for a change made by req, admitted, that
// turned world before into after.
func violations(req requester, before, after access.Snapshot) []string {
	b, a := holdingsOf(before), holdingsOf(after)
	known := map[string]bool{}
	for _, rs := range b.res {
		for k := range rs {
			known[k] = true
		}
	}
	var out []string
	if b.admin[req.user] {
		return nil // an administrator holds everything it could grant
	}
	for u, rs := range a.res {
		if b.admin[u] && a.admin[u] {
			continue // admin is Owner of whatever the namespace knows
		}
		for res, perms := range rs {
			for _, p := range perms {
				if slices.Contains(b.res[u][res], p) {
					continue
				}
				mine := b.res[req.user][res]
				if !known[res] && b.seated[req.user] {
					// A new resource: its creator grants up to Owner within
					// its profile, which its own holding after shows.
					mine = a.res[req.user][res]
				}
				if !slices.Contains(mine, p) {
					out = append(out, fmt.Sprintf("%s gained %s on %s, which %s does not hold", u, p, res, req.identity))
				}
			}
		}
		for _, g := range a.global[u] {
			if !slices.Contains(b.global[u], g) {
				out = append(out, fmt.Sprintf("%s gained the global permission %s", u, g))
			}
		}
	}
	// Nobody above the requester lost access (leaving oneself aside).
	for u, rs := range b.res {
		if u == req.user {
			continue
		}
		for res, perms := range rs {
			if b.rank[u][res] <= b.rank[req.user][res] {
				continue
			}
			for _, p := range perms {
				if !slices.Contains(a.res[u][res], p) {
					out = append(out, fmt.Sprintf("%s, above %s on %s, lost %s", u, req.identity, res, p))
				}
			}
		}
		for _, g := range b.global[u] {
			if !slices.Contains(a.global[u], g) {
				out = append(out, fmt.Sprintf("%s lost the global permission %s", u, g))
			}
		}
	}
	return out
}

// collected is the world as the garbage collector leaves it: the test's
// owner references are all to owners that do not exist (ghosts), so every
// Share, ResourceGrant and User carrying one is gone, with the access it
// gave or held.
func collected(snap access.Snapshot) access.Snapshot {
	snap.Users = slices.DeleteFunc(slices.Clone(snap.Users), func(u iamv1alpha1.User) bool { return len(u.OwnerReferences) > 0 })
	snap.Shares = slices.DeleteFunc(slices.Clone(snap.Shares), func(s iamv1alpha1.Share) bool { return len(s.OwnerReferences) > 0 })
	snap.ResourceGrants = slices.DeleteFunc(slices.Clone(snap.ResourceGrants), func(g iamv1alpha1.ResourceGrant) bool { return len(g.OwnerReferences) > 0 })
	return snap
}

// randomEdit is one random request: what it does, and whether it must be
// refused whatever the world (a status write).
type randomEdit struct {
	what       string
	mustRefuse bool
	do         func(c client.Client) error
}

func randomChange(r *rand.Rand, ns string, snap access.Snapshot) randomEdit {
	pickUser := func() string { return fmt.Sprintf("u%d", r.IntN(8)) }
	grantee := func() iamv1alpha1.Grantee {
		g := to("User", pickUser(), propertyRoles[r.IntN(3)])
		if r.IntN(4) == 0 {
			g = to("Group", fmt.Sprintf("g%d", r.IntN(3)), propertyRoles[r.IntN(3)])
		}
		g.AllowSharing, g.CanUseData = r.IntN(2) == 0, r.IntN(2) == 0
		return g
	}
	editShare := func(what string, fn func(*iamv1alpha1.Share)) randomEdit {
		s := snap.Shares[r.IntN(len(snap.Shares))].DeepCopy()
		return randomEdit{what: what + " Share " + s.Name, do: func(c client.Client) error { return updateAs(c, s, fn) }}
	}
	switch r.IntN(19) {
	case 17:
		u := snap.Users[r.IntN(len(snap.Users))].DeepCopy()
		return randomEdit{what: "give a ghost owner to User " + u.Name, do: func(c client.Client) error { return updateAs(c, u, ghostOwner[*iamv1alpha1.User]) }}
	case 18:
		u := snap.Users[r.IntN(len(snap.Users))]
		manager := []string{"gitops", "gatehouse-directory"}[r.IntN(2)]
		return randomEdit{what: "forge the apply history of User " + u.Name + " (manager " + manager + ")", do: func(c client.Client) error {
			var cur iamv1alpha1.User
			if err := env.Client.Get(bg(), client.ObjectKeyFromObject(&u), &cur); err != nil {
				return err
			}
			forged := append(slices.Clone(cur.ManagedFields), metav1.ManagedFieldsEntry{Manager: manager, Operation: metav1.ManagedFieldsOperationApply,
				APIVersion: "iam.gatehouse.dev/v1alpha1", FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:active":{},"f:groups":{}}}`)})
			body, err := json.Marshal([]map[string]any{{"op": "replace", "path": "/metadata/managedFields", "value": forged}})
			if err != nil {
				return err
			}
			return c.Patch(bg(), cur.DeepCopy(), client.RawPatch(types.JSONPatchType, body))
		}}
	case 13:
		return editShare("give a ghost owner to", ghostOwner[*iamv1alpha1.Share])
	case 14:
		g := snap.ResourceGrants[0].DeepCopy()
		return randomEdit{what: "give a ghost owner to ResourceGrant rg0", do: func(c client.Client) error { return updateAs(c, g, ghostOwner[*iamv1alpha1.ResourceGrant]) }}
	case 15:
		s := snap.Shares[r.IntN(len(snap.Shares))]
		manager := []string{"gitops", "gatehouse-directory", "gatehouse-share"}[r.IntN(3)]
		reset := r.IntN(3) == 0
		return randomEdit{what: "forge the apply history of Share " + s.Name + " (manager " + manager + ")", do: func(c client.Client) error {
			var cur iamv1alpha1.Share
			if err := env.Client.Get(bg(), client.ObjectKeyFromObject(&s), &cur); err != nil {
				return err
			}
			forged := append(slices.Clone(cur.ManagedFields), metav1.ManagedFieldsEntry{Manager: manager, Operation: metav1.ManagedFieldsOperationApply,
				APIVersion: "iam.gatehouse.dev/v1alpha1", FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:grantees":{},"f:note":{}}}`)})
			if reset {
				forged = []metav1.ManagedFieldsEntry{{}}
			}
			body, err := json.Marshal([]map[string]any{{"op": "replace", "path": "/metadata/managedFields", "value": forged}})
			if err != nil {
				return err
			}
			return c.Patch(bg(), cur.DeepCopy(), client.RawPatch(types.JSONPatchType, body))
		}}
	case 16:
		s := snap.Shares[r.IntN(len(snap.Shares))]
		manager := []string{"gitops", "gatehouse-directory"}[r.IntN(2)]
		g := grantee()
		return randomEdit{what: "server-side apply a grantee to Share " + s.Name + " as " + manager, do: func(c client.Client) error {
			var cur iamv1alpha1.Share
			if err := env.Client.Get(bg(), client.ObjectKeyFromObject(&s), &cur); err != nil {
				return err
			}
			gs := slices.DeleteFunc(slices.Clone(cur.Spec.Grantees), func(o iamv1alpha1.Grantee) bool { return o.Kind == g.Kind && o.Name == g.Name })
			body, err := json.Marshal(map[string]any{"apiVersion": "iam.gatehouse.dev/v1alpha1", "kind": "Share", "metadata": map[string]any{"name": cur.Name},
				"spec": map[string]any{"resource": cur.Spec.Resource, "grantees": append(gs, g)}})
			if err != nil {
				return err
			}
			return c.Patch(bg(), cur.DeepCopy(), client.RawPatch(types.ApplyPatchType, body), client.FieldOwner(manager), client.ForceOwnership)
		}}
	case 12:
		name := fmt.Sprintf("c%d", r.IntN(1000))
		return randomEdit{what: "create Connection " + name + " usable by all", do: func(c client.Client) error {
			return c.Create(bg(), &iamv1alpha1.Connection{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
				Spec: iamv1alpha1.ConnectionSpec{Type: "PostgreSQL", Credentials: iamv1alpha1.ConnectionCredentials{Mode: "PerUser", Type: "Basic"},
					UsableBy: &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceAll}}})
		}}
	case 0:
		return editShare("add a grantee to", func(s *iamv1alpha1.Share) {
			g := grantee()
			for _, o := range s.Spec.Grantees {
				if o.Kind == g.Kind && o.Name == g.Name {
					return
				}
			}
			s.Spec.Grantees = append(s.Spec.Grantees, g)
		})
	case 1:
		return editShare("change a grantee of", func(s *iamv1alpha1.Share) {
			i := r.IntN(len(s.Spec.Grantees))
			s.Spec.Grantees[i].Role = propertyRoles[r.IntN(3)]
			s.Spec.Grantees[i].AllowSharing = r.IntN(2) == 0
			s.Spec.Grantees[i].CanUseData = r.IntN(2) == 0
		})
	case 2:
		return editShare("remove a grantee from", func(s *iamv1alpha1.Share) {
			if len(s.Spec.Grantees) > 1 {
				i := r.IntN(len(s.Spec.Grantees))
				s.Spec.Grantees = append(s.Spec.Grantees[:i], s.Spec.Grantees[i+1:]...)
			}
		})
	case 3:
		s := snap.Shares[r.IntN(len(snap.Shares))]
		return randomEdit{what: "delete Share " + s.Name, do: func(c client.Client) error { return c.Delete(bg(), s.DeepCopy()) }}
	case 4:
		res := propertyResources[r.IntN(len(propertyResources))]
		if r.IntN(2) == 0 {
			res = strings.Split(res, "/")[0] + fmt.Sprintf("/new%d", r.IntN(3))
		}
		gs := []iamv1alpha1.Grantee{to("User", pickUser(), "Owner"), grantee()}
		if gs[0].Name == gs[1].Name && gs[1].Kind == "User" {
			gs = gs[:1]
		}
		name := fmt.Sprintf("n%d", r.IntN(1000))
		return randomEdit{what: "create Share " + name + " of " + res, do: func(c client.Client) error { return c.Create(bg(), share(ns, name, res, gs...)) }}
	case 5:
		return editShare("pin with a finalizer", func(s *iamv1alpha1.Share) { s.Finalizers = append(s.Finalizers, "example.com/pin") })
	case 6:
		return editShare("label", func(s *iamv1alpha1.Share) { s.Labels = map[string]string{"prune": "true"} })
	case 7:
		g := snap.ResourceGrants[0].DeepCopy()
		subject := iamv1alpha1.Subject{Kind: "User", Name: pickUser()}
		perm := []iamv1alpha1.Permission{"admin", "deleteProject", "readDashboards"}[r.IntN(3)]
		return randomEdit{what: "widen ResourceGrant rg0", do: func(c client.Client) error {
			return updateAs(c, g, func(g *iamv1alpha1.ResourceGrant) {
				if !slices.Contains(g.Spec.Subjects, subject) {
					g.Spec.Subjects = append(g.Spec.Subjects, subject)
				}
				if !slices.Contains(g.Spec.Permissions, perm) {
					g.Spec.Permissions = append(g.Spec.Permissions, perm)
				}
			})
		}}
	case 8:
		u := snap.Users[r.IntN(len(snap.Users))].DeepCopy()
		how := r.IntN(3)
		return randomEdit{what: "change User " + u.Name, do: func(c client.Client) error {
			return updateAs(c, u, func(u *iamv1alpha1.User) {
				switch how {
				case 0:
					if !slices.Contains(u.Spec.Groups, "g2") {
						u.Spec.Groups = append(u.Spec.Groups, "g2")
					}
				case 1:
					u.Spec.Active = ptr.To(true)
				default:
					u.Spec.Profile = "full"
				}
			})
		}}
	case 9:
		g := snap.Groups[r.IntN(len(snap.Groups))].DeepCopy()
		return randomEdit{what: "give Group " + g.Name + " admin", do: func(c client.Client) error {
			return updateAs(c, g, func(g *iamv1alpha1.Group) { g.Spec.GlobalPermissions = []iamv1alpha1.GlobalPermission{"admin"} })
		}}
	case 10:
		l := snap.License.DeepCopy()
		return randomEdit{what: "raise the seats", do: func(c client.Client) error {
			return updateAs(c, l, func(l *iamv1alpha1.License) { l.Spec.Profiles[2].Seats = 10 })
		}}
	default:
		u := snap.Users[r.IntN(len(snap.Users))]
		return randomEdit{what: "forge the status of User " + u.Name, mustRefuse: true, do: func(c client.Client) error {
			return c.Status().Patch(bg(), u.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{"status":{"globalPermissions":["admin"],"seat":"Granted"}}`)))
		}}
	}
}

// updateAs reads obj afresh (as the administrator), changes it and writes
// it as c, again when the operator's status write got in between.
func updateAs[T client.Object](c client.Client, obj T, fn func(T)) error {
	for {
		if err := env.Client.Get(bg(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		fn(obj)
		if err := c.Update(bg(), obj); !apierrors.IsConflict(err) {
			return err
		}
	}
}

// TestAdmissionProperty runs random changes by random requesters (an
// administrator User, Owners, Editors, Consumers, users waiting for a seat,
// an inactive user, a stranger) against random worlds, through the API
// server with the webhooks as shipped, each requester holding every verb on
// every Gatehouse kind.
func TestAdmissionProperty(t *testing.T) {
	const worlds, trials = 4, 40
	admitted, refused := 0, 0
	for w := range worlds {
		r := rand.New(rand.NewPCG(uint64(w), 42))
		ns := randomWorld(t, r)
		snap := settle(t, ns)
		for i := range trials {
			req := requester{user: fmt.Sprintf("u%d", r.IntN(8))}
			req.identity = req.user + "@acme.example"
			if r.IntN(8) == 0 {
				req = requester{identity: "stranger@acme.example"}
			}
			ch := randomChange(r, ns, snap)
			if err := ch.do(as(t, req.identity)); err != nil {
				if !strings.Contains(err.Error(), "denied the request") && !apierrors.IsInvalid(err) {
					t.Errorf("world %d trial %d: %s: %v", w, i, ch.what, err)
				}
				refused++
				continue
			}
			admitted++
			if ch.mustRefuse {
				t.Errorf("world %d trial %d: %s may %s", w, i, req.identity, ch.what)
			}
			after := settle(t, ns)
			if v := violations(req, collected(snap), collected(after)); len(v) > 0 {
				t.Errorf("world %d trial %d: %s may %s, after which %s", w, i, req.identity, ch.what, strings.Join(v, "; "))
			}
			snap = after
		}
	}
	t.Logf("%d changes admitted, %d refused", admitted, refused)
	if admitted == 0 || refused == 0 {
		t.Errorf("%d admitted and %d refused: the random changes do not exercise both outcomes", admitted, refused)
	}
}
