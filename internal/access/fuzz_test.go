package access

import (
	"fmt"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// seedCorpus adds the same starting inputs to every fuzz target, so that a
// plain `go test` runs each one on varied snapshots.
func seedCorpus(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("gatehouse"))
	for i := 0; i < 24; i++ {
		b := make([]byte, 96+i*24)
		x := uint32(2166136261 + i*7919)
		for j := range b {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			b[j] = byte(x)
		}
		f.Add(b)
	}
}

// permsOf returns a user's permissions on a resource as a set.
func permsOf(t *testing.T, ra iamv1alpha1.ResourceAccess) PermissionSet {
	t.Helper()
	s, err := ParsePermissions(ra.Type, ra.Permissions)
	if err != nil {
		t.Fatalf("result holds an invalid permission: %v", err)
	}
	return s
}

func profileOf(s Snapshot, name string) *iamv1alpha1.Profile {
	if s.License == nil {
		return nil
	}
	for i := range s.License.Spec.Profiles {
		if s.License.Spec.Profiles[i].Name == name {
			return &s.License.Spec.Profiles[i]
		}
	}
	return nil
}

// FuzzProfileCap: no user ever holds more than its profile's maxRole allows,
// on any resource, nor a global permission outside its profile's.
func FuzzProfileCap(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		snap := genSnapshot(&byteSource{b: data})
		res := Compute(snap)
		for _, u := range snap.Users {
			r := res.Users[u.Name]
			if len(r.Resources) == 0 && len(r.GlobalPermissions) == 0 {
				continue
			}
			prof := profileOf(snap, u.Spec.Profile)
			if prof == nil {
				t.Fatalf("%s has access without a profile: %+v", u.Name, r)
			}
			maxRole := prof.MaxRole
			if maxRole == "" {
				maxRole = iamv1alpha1.RoleOwner
			}
			for _, ra := range r.Resources {
				ti, _ := info(ra.Type)
				capRank := ti.capRank(roleRank(maxRole))
				if roleRank(ra.Role) > capRank {
					t.Errorf("%s is %s on %s/%s above its profile's %s", u.Name, ra.Role, ra.Type, ra.Name, maxRole)
				}
				if !ti.role[capRank][1].Contains(permsOf(t, ra)) {
					t.Errorf("%s holds %v on %s/%s, beyond %s", u.Name, ra.Permissions, ra.Type, ra.Name, maxRole)
				}
			}
			if prof.GlobalPermissions != nil {
				allowed := parseGlobalLenient(prof.GlobalPermissions)
				got, _ := ParseGlobal(r.GlobalPermissions)
				if got&^allowed != 0 {
					t.Errorf("%s holds %v outside its profile's %v", u.Name, r.GlobalPermissions, prof.GlobalPermissions)
				}
			}
		}
	})
}

// FuzzInactiveHasNothing: an inactive or unseated user has no permission.
func FuzzInactiveHasNothing(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		snap := genSnapshot(&byteSource{b: data})
		res := Compute(snap)
		for _, u := range snap.Users {
			r := res.Users[u.Name]
			if u.Spec.IsActive() && r.Seat == iamv1alpha1.SeatGranted {
				continue
			}
			if !u.Spec.IsActive() && (r.Seat != iamv1alpha1.SeatNone || r.SeatReason != iamv1alpha1.ReasonInactive) {
				t.Errorf("inactive %s: seat %s (%s)", u.Name, r.Seat, r.SeatReason)
			}
			if len(r.Resources) != 0 || len(r.GlobalPermissions) != 0 {
				t.Errorf("%s (active %v, seat %s) holds %d resources and %v", u.Name, u.Spec.IsActive(), r.Seat, len(r.Resources), r.GlobalPermissions)
			}
		}
	})
}

// FuzzOrderIndependent: shuffling every slice of the input changes nothing.
func FuzzOrderIndependent(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		snap := genSnapshot(&byteSource{b: data})
		want := Compute(snap)
		for seed := int64(1); seed <= 3; seed++ {
			if diff := cmp.Diff(want, Compute(shuffled(snap, seed))); diff != "" {
				t.Fatalf("shuffled input (seed %d) changes the result (-ordered +shuffled):\n%s", seed, diff)
			}
		}
	})
}

// revocations lists every way to take one thing back from a snapshot:
// delete a Share or ResourceGrant, or remove one grantee or subject.
func revocations(s Snapshot) map[string]Snapshot {
	out := map[string]Snapshot{}
	for i := range s.Shares {
		c := s
		c.Shares = append(append([]iamv1alpha1.Share(nil), s.Shares[:i]...), s.Shares[i+1:]...)
		out["delete share "+s.Shares[i].Name] = c
		for j := range s.Shares[i].Spec.Grantees {
			if len(s.Shares[i].Spec.Grantees) < 2 {
				break
			}
			c := s
			c.Shares = append([]iamv1alpha1.Share(nil), s.Shares...)
			sh := *s.Shares[i].DeepCopy()
			sh.Spec.Grantees = append(sh.Spec.Grantees[:j:j], sh.Spec.Grantees[j+1:]...)
			c.Shares[i] = sh
			out[fmt.Sprintf("remove grantee %d of %s", j, sh.Name)] = c
		}
	}
	for i := range s.ResourceGrants {
		c := s
		c.ResourceGrants = append(append([]iamv1alpha1.ResourceGrant(nil), s.ResourceGrants[:i]...), s.ResourceGrants[i+1:]...)
		out["delete grant "+s.ResourceGrants[i].Name] = c
		for j := range s.ResourceGrants[i].Spec.Subjects {
			if len(s.ResourceGrants[i].Spec.Subjects) < 2 {
				break
			}
			c := s
			c.ResourceGrants = append([]iamv1alpha1.ResourceGrant(nil), s.ResourceGrants...)
			g := *s.ResourceGrants[i].DeepCopy()
			g.Spec.Subjects = append(g.Spec.Subjects[:j:j], g.Spec.Subjects[j+1:]...)
			c.ResourceGrants[i] = g
			out[fmt.Sprintf("remove subject %d of %s", j, g.Name)] = c
		}
	}
	return out
}

// FuzzRevokeNeverAdds: revoking a share or grant (or one of its grantees or
// subjects) never gives anyone a permission, a higher role or a global
// permission.
func FuzzRevokeNeverAdds(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		snap := genSnapshot(&byteSource{b: data})
		before := Compute(snap)
		for what, after := range revocations(snap) {
			res := Compute(after)
			for name, ua := range res.Users {
				ub := before.Users[name]
				if ua.Seat != ub.Seat {
					t.Fatalf("%s: seat of %s changed from %s to %s", what, name, ub.Seat, ua.Seat)
				}
				for _, ra := range ua.Resources {
					rb := ub.Find(iamv1alpha1.ResourceRef{Type: ra.Type, Name: ra.Name})
					if rb == nil {
						t.Fatalf("%s gives %s new access to %s/%s: %+v", what, name, ra.Type, ra.Name, ra)
					}
					if gained := permsOf(t, ra) &^ permsOf(t, *rb); gained != 0 {
						t.Fatalf("%s gives %s %v on %s/%s", what, name, Names(ra.Type, gained), ra.Type, ra.Name)
					}
					if roleRank(ra.Role) > roleRank(rb.Role) {
						t.Fatalf("%s raises %s from %q to %s on %s/%s", what, name, rb.Role, ra.Role, ra.Type, ra.Name)
					}
				}
				if len(ua.GlobalPermissions) > len(ub.GlobalPermissions) {
					t.Fatalf("%s gives %s global permissions %v (had %v)", what, name, ua.GlobalPermissions, ub.GlobalPermissions)
				}
			}
		}
	})
}

// event is one step of an incremental run: upsert or delete one object.
type event struct {
	kind   Kind
	name   string
	delete bool
	obj    any
}

func genEvent(s *byteSource) event {
	switch s.intn(7) {
	case 0:
		n := pick(s, genUsers)
		if s.intn(4) == 0 {
			return event{kind: KindUser, name: n, delete: true}
		}
		u := genUser(s, n)
		return event{kind: KindUser, name: n, obj: &u}
	case 1:
		n := pick(s, genGroups)
		if s.intn(4) == 0 {
			return event{kind: KindGroup, name: n, delete: true}
		}
		g := genGroup(s, n)
		return event{kind: KindGroup, name: n, obj: &g}
	case 2:
		n := pick(s, genConns)
		if s.intn(4) == 0 {
			return event{kind: KindConnection, name: n, delete: true}
		}
		c := genConnection(s, n)
		return event{kind: KindConnection, name: n, obj: &c}
	case 3:
		l := genLicense(s)
		if l == nil {
			return event{kind: KindLicense, name: "license", delete: true}
		}
		return event{kind: KindLicense, name: "license", obj: l}
	case 4, 5:
		n := fmt.Sprintf("share-%d", s.intn(5))
		if s.intn(4) == 0 {
			return event{kind: KindShare, name: n, delete: true}
		}
		sh := genShare(s, n)
		return event{kind: KindShare, name: n, obj: &sh}
	default:
		n := fmt.Sprintf("grant-%d", s.intn(4))
		if s.intn(4) == 0 {
			return event{kind: KindResourceGrant, name: n, delete: true}
		}
		g := genGrant(s, n)
		return event{kind: KindResourceGrant, name: n, obj: &g}
	}
}

// world is the test's own plain copy of the namespace, to build snapshots
// from.
type world struct {
	license *iamv1alpha1.License
	objs    map[Kind]map[string]any
}

func newWorld(s Snapshot) *world {
	w := &world{license: s.License, objs: map[Kind]map[string]any{}}
	for _, k := range []Kind{KindUser, KindGroup, KindConnection, KindShare, KindResourceGrant} {
		w.objs[k] = map[string]any{}
	}
	for i := range s.Users {
		w.objs[KindUser][s.Users[i].Name] = &s.Users[i]
	}
	for i := range s.Groups {
		w.objs[KindGroup][s.Groups[i].Name] = &s.Groups[i]
	}
	for i := range s.Connections {
		w.objs[KindConnection][s.Connections[i].Name] = &s.Connections[i]
	}
	for i := range s.Shares {
		w.objs[KindShare][s.Shares[i].Name] = &s.Shares[i]
	}
	for i := range s.ResourceGrants {
		w.objs[KindResourceGrant][s.ResourceGrants[i].Name] = &s.ResourceGrants[i]
	}
	return w
}

func (w *world) apply(e event) {
	if e.kind == KindLicense {
		w.license, _ = e.obj.(*iamv1alpha1.License)
		return
	}
	if e.delete {
		delete(w.objs[e.kind], e.name)
	} else {
		w.objs[e.kind][e.name] = e.obj
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (w *world) snapshot() Snapshot {
	s := Snapshot{Now: genEpoch, License: w.license}
	for _, k := range sortedKeys(w.objs[KindUser]) {
		s.Users = append(s.Users, *w.objs[KindUser][k].(*iamv1alpha1.User))
	}
	for _, k := range sortedKeys(w.objs[KindGroup]) {
		s.Groups = append(s.Groups, *w.objs[KindGroup][k].(*iamv1alpha1.Group))
	}
	for _, k := range sortedKeys(w.objs[KindConnection]) {
		s.Connections = append(s.Connections, *w.objs[KindConnection][k].(*iamv1alpha1.Connection))
	}
	for _, k := range sortedKeys(w.objs[KindShare]) {
		s.Shares = append(s.Shares, *w.objs[KindShare][k].(*iamv1alpha1.Share))
	}
	for _, k := range sortedKeys(w.objs[KindResourceGrant]) {
		s.ResourceGrants = append(s.ResourceGrants, *w.objs[KindResourceGrant][k].(*iamv1alpha1.ResourceGrant))
	}
	return s
}

// FuzzIncremental drives an Index with a random stream of upserts and
// deletes. After every event, for every user, Index.ComputeUser equals
// Compute on the full snapshot, every user whose result changed was named
// by the event's affected users, and every Group, Share, ResourceGrant,
// Connection and License whose report changed was named by Affected
// (checkRelated).
func FuzzIncremental(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(checkIncremental)
}

func checkIncremental(t *testing.T, data []byte) {
	{
		src := &byteSource{b: data}
		snap := genSnapshot(src)
		w := newWorld(snap)
		ix := NewIndex(snap)
		prev := Compute(snap)
		for step := 0; step < 40 && !src.done(); step++ {
			e := genEvent(src)
			before := viewOf(ix, w)
			var aff Affected
			var err error
			if e.delete {
				aff, err = ix.Delete(e.kind, e.name)
			} else {
				aff, err = ix.Upsert(e.obj.(metav1.Object))
			}
			affected := aff.Users
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			w.apply(e)
			checkRelated(t, step, fmt.Sprintf("%s %s delete=%v", e.kind, e.name, e.delete), before, viewOf(ix, w), aff)
			full := Compute(w.snapshot())
			isAffected := map[string]bool{}
			for _, n := range affected {
				isAffected[n] = true
			}
			names := map[string]bool{}
			for n := range full.Users {
				names[n] = true
			}
			for n := range prev.Users {
				names[n] = true
			}
			for n := range names {
				got := ix.ComputeUser(n)
				if diff := cmp.Diff(full.Users[n], got); diff != "" {
					t.Fatalf("step %d (%s %s delete=%v): ComputeUser(%s) differs from Compute (-full +index):\n%s", step, e.kind, e.name, e.delete, n, diff)
				}
				if !isAffected[n] && !cmp.Equal(prev.Users[n], full.Users[n]) {
					t.Fatalf("step %d (%s %s delete=%v): %s changed but is not in AffectedUsers %v:\n%s", step, e.kind, e.name, e.delete, n, affected,
						cmp.Diff(prev.Users[n], full.Users[n]))
				}
			}
			if diff := cmp.Diff(full.Profiles, ix.Profiles()); diff != "" {
				t.Fatalf("step %d: Profiles differ (-full +index):\n%s", step, diff)
			}
			prev = full
		}
	}
}
