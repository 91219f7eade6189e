package access

import (
	"maps"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/ldapdn"
)

// Affected is what one change touches: the objects of every kind whose
// status (for a Connection, also its Roles, RoleBindings and counts) may
// differ between the Index holding the changed object's version before and
// the one after. It is the one answer to "whom does this change touch": the
// engine enqueues exactly these reconciles, and nothing else keeps indexes
// of its own to find them. Each list is sorted, a superset of what changes
// and no more than the change reaches.
type Affected struct {
	// Users are the users whose ComputeUser result may change (the rules
	// are on Index.Affected).
	Users []string
	// Groups are the Groups whose member counts may change: a changed
	// Group itself, and the Groups a User belongs to (by spec.groups or by
	// a directory group) before or after, when its membership or activity
	// changes.
	Groups []string
	// Shares and ResourceGrants are those whose report may change: a
	// changed one itself; those naming a changed Group; those naming a
	// User, one of its Groups or its organization when what they reach
	// changes (membership, activity, organization).
	Shares, ResourceGrants []string
	// Connections are those whose status or RBAC may change: a changed
	// Connection itself; those whose usableBy or detailsReadableBy names a
	// changed Group; and, when a Group, the License, the clock or a User's
	// standing (StandingChanged) changes, those whose detailsReadableBy
	// reaches a touched user (All, or one of their groups) and every
	// Connection with per-user credentials (its counts and per-user
	// bindings read every user's activity, seat and administrator rights).
	// A Share or ResourceGrant changes what users hold, not what a
	// Connection reads of them: it touches no Connection.
	Connections []string
	// Licenses is whether the namespace's Licenses may count differently:
	// the License changed or expired, or a User took or freed a seat.
	Licenses bool
}

// Affected returns what a change of one object touches (see Affected): the
// Index with before (nil: the object did not exist) against the Index with
// after (nil: it was deleted); before is normally what the Index holds now.
// Upsert and Delete return the same answer for the change they apply.
//
// Its Users are a superset of the users whose ComputeUser result changes,
// and no more than the change touches:
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
func (ix *Index) Affected(before, after metav1.Object) Affected {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
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

// affected is Affected; ix.mu is held (read or write).
func (ix *Index) affected(before, after metav1.Object) Affected {
	before, after = nilObject(before), nilObject(after)
	a := affectedSet{ix: ix, out: map[string]struct{}{}}
	for _, obj := range []metav1.Object{before, after} {
		a.object(obj, before, after)
	}
	if u, ok := firstUser(before, after); ok {
		ix.seatNeighbours(u, before, after, a.out)
	}
	out := Affected{Users: slices.Sorted(maps.Keys(a.out))}
	ix.related(&out, before, after)
	return out
}

// affectedSet gathers the names of the users a change touches.
type affectedSet struct {
	ix  *Index
	out map[string]struct{}
}

// object adds the users one version of the changed object touches (see
// Index.Affected); before and after are the two versions.
func (a affectedSet) object(obj, before, after metav1.Object) {
	switch o := obj.(type) {
	case *iamv1alpha1.Group:
		var ldap []string
		for _, dn := range o.Spec.LDAPGroups {
			ldap = append(ldap, ldapdn.Normalize(dn))
		}
		a.members(o.Name, ldap)
	case *iamv1alpha1.Share:
		for _, g := range o.Spec.Grantees {
			a.grantee(string(g.Kind), g.Name)
		}
		if a.ix.soleNamer(o.Spec.Resource.Type, o.Spec.Resource.Name) {
			a.admins()
		}
	case *iamv1alpha1.ResourceGrant:
		for _, s := range o.Spec.Subjects {
			a.grantee(string(s.Kind), s.Name)
		}
		if a.ix.soleNamer(o.Spec.Resource.Type, o.Spec.Resource.Name) {
			a.admins()
		}
	case *iamv1alpha1.Connection:
		a.connection(o)
		if before == nil || after == nil {
			a.admins() // the resource appears or goes
		}
	case *iamv1alpha1.License:
		a.ix.licenseAffected(before, after, a.out)
	case *iamv1alpha1.User:
		a.out[o.Name] = struct{}{}
		// The users claiming the same identity, whose Ready names it.
		for _, u := range a.ix.identities[o.Spec.KubernetesIdentity()] {
			a.out[u.name] = struct{}{}
		}
	}
}

// members adds the users of a group (who would be, if it does not exist).
func (a affectedSet) members(group string, ldap []string) {
	a.ix.forMembers(group, ldap, func(u *userEntry) bool { a.out[u.name] = struct{}{}; return true })
}

// admins adds the members of every admin group.
func (a affectedSet) admins() {
	for g := range a.ix.adminGroups {
		a.members(g.name, g.ldap)
	}
}

// grantee adds the users a grantee or subject reaches.
func (a affectedSet) grantee(kind, name string) {
	switch kind {
	case string(iamv1alpha1.GranteeUser):
		a.out[name] = struct{}{}
	case string(iamv1alpha1.GranteeGroup):
		var ldap []string
		if g := a.ix.groups[name]; g != nil {
			ldap = g.ldap
		}
		a.members(name, ldap)
	case string(iamv1alpha1.GranteeOrganization):
		for _, u := range a.ix.orgUsers[name] {
			a.out[u.name] = struct{}{}
		}
	}
}

// connection adds the users a Connection's usableBy admits and those its
// Shares and ResourceGrants reach.
func (a affectedSet) connection(c *iamv1alpha1.Connection) {
	if ub := c.Spec.UsableBy; ub != nil {
		switch ub.Mode {
		case iamv1alpha1.AudienceAll:
			for n := range a.ix.users {
				a.out[n] = struct{}{}
			}
		case iamv1alpha1.AudienceGroups:
			for _, g := range ub.Groups {
				a.grantee(string(iamv1alpha1.GranteeGroup), g)
			}
		}
	}
	ti, ok := typeByName[iamv1alpha1.ResourceConnection]
	if !ok {
		return
	}
	r := a.ix.resources[resKey{ti, c.Name}]
	if r == nil {
		return
	}
	for _, s := range r.shares {
		for _, g := range s.grantees {
			a.grantee(string(g.kind), g.name)
		}
	}
	for _, e := range r.grants {
		for _, s := range e.subjects {
			a.grantee(string(s.Kind), s.Name)
		}
	}
}

// soleNamer reports whether an object naming a resource may be what makes
// it known to the namespace (it is not named yet, or named only once).
func (ix *Index) soleNamer(t iamv1alpha1.ResourceType, name string) bool {
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
		ix.seatFlips(prof, old, nu, out)
	}
}

// seatFlips adds, in one profile, the users at the last granted and first
// pending places before and after a user's entry moves from old to nu
// (either nil: absent from the order).
func (ix *Index) seatFlips(prof string, old, nu *userEntry, out map[string]struct{}) {
	pe := ix.profiles[prof]
	if pe == nil {
		return
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
	bi, ai := profileIndex(b), profileIndex(a)
	d := diffProfiles(b, a, bi, ai)
	for n, u := range ix.users {
		_, inB := bi[u.profile]
		_, inA := ai[u.profile]
		if d.changed[u.profile] || (d.namesChanged && (!inB || !inA)) {
			out[n] = struct{}{}
		}
	}
	for prof, from := range d.fromRank {
		if d.changed[prof] {
			continue
		}
		if l := ix.seatLists[prof]; l != nil {
			for k := from; k < len(l.users); k++ {
				out[l.users[k].name] = struct{}{}
			}
		}
	}
}

// profileIndex places each profile name of a License (its first entry).
func profileIndex(l *iamv1alpha1.License) map[string]int {
	m := make(map[string]int, len(l.Spec.Profiles))
	for i, p := range l.Spec.Profiles {
		if _, dup := m[p.Name]; !dup {
			m[p.Name] = i
		}
	}
	return m
}

// profileDiff is how a License's profiles changed: changed profiles touch
// every user of theirs, a seat count only the users from fromRank on; when
// the names changed, the users of profiles missing before or after too
// (their message lists the valid ones).
type profileDiff struct {
	changed      map[string]bool
	fromRank     map[string]int
	namesChanged bool
}

// diffProfiles compares the profiles of two Licenses, placed by bi and ai.
func diffProfiles(b, a *iamv1alpha1.License, bi, ai map[string]int) profileDiff {
	d := profileDiff{changed: map[string]bool{}, fromRank: map[string]int{}, namesChanged: len(bi) != len(ai)}
	for name, i := range bi {
		j, ok := ai[name]
		if !ok || i != j {
			d.namesChanged = true
			d.changed[name] = true
			continue
		}
		bp, ap := b.Spec.Profiles[i], a.Spec.Profiles[j]
		if bp.Seats != ap.Seats {
			d.fromRank[name] = int(min(bp.Seats, ap.Seats))
		}
		bp.Seats, ap.Seats = 0, 0
		if !equalProfile(bp, ap) {
			d.changed[name] = true
		}
	}
	for name := range ai {
		if _, ok := bi[name]; !ok {
			d.namesChanged = true
			d.changed[name] = true
		}
	}
	return d
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
