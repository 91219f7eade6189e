package access

import (
	"fmt"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

func conditionOf(typ, status, reason, message string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: metav1.ConditionStatus(status), Reason: reason, Message: message}
}

// forMembers calls fn for the users of a group: those listing it in
// spec.groups and those in one of its (normalised) directory groups; a user
// may come twice. The group need not exist: these are who would be its
// members. fn returns false to stop.
func (ix *Index) forMembers(group string, ldap []string, fn func(*userEntry) bool) {
	for _, u := range ix.localMembers[group] {
		if !fn(u) {
			return
		}
	}
	for _, dn := range ldap {
		for _, u := range ix.ldapMembers[dn] {
			if !fn(u) {
				return
			}
		}
	}
}

// countMembers counts the distinct active users of a group (its members),
// and the distinct inactive ones, who are not members: they hold no seat
// and get nothing through the group.
func (ix *Index) countMembers(sc *scratch, group string, ldap []string) (active, inactive int) {
	sc.next()
	ix.forMembers(group, ldap, func(u *userEntry) bool {
		if sc.users[u.id] != sc.epoch {
			sc.users[u.id] = sc.epoch
			if u.active {
				active++
			} else {
				inactive++
			}
		}
		return true
	})
	return active, inactive
}

// GroupMembers returns the number of active users of a Group, 0 for a group
// the Index does not hold.
func (ix *Index) GroupMembers(name string) int32 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	g := ix.groups[name]
	if g == nil {
		return 0
	}
	sc := ix.getScratch()
	defer ix.putScratch(sc)
	n, _ := ix.countMembers(sc, g.name, g.ldap)
	return int32(n)
}

// GroupReport is what a Group's status says: how many active users it has
// (its members), how many inactive ones would be members, and which of its
// ldapGroups entries no User's spec.directoryGroups names.
type GroupReport struct {
	Members int32
	// Inactive counts the inactive users listing the group or in one of
	// its directory groups; they are not members.
	Inactive int32
	// UnmatchedLDAPGroups are the spec.ldapGroups entries (as written) that
	// match no user, in spec order.
	UnmatchedLDAPGroups []string
}

// GroupReport returns the report of a Group the Index holds, nil if none.
func (ix *Index) GroupReport(name string) *GroupReport {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	g := ix.groups[name]
	if g == nil {
		return nil
	}
	sc := ix.getScratch()
	defer ix.putScratch(sc)
	active, inactive := ix.countMembers(sc, g.name, g.ldap)
	rep := &GroupReport{Members: int32(active), Inactive: int32(inactive)}
	for i, dn := range g.ldap {
		if len(ix.ldapMembers[dn]) == 0 {
			rep.UnmatchedLDAPGroups = append(rep.UnmatchedLDAPGroups, g.obj.Spec.LDAPGroups[i])
		}
	}
	return rep
}

// ShareReport returns the report of a Share the Index holds, nil if none.
func (ix *Index) ShareReport(name string) *ObjectReport {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if s := ix.shares[name]; s != nil {
		sc := ix.getScratch()
		defer ix.putScratch(sc)
		return ix.shareReport(sc, s)
	}
	return nil
}

// GrantReport returns the report of a ResourceGrant the Index holds, nil if
// none.
func (ix *Index) GrantReport(name string) *ObjectReport {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if g := ix.grants[name]; g != nil {
		sc := ix.getScratch()
		defer ix.putScratch(sc)
		return ix.grantReport(sc, g)
	}
	return nil
}

// reach counts into *n the active users a grantee or subject reaches that
// are not marked in sc's read yet (marking them), and returns a problem
// when it names nothing.
func (ix *Index) reach(sc *scratch, kind, name string, n *int) *Problem {
	add := func(u *userEntry) bool {
		if u.active && sc.users[u.id] != sc.epoch {
			sc.users[u.id] = sc.epoch
			*n++
		}
		return true
	}
	switch kind {
	case string(iamv1alpha1.GranteeUser):
		u := ix.users[name]
		if u == nil {
			return &Problem{iamv1alpha1.ReasonUnknownGrantee,
				fmt.Sprintf("User %q does not exist in this namespace: create it or remove it from the list.", name)}
		}
		add(u)
	case string(iamv1alpha1.GranteeGroup):
		g := ix.groups[name]
		if g == nil {
			return &Problem{iamv1alpha1.ReasonUnknownGrantee,
				fmt.Sprintf("Group %q does not exist in this namespace: create it or remove it from the list.", name)}
		}
		ix.forMembers(g.name, g.ldap, add)
	case string(iamv1alpha1.GranteeOrganization):
		us := ix.orgUsers[name]
		if len(us) == 0 {
			return &Problem{iamv1alpha1.ReasonUnknownGrantee,
				fmt.Sprintf("No User has organization %q: set it in a User's spec.organization or remove the grantee.", name)}
		}
		for _, u := range us {
			add(u)
		}
	default:
		return &Problem{iamv1alpha1.ReasonUnknownGrantee,
			fmt.Sprintf("Unknown kind %q for %q: use User, Group or Organization.", kind, name)}
	}
	return nil
}

func sortProblems(ps []Problem) []Problem {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Reason != ps[j].Reason {
			return ps[i].Reason < ps[j].Reason
		}
		return ps[i].Message < ps[j].Message
	})
	return ps
}

func (ix *Index) shareReport(sc *scratch, s *shareEntry) *ObjectReport {
	rep := &ObjectReport{}
	if s.res == nil {
		_, err := info(s.obj.Spec.Resource.Type)
		rep.Problems = []Problem{{iamv1alpha1.ReasonInvalidSpec, "The share gives nothing: " + err.Error() + "."}}
		return rep
	}
	sc.next()
	users := 0
	ti := typeInfos[s.res.key.typ]
	for _, g := range s.grantees {
		if !g.valid {
			rep.Problems = append(rep.Problems, Problem{iamv1alpha1.ReasonUnknownRole,
				fmt.Sprintf("%s %s gets nothing: %v.", g.kind, g.name, ti.validRole(g.role))})
			continue
		}
		if p := ix.reach(sc, string(g.kind), g.name, &users); p != nil {
			rep.Problems = append(rep.Problems, *p)
		}
	}
	rep.Users = int32(users)
	rep.Problems = sortProblems(rep.Problems)
	return rep
}

func (ix *Index) grantReport(sc *scratch, g *grantEntry) *ObjectReport {
	rep := &ObjectReport{}
	if g.res == nil {
		_, err := info(g.obj.Spec.Resource.Type)
		rep.Problems = []Problem{{iamv1alpha1.ReasonInvalidSpec, "The grant gives nothing: " + err.Error() + "."}}
		return rep
	}
	ti := typeInfos[g.res.key.typ]
	for _, perm := range g.obj.Spec.Permissions {
		if _, ok := ti.index[perm]; !ok {
			rep.Problems = append(rep.Problems, Problem{iamv1alpha1.ReasonUnknownPermission,
				fmt.Sprintf("The grant gives nothing until this is fixed: %v.", ti.unknownPermission(perm))})
		}
	}
	sc.next()
	users := 0
	for _, s := range g.subjects {
		if p := ix.reach(sc, string(s.Kind), s.Name, &users); p != nil {
			rep.Problems = append(rep.Problems, *p)
		}
	}
	if g.valid {
		rep.Users = int32(users)
	}
	rep.Problems = sortProblems(rep.Problems)
	return rep
}
