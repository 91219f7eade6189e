package access

import (
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/ldapdn"
)

// AffectedUsers returns the users whose result may differ between the Index
// with before (nil: the object did not exist) and with after (nil: it was
// deleted), sorted. before is normally what the Index holds now. The answer
// is a superset of the users whose ComputeUser result changes, and no more
// than the change touches:
//   - a Group: its members (local and directory-mapped) before and after;
//   - a Share or ResourceGrant: the users its grantees or subjects reach
//     before and after, and the administrators when the resource appears or
//     disappears from the namespace;
//   - a Connection: the users its usableBy admits before and after, the users
//     its Shares and ResourceGrants reach, and the administrators when it
//     appears or disappears;
//   - the License: when only a profile's seats change, the users of that
//     profile from the smaller seat count on (those whose seat flips, and
//     the pending ones, whose message counts the seats); else the users of
//     every profile that changed, and of the profiles the License does not
//     name (their message lists the valid ones); every user when the License
//     appears, goes, or expires or is renewed;
//   - a User: that user, the users claiming its Kubernetes identity before
//     and after, and, when its seat order changes, the users of its
//     profile(s) whose seat may change.
func (ix *Index) AffectedUsers(before, after metav1.Object) []string {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.affected(before, after)
}

// nilObject turns a typed nil pointer into a nil interface.
func nilObject(o metav1.Object) metav1.Object {
	switch v := o.(type) {
	case *iamv1alpha1.User:
		if v == nil {
			return nil
		}
	case *iamv1alpha1.Group:
		if v == nil {
			return nil
		}
	case *iamv1alpha1.Connection:
		if v == nil {
			return nil
		}
	case *iamv1alpha1.Share:
		if v == nil {
			return nil
		}
	case *iamv1alpha1.ResourceGrant:
		if v == nil {
			return nil
		}
	case *iamv1alpha1.License:
		if v == nil {
			return nil
		}
	}
	return o
}

func (ix *Index) affected(before, after metav1.Object) []string {
	before, after = nilObject(before), nilObject(after)
	out := map[string]struct{}{}
	addMembers := func(group string, ldap []string) {
		ix.forMembers(group, ldap, func(u *userEntry) bool { out[u.name] = struct{}{}; return true })
	}
	// resChanged reports whether the object may be what makes a resource
	// known to the namespace (it is not named yet, or named only once).
	resChanged := func(t iamv1alpha1.ResourceType, name string) bool {
		ti, ok := typeByName[t]
		if !ok {
			return false
		}
		r := ix.resources[resKey{ti, name}]
		if r == nil {
			return true // the object adds it
		}
		n := len(r.shares) + len(r.grants)
		if r.conn != nil {
			n++
		}
		return n <= 1 // the object may be its only namer
	}
	addAdmins := func() {
		for g := range ix.adminGroups {
			addMembers(g.name, g.ldap)
		}
	}
	reachGrantee := func(kind, name string) {
		switch kind {
		case string(iamv1alpha1.GranteeUser):
			out[name] = struct{}{}
		case string(iamv1alpha1.GranteeGroup):
			var ldap []string
			if g := ix.groups[name]; g != nil {
				ldap = g.ldap
			}
			addMembers(name, ldap)
		case string(iamv1alpha1.GranteeOrganization):
			for _, u := range ix.orgUsers[name] {
				out[u.name] = struct{}{}
			}
		}
	}
	reachResource := func(t iamv1alpha1.ResourceType, name string) {
		ti, ok := typeByName[t]
		if !ok {
			return
		}
		r := ix.resources[resKey{ti, name}]
		if r == nil {
			return
		}
		for _, s := range r.shares {
			for _, g := range s.grantees {
				reachGrantee(string(g.kind), g.name)
			}
		}
		for _, e := range r.grants {
			for _, s := range e.subjects {
				reachGrantee(string(s.Kind), s.Name)
			}
		}
	}

	for _, obj := range []metav1.Object{before, after} {
		switch o := obj.(type) {
		case *iamv1alpha1.Group:
			var ldap []string
			for _, dn := range o.Spec.LDAPGroups {
				ldap = append(ldap, ldapdn.Normalize(dn))
			}
			addMembers(o.Name, ldap)
		case *iamv1alpha1.Share:
			for _, g := range o.Spec.Grantees {
				reachGrantee(string(g.Kind), g.Name)
			}
			if resChanged(o.Spec.Resource.Type, o.Spec.Resource.Name) {
				addAdmins()
			}
		case *iamv1alpha1.ResourceGrant:
			for _, s := range o.Spec.Subjects {
				reachGrantee(string(s.Kind), s.Name)
			}
			if resChanged(o.Spec.Resource.Type, o.Spec.Resource.Name) {
				addAdmins()
			}
		case *iamv1alpha1.Connection:
			if ub := o.Spec.UsableBy; ub != nil {
				switch ub.Mode {
				case iamv1alpha1.AudienceAll:
					for n := range ix.users {
						out[n] = struct{}{}
					}
				case iamv1alpha1.AudienceGroups:
					for _, g := range ub.Groups {
						reachGrantee(string(iamv1alpha1.GranteeGroup), g)
					}
				}
			}
			reachResource(iamv1alpha1.ResourceConnection, o.Name)
			if before == nil || after == nil {
				addAdmins()
			}
		case *iamv1alpha1.License:
			ix.licenseAffected(before, after, out)
		case *iamv1alpha1.User:
			out[o.Name] = struct{}{}
			// The users claiming the same identity, whose Ready names it.
			for _, u := range ix.identities[o.Spec.KubernetesIdentity()] {
				out[u.name] = struct{}{}
			}
		}
	}
	if u, ok := firstUser(before, after); ok {
		ix.seatNeighbours(u, before, after, out)
	}
	names := make([]string, 0, len(out))
	for n := range out {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func firstUser(before, after metav1.Object) (string, bool) {
	if u, ok := before.(*iamv1alpha1.User); ok {
		return u.Name, true
	}
	if u, ok := after.(*iamv1alpha1.User); ok {
		return u.Name, true
	}
	return "", false
}

// seatNeighbours adds the users whose seat may flip when a user's entry in
// the seat order changes: in each profile concerned, the users at the last
// granted and first pending places, before and after the change.
func (ix *Index) seatNeighbours(name string, before, after metav1.Object, out map[string]struct{}) {
	var old, nu *userEntry
	if before != nil {
		old = ix.users[name]
	}
	if a, ok := after.(*iamv1alpha1.User); ok && a != nil {
		nu = &userEntry{name: a.Name, active: a.Spec.IsActive(), profile: a.Spec.Profile, created: a.CreationTimestamp.Time}
	}
	if old != nil && nu != nil && old.active == nu.active && old.profile == nu.profile && old.created.Equal(nu.created) {
		return // same place in the same order
	}
	profiles := map[string]struct{}{}
	if old != nil && old.active {
		profiles[old.profile] = struct{}{}
	}
	if nu != nil && nu.active {
		profiles[nu.profile] = struct{}{}
	}
	for prof := range profiles {
		pe := ix.profiles[prof]
		if pe == nil {
			continue
		}
		l := ix.seatLists[prof]
		if l == nil {
			l = &seatList{}
		}
		// The list after the change, virtually: without old, with nu.
		removeAt, insertAt := -1, -1
		if old != nil && old.active && old.profile == prof {
			removeAt = l.rank(old)
		}
		if nu != nil && nu.active && nu.profile == prof {
			insertAt = l.pos(nu)
			if removeAt >= 0 && removeAt < insertAt {
				insertAt--
			}
		}
		afterAt := func(k int) *userEntry {
			if insertAt >= 0 {
				if k == insertAt {
					return nu
				}
				if k > insertAt {
					k--
				}
			}
			if removeAt >= 0 && k >= removeAt {
				k++
			}
			if k < 0 || k >= len(l.users) {
				return nil
			}
			return l.users[k]
		}
		for _, k := range []int{pe.seats - 1, pe.seats} {
			if k >= 0 && k < len(l.users) {
				out[l.users[k].name] = struct{}{}
			}
			if u := afterAt(k); u != nil {
				out[u.name] = struct{}{}
			}
		}
	}
}

// licenseAffected adds the users a License change touches (idempotent: the
// loop in affected calls it for before and for after).
func (ix *Index) licenseAffected(before, after metav1.Object, out map[string]struct{}) {
	b, _ := before.(*iamv1alpha1.License)
	a, _ := after.(*iamv1alpha1.License)
	all := func() {
		for n := range ix.users {
			out[n] = struct{}{}
		}
	}
	expired := func(l *iamv1alpha1.License) bool {
		return l.Spec.ExpiresAt != nil && !ix.now.Before(l.Spec.ExpiresAt.Time)
	}
	if b == nil || a == nil || b.Name != a.Name || expired(b) != expired(a) {
		all()
		return
	}
	if expired(a) {
		// Every user's message names the expiry time.
		if !b.Spec.ExpiresAt.Equal(a.Spec.ExpiresAt) {
			all()
		}
		return
	}
	index := func(l *iamv1alpha1.License) map[string]int {
		m := make(map[string]int, len(l.Spec.Profiles))
		for i, p := range l.Spec.Profiles {
			if _, dup := m[p.Name]; !dup {
				m[p.Name] = i
			}
		}
		return m
	}
	bi, ai := index(b), index(a)
	changed := map[string]bool{} // every user of the profile
	fromRank := map[string]int{} // the users of the profile from this seat rank on
	namesChanged := len(bi) != len(ai)
	for name, i := range bi {
		j, ok := ai[name]
		if !ok || i != j {
			namesChanged = true
			changed[name] = true
			continue
		}
		bp, ap := b.Spec.Profiles[i], a.Spec.Profiles[j]
		if bp.Seats != ap.Seats {
			fromRank[name] = int(min(bp.Seats, ap.Seats))
		}
		bp.Seats, ap.Seats = 0, 0
		if !equalProfile(bp, ap) {
			changed[name] = true
		}
	}
	for name := range ai {
		if _, ok := bi[name]; !ok {
			namesChanged = true
			changed[name] = true
		}
	}
	for n, u := range ix.users {
		_, inB := bi[u.profile]
		_, inA := ai[u.profile]
		if changed[u.profile] || (namesChanged && (!inB || !inA)) {
			out[n] = struct{}{}
		}
	}
	for prof, from := range fromRank {
		if changed[prof] {
			continue
		}
		if l := ix.seatLists[prof]; l != nil {
			for k := from; k < len(l.users); k++ {
				out[l.users[k].name] = struct{}{}
			}
		}
	}
}

func equalProfile(a, b iamv1alpha1.Profile) bool {
	if a.Name != b.Name || a.Seats != b.Seats || a.MaxRole != b.MaxRole || (a.GlobalPermissions == nil) != (b.GlobalPermissions == nil) ||
		len(a.GlobalPermissions) != len(b.GlobalPermissions) {
		return false
	}
	for i := range a.GlobalPermissions {
		if a.GlobalPermissions[i] != b.GlobalPermissions[i] {
			return false
		}
	}
	return true
}
