package access

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// This file holds CheckShare's rules as a chain: each rule judges one
// aspect of a Share change and returns a violation or nil; the first
// violation wins. The order is part of the contract (an invalid Share is
// reported as such before the requester's rights, rule 1 before rule 2…).

// shareRule is one link of the chain. A rule judges the first Share of a
// resource (which creates it), a change of a shared one, or both.
type shareRule struct {
	name               string
	creating, changing bool
	check              func(*shareJudgement) *Violation
}

// shareRules is CheckShare's chain, in order.
var shareRules = []shareRule{
	{"validRoles", true, true, (*shareJudgement).validRoles},
	{"requesterSeated", true, true, (*shareJudgement).requesterSeated},
	{"granteesExist", true, true, (*shareJudgement).granteesExist},
	{"firstShare", true, false, (*shareJudgement).firstShare},
	{"rightToShare", false, true, (*shareJudgement).rightToShare},
	{"withinOwnAccess", false, true, (*shareJudgement).withinOwnAccess},
	{"noneAboveRemoved", false, true, (*shareJudgement).noneAboveRemoved},
	{"keepsOwner", false, true, (*shareJudgement).keepsOwner},
	{"keepsSharer", false, true, (*shareJudgement).keepsSharer},
}

type granteeKey struct {
	kind iamv1alpha1.GranteeKind
	name string
}

// shareJudgement is a Share change being judged, with what the rules read:
// the resource, the grantees before and after, those added or raised, and
// what the requester holds. ix.mu is held while it is judged.
type shareJudgement struct {
	ix       *Index
	req      Requester
	ti       *typeInfo
	ref      iamv1alpha1.ResourceRef
	resName  string
	res      *resEntry // nil: the change creates the resource
	name     string    // the Share's
	old, nu  []iamv1alpha1.Grantee
	oldBy    map[granteeKey]iamv1alpha1.Grantee
	newBy    map[granteeKey]iamv1alpha1.Grantee
	raised   []iamv1alpha1.Grantee // added or raised, in spec order
	me       requesterAccess
	computed bool    // me is computed
	keep     [4]bool // keeping's answers, once kept
	kept     bool
}

// newShareJudgement gathers what the rules read; ti is the resource type's.
func (ix *Index) newShareJudgement(before, after *iamv1alpha1.Share, req Requester, ti *typeInfo) *shareJudgement {
	j := &shareJudgement{ix: ix, req: req, ti: ti, ref: shareRef(before, after),
		oldBy: map[granteeKey]iamv1alpha1.Grantee{}, newBy: map[granteeKey]iamv1alpha1.Grantee{}}
	j.resName = j.ref.String()
	j.res = ix.resources[resKey{typeByName[j.ref.Type], j.ref.Name}]
	if before != nil {
		j.old, j.name = before.Spec.Grantees, before.Name
	}
	if after != nil {
		j.nu, j.name = after.Spec.Grantees, after.Name
	}
	for _, g := range j.old {
		j.oldBy[granteeKey{g.Kind, g.Name}] = g
	}
	for _, g := range j.nu {
		j.newBy[granteeKey{g.Kind, g.Name}] = g
	}
	for _, g := range j.nu {
		o, had := j.oldBy[granteeKey{g.Kind, g.Name}]
		if !had || roleRank(g.Role) > roleRank(o.Role) || (g.CanUseData && !o.CanUseData) || (g.AllowSharing && !o.AllowSharing) {
			j.raised = append(j.raised, g)
		}
	}
	return j
}

// judge runs the chain: the rules for a creation or for a change, in
// order, until one finds a violation.
func (j *shareJudgement) judge(rules []shareRule) *Violation {
	creating := j.res == nil
	for _, r := range rules {
		if (creating && !r.creating) || (!creating && !r.changing) {
			continue
		}
		if v := r.check(j); v != nil {
			return v
		}
	}
	return nil
}

// requester is what the requester holds on the resource, computed once.
func (j *shareJudgement) requester() requesterAccess {
	if !j.computed {
		sc := j.ix.getScratch()
		j.me = j.ix.requesterOn(sc, j.req.User, j.res)
		j.ix.putScratch(sc)
		j.computed = true
	}
	return j.me
}

func (j *shareJudgement) isSelf(g iamv1alpha1.Grantee) bool {
	return g.Kind == iamv1alpha1.GranteeUser && g.Name == j.req.User
}

// standing says the requester's role on the resource, for messages: the
// role ("no role" when none) and a sentence.
func (j *shareJudgement) standing() (myRole, standing string) {
	myRole = string(rankRoles[j.requester().rank])
	if myRole == "" {
		return "no role", fmt.Sprintf("%s has no role on %s", j.req.User, j.resName)
	}
	return myRole, fmt.Sprintf("%s is %s on %s", j.req.User, myRole, j.resName)
}

// validRoles: every grantee's role exists for the type (rule 0).
func (j *shareJudgement) validRoles() *Violation {
	for _, g := range j.nu {
		if err := j.ti.validRole(g.Role); err != nil {
			return violation(0, "The share is invalid: %v (grantee %s %s).", err, g.Kind, g.Name)
		}
	}
	return nil
}

// requesterSeated: only an existing, active, seated User shares (rule 2).
func (j *shareJudgement) requesterSeated() *Violation {
	me := j.requester()
	if !me.exists {
		return violation(2, "%s is not a User of this namespace and cannot share %s (rule 2: share only as Owner or with allowSharing); ask an administrator.", j.req.User, j.resName)
	}
	if !me.seated {
		return violation(2, "%s holds no seat (it is inactive, or waits Pending for one), so it has no sharing rights on %s (rule 2); ask an administrator for a seat, or ask %s.",
			j.req.User, j.resName, j.ix.ownersOrAdmin(j.res))
	}
	return nil
}

// granteesExist is rule 1 for every grantee added or raised, also one
// listed before.
func (j *shareJudgement) granteesExist() *Violation {
	for _, g := range j.raised {
		if v := j.ix.checkGranteeExists(g.Kind, g.Name, j.resName); v != nil {
			return v
		}
	}
	return nil
}

// firstShare judges the Share that creates the resource (checkFirstShare).
func (j *shareJudgement) firstShare() *Violation {
	return j.ix.checkFirstShare(j.ti, j.ref, j.nu, j.requester(), j.req.User)
}

// rightToShare is rule 2: the right to share, per type and kind of change
// (adding, changing or removing a grantee other than oneself).
func (j *shareJudgement) rightToShare() *Violation {
	var ops [3]bool
	for _, g := range j.nu {
		if o, had := j.oldBy[granteeKey{g.Kind, g.Name}]; !had {
			ops[shareAdd] = true
		} else if o != g && !j.isSelf(o) {
			ops[shareChange] = true
		}
	}
	for k, o := range j.oldBy {
		if _, kept := j.newBy[k]; !kept && !j.isSelf(o) {
			ops[shareRemove] = true
		}
	}
	me := j.requester()
	for op, needed := range ops {
		if needed && !me.admin && !j.ti.mayShare(op, me) {
			_, standing := j.standing()
			return violation(2, "%s and cannot change who it is shared with: %s (rule 2: only those who may share a resource share it); ask %s.",
				standing, j.ti.shareRight(op), j.ix.owners(j.res))
		}
	}
	return nil
}

// withinOwnAccess is rule 2: what is added or raised stays within the
// requester's own role and access (canUseData only with data access).
func (j *shareJudgement) withinOwnAccess() *Violation {
	raised := slices.Clone(j.raised)
	sort.Slice(raised, func(a, b int) bool { return raised[a].Name < raised[b].Name })
	me, ti := j.requester(), j.ti
	for _, g := range raised {
		if roleRank(g.Role) > me.rank {
			myRole, standing := j.standing()
			return violation(2, "%s and cannot grant %s to %s %s (rule 2: share only up to your own role); grant %s at most, or ask %s for a higher role.",
				standing, g.Role, g.Kind, g.Name, myRole, j.ix.owners(j.res))
		}
		gives := ti.roleSet(roleRank(g.Role), g.CanUseData && ti.data)
		if missing := gives &^ me.preGate; missing != 0 {
			what := "grant " + string(g.Role)
			if g.CanUseData && ti.data {
				what += " with canUseData"
			}
			return violation(2, "%s cannot %s to %s %s on %s: it does not hold %s itself (rule 2: share only up to your own role and access); grant less, or ask %s.",
				j.req.User, what, g.Kind, g.Name, j.resName, strings.Join(permStrings(ti.namesOf(missing)), ", "), j.ix.owners(j.res))
		}
	}
	return nil
}

// noneAboveRemoved is rule 3: nobody above the requester is downgraded or
// removed (leaving oneself is always allowed).
func (j *shareJudgement) noneAboveRemoved() *Violation {
	me := j.requester()
	// In a fixed order, so that the collaborator named is the same on
	// every try.
	keys := slices.SortedFunc(maps.Keys(j.oldBy), func(a, b granteeKey) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.name, b.name))
	})
	for _, k := range keys {
		o := j.oldBy[k]
		n, kept := j.newBy[k]
		if kept && roleRank(n.Role) >= roleRank(o.Role) && (n.CanUseData || !o.CanUseData) && (n.AllowSharing || !o.AllowSharing) {
			continue
		}
		if j.isSelf(o) || roleRank(o.Role) <= me.rank || me.admin {
			continue
		}
		verb := "remove"
		if kept {
			verb = "downgrade"
		}
		myRole, _ := j.standing()
		return violation(3, "%s %s is %s on %s, above %s's %s, so %s cannot %s it (rule 3: never downgrade or remove a collaborator above your own role); ask %s.",
			o.Kind, o.Name, o.Role, j.resName, j.req.User, myRole, j.req.User, verb, j.ix.owners(j.res))
	}
	return nil
}

// keeping returns, before and after the change, whether some Owner grantee
// reaches an active user and whether some active, seated user can share
// (keepers), computed once.
func (j *shareJudgement) keeping() (ownerBefore, ownerAfter, sharerBefore, sharerAfter bool) {
	if !j.kept {
		j.keep[0], j.keep[2] = j.ix.keepers(j.res, "", nil, j.ti)
		j.keep[1], j.keep[3] = j.ix.keepers(j.res, j.name, j.nu, j.ti)
		j.kept = true
	}
	return j.keep[0], j.keep[1], j.keep[2], j.keep[3]
}

// keepsOwner is rule 4: a resource that had an Owner reaching an active
// user keeps one.
func (j *shareJudgement) keepsOwner() *Violation {
	if before, after, _, _ := j.keeping(); before && !after {
		return violation(4, "%s would be left without an Owner (rule 4: every shared resource keeps at least one Owner); make another active user Owner first, then leave or change this one.", j.resName)
	}
	return nil
}

// keepsSharer is rule 5: a dataset or connection that had an active,
// seated user who can share keeps one.
func (j *shareJudgement) keepsSharer() *Violation {
	if !j.ti.data {
		return nil
	}
	if _, _, before, after := j.keeping(); before && !after {
		return violation(5, "%s would be left with nobody who can share it (rule 5: a dataset or connection keeps at least one user who can share); give another active user Owner or allowSharing first.", j.resName)
	}
	return nil
}
