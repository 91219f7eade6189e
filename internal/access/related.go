package access

import (
	"maps"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/ldapdn"
)

// related fills in the objects other than users that a change touches (see
// Affected); a.Users is already set. It reads only the Index's entries of
// the other kinds, which the change itself does not move, so it gives the
// same answer before and after the change is applied. ix.mu is held.
func (ix *Index) related(a *Affected, before, after metav1.Object) {
	var r relatedSet
	changedGroup := ""
	// readers are the touched users whose standing a Connection reads
	// (activity, seat, groups, identity, administrator rights): none for a
	// Share, ResourceGrant or Connection, which change what users hold but
	// not that.
	var readers []string
	switch cur := firstObject(before, after).(type) {
	case *iamv1alpha1.User:
		ou, _ := before.(*iamv1alpha1.User)
		nu, _ := after.(*iamv1alpha1.User)
		ix.userRelated(&r, a, cur.Name, ou, nu)
		if StandingChanged(ou, nu) {
			readers = a.Users
		}
	case *iamv1alpha1.Group:
		changedGroup = cur.Name
		r.groups.add(cur.Name)
		ix.groupNamers(&r, cur.Name)
		readers = a.Users
	case *iamv1alpha1.Share:
		r.shares.add(cur.Name)
	case *iamv1alpha1.ResourceGrant:
		r.grants.add(cur.Name)
	case *iamv1alpha1.Connection:
		r.conns.add(cur.Name)
	case *iamv1alpha1.License:
		a.Licenses = true
		readers = a.Users
	case nil:
		// The clock moved (SetNow): seats come and go.
		readers = a.Users
	}
	ix.connectionsTouched(&r, readers, changedGroup, before, after)
	a.Groups = namesOf(r.groups)
	a.Shares = namesOf(r.shares)
	a.ResourceGrants = namesOf(r.grants)
	a.Connections = namesOf(r.conns)
}

// relatedSet gathers the names of the objects of each kind a change
// touches; a set is made when its first name comes (most changes touch
// one or two kinds).
type relatedSet struct {
	groups, shares, grants, conns set[string]
}

// add adds name to the set, making the set first.
func (s *set[T]) add(name T) {
	if *s == nil {
		*s = set[T]{}
	}
	(*s)[name] = struct{}{}
}

func namesOf(s set[string]) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(s))
}

// firstObject returns before, or after when before is nil (both are already
// free of typed nils).
func firstObject(before, after metav1.Object) metav1.Object {
	if before != nil {
		return before
	}
	return after
}

// userRelated adds what the change of User name (ou → nu, either nil) touches
// besides users: its License when it takes or frees a seat; its Groups'
// member counts when its membership or activity changes; the Shares and
// ResourceGrants naming it, one of its Groups or its organization when what
// they reach changes.
func (ix *Index) userRelated(r *relatedSet, a *Affected, name string, ou, nu *iamv1alpha1.User) {
	a.Licenses = SeatCountChanged(ou, nu)
	groups := set[string]{}
	ix.addGroupsOf(groups, ou)
	ix.addGroupsOf(groups, nu)
	if MemberCountChanged(ou, nu) {
		for g := range groups {
			r.groups.add(g)
		}
	}
	if !ReachChanged(ou, nu) {
		return
	}
	for _, s := range ix.sharesByUser[name] {
		r.shares.add(s.name)
	}
	for _, g := range ix.grantsByUser[name] {
		r.grants.add(g.e.name)
	}
	for g := range groups {
		ix.groupNamers(r, g)
	}
	for _, u := range []*iamv1alpha1.User{ou, nu} {
		if u == nil || u.Spec.Organization == "" {
			continue
		}
		for _, s := range ix.sharesByOrg[u.Spec.Organization] {
			r.shares.add(s.name)
		}
	}
}

// addGroupsOf adds the Groups the Index holds that u belongs to: those its
// spec.groups lists and those mapping one of its directory groups.
func (ix *Index) addGroupsOf(out set[string], u *iamv1alpha1.User) {
	if u == nil {
		return
	}
	for _, g := range u.Spec.Groups {
		if ix.groups[g] != nil {
			out[g] = struct{}{}
		}
	}
	for _, dn := range u.Spec.DirectoryGroups {
		for _, g := range ix.ldapGroups[ldapdn.Normalize(dn)] {
			out[g.name] = struct{}{}
		}
	}
}

// groupNamers adds the Shares and ResourceGrants that name group.
func (ix *Index) groupNamers(r *relatedSet, group string) {
	for _, s := range ix.sharesByGroup[group] {
		r.shares.add(s.name)
	}
	for _, g := range ix.grantsByGroup[group] {
		r.grants.add(g.e.name)
	}
}

// connectionsTouched adds the Connections whose status or RBAC a change
// touching users (and changing group, when not empty) may change: those
// naming the group in usableBy or detailsReadableBy; when users are
// touched, those whose detailsReadableBy reaches one of them (All, or one
// of their groups) and every Connection with per-user credentials (its
// counts and per-user bindings read every user's activity, seat and
// administrator rights, and a user may hold a credential for any of them).
func (ix *Index) connectionsTouched(r *relatedSet, users []string, group string, before, after metav1.Object) {
	var userGroups set[string] // the touched users' groups, computed once if needed
	for name, c := range ix.conns {
		if _, ok := r.conns[name]; ok {
			continue
		}
		details := c.obj.Spec.DetailsReadableBy
		if group != "" && (slices.Contains(c.groups, group) || (details != nil && slices.Contains(details.Groups, group))) {
			r.conns.add(name)
			continue
		}
		if len(users) == 0 {
			continue
		}
		if c.obj.Spec.Credentials.Mode == iamv1alpha1.CredentialModePerUser {
			r.conns.add(name)
			continue
		}
		if details == nil {
			continue
		}
		switch details.Mode {
		case iamv1alpha1.AudienceAll:
			r.conns.add(name)
		case iamv1alpha1.AudienceGroups:
			if userGroups == nil {
				userGroups = ix.groupsOfUsers(users, before, after)
			}
			for _, g := range details.Groups {
				if _, ok := userGroups[g]; ok {
					r.conns.add(name)
					break
				}
			}
		}
	}
}

// groupsOfUsers returns the groups of the named users as the Index holds
// them, and of a changed User's two versions (a new User is not held yet).
func (ix *Index) groupsOfUsers(users []string, before, after metav1.Object) set[string] {
	out := set[string]{}
	for _, n := range users {
		u := ix.users[n]
		if u == nil {
			continue
		}
		for _, g := range u.groups {
			out[g] = struct{}{}
		}
		for _, dn := range u.dirGroups {
			for _, g := range ix.ldapGroups[dn] {
				out[g.name] = struct{}{}
			}
		}
	}
	for _, o := range []metav1.Object{before, after} {
		if u, ok := o.(*iamv1alpha1.User); ok {
			ix.addGroupsOf(out, u)
		}
	}
	return out
}

// Merge adds what b touches to a, keeping each list sorted and unique.
func (a *Affected) Merge(b Affected) {
	a.Users = mergeSorted(a.Users, b.Users)
	a.Groups = mergeSorted(a.Groups, b.Groups)
	a.Shares = mergeSorted(a.Shares, b.Shares)
	a.ResourceGrants = mergeSorted(a.ResourceGrants, b.ResourceGrants)
	a.Connections = mergeSorted(a.Connections, b.Connections)
	a.Licenses = a.Licenses || b.Licenses
}

func mergeSorted(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return b
	}
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}
