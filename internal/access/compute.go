package access

import (
	"fmt"
	"sort"
	"strings"
	"time"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// Snapshot is everything of one namespace that decides who may do what.
// Now is the time the License's expiry is judged by.
type Snapshot struct {
	Now            time.Time
	License        *iamv1alpha1.License
	Users          []iamv1alpha1.User
	Groups         []iamv1alpha1.Group
	Connections    []iamv1alpha1.Connection
	ResourceGrants []iamv1alpha1.ResourceGrant
	Shares         []iamv1alpha1.Share
}

// Result is the computed state of a namespace: what goes into the status of
// every User, the License, every Share, ResourceGrant and Group.
//
// Slices in a Result may share backing arrays with each other (one
// permission list per distinct set): treat them as read-only, and DeepCopy
// what you modify.
type Result struct {
	// Users by User object name.
	Users map[string]*UserResult
	// Profiles is the seat use of each License profile, in License order.
	Profiles []iamv1alpha1.ProfileStatus
	// Shares and Grants report each Share and ResourceGrant by name.
	Shares map[string]*ObjectReport
	Grants map[string]*ObjectReport
	// GroupMembers is the number of users of each Group, by name.
	GroupMembers map[string]int32
}

// UserNames returns the names of the users of the result, sorted.
func (r *Result) UserNames() []string {
	out := make([]string, 0, len(r.Users))
	for n := range r.Users {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// UserResult is one user's computed state.
type UserResult struct {
	// Name is the User object's name, Login its spec.login.
	Name  string
	Login string
	// Profile is spec.profile.
	Profile string
	// Groups are the user's existing groups, local and directory-mapped,
	// sorted; UnknownGroups the spec.groups that name no Group.
	Groups        []string
	UnknownGroups []string
	// Seat with the reason and message of the Licensed condition.
	Seat        iamv1alpha1.SeatState
	SeatReason  string
	SeatMessage string
	// GlobalPermissions are the effective global permissions, sorted.
	GlobalPermissions []iamv1alpha1.GlobalPermission
	// Resources are every resource the user reaches, sorted by type then
	// name.
	Resources []iamv1alpha1.ResourceAccess
}

// MaxStatusResources is how many resources User.status lists at most.
const MaxStatusResources = 1000

// Status returns the user's status as the operator writes it, with the
// Licensed condition (no transition time: the caller's SetStatusCondition
// keeps it) and resources cut at MaxStatusResources.
func (u *UserResult) Status() iamv1alpha1.UserStatus {
	st := iamv1alpha1.UserStatus{
		Groups:            u.Groups,
		Seat:              u.Seat,
		GlobalPermissions: u.GlobalPermissions,
		Resources:         u.Resources,
		ResourceCount:     int32(len(u.Resources)),
	}
	if len(st.Resources) > MaxStatusResources {
		st.Resources = st.Resources[:MaxStatusResources]
		st.ResourcesTruncated = true
	}
	cond := "False"
	if u.Seat == iamv1alpha1.SeatGranted {
		cond = "True"
	}
	st.Conditions = append(st.Conditions, conditionOf(iamv1alpha1.ConditionLicensed, cond, u.SeatReason, u.SeatMessage))
	return st
}

// Find returns the user's access to a resource, nil if none.
func (u *UserResult) Find(ref iamv1alpha1.ResourceRef) *iamv1alpha1.ResourceAccess {
	i := sort.Search(len(u.Resources), func(i int) bool {
		r := u.Resources[i]
		return r.Type > ref.Type || (r.Type == ref.Type && r.Name >= ref.Name)
	})
	if i < len(u.Resources) && u.Resources[i].Type == ref.Type && u.Resources[i].Name == ref.Name {
		return &u.Resources[i]
	}
	return nil
}

// ObjectReport is what a Share's or ResourceGrant's status says: how many
// users it reaches and what is wrong with it.
type ObjectReport struct {
	// Users is the number of active users the valid parts reach (whether or
	// not they hold a seat).
	Users int32
	// Problems are the invalid parts, sorted; empty when the object is
	// valid.
	Problems []Problem
}

// Problem is one invalid part of an object: a condition reason
// (UnknownPermission, UnknownRole, UnknownGrantee, InvalidSpec) and a
// sentence that says what to do.
type Problem struct {
	Reason  string
	Message string
}

// Compute computes the whole namespace: every user, the License's seat use,
// and the reports of every Share and ResourceGrant. It is deterministic: the
// order of the snapshot's slices does not matter.
func Compute(s Snapshot) *Result {
	ix := NewIndex(s)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	res := &Result{
		Users:        make(map[string]*UserResult, len(ix.users)),
		Shares:       make(map[string]*ObjectReport, len(ix.shares)),
		Grants:       make(map[string]*ObjectReport, len(ix.grants)),
		GroupMembers: make(map[string]int32, len(ix.groups)),
		Profiles:     ix.profileStatus(),
	}
	for name, u := range ix.users {
		res.Users[name] = ix.computeUser(u)
	}
	for name, s := range ix.shares {
		res.Shares[name] = ix.shareReport(s)
	}
	for name, g := range ix.grants {
		res.Grants[name] = ix.grantReport(g)
	}
	for name, g := range ix.groups {
		res.GroupMembers[name] = int32(len(ix.members(g.name, g.ldap)))
	}
	return res
}

// ComputeUser computes one user from the indexes: the work is proportional
// to what the user touches (its groups, the shares, grants and connections
// reaching it, and for an administrator every known resource). It returns
// nil for a user the Index does not hold.
func (ix *Index) ComputeUser(name string) *UserResult {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	u := ix.users[name]
	if u == nil {
		return nil
	}
	return ix.computeUser(u)
}

// Profiles returns the seat use of each License profile, in License order.
func (ix *Index) Profiles() []iamv1alpha1.ProfileStatus {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.profileStatus()
}

// acc accumulates one resource's access for the user in computation.
type acc struct {
	res      *resEntry
	rank     int
	perms    PermissionSet
	canShare bool
	admitted bool // a Connection's usableBy admits the user
	// head is the first of the resource's vias in ix.vias, chained through
	// ix.viaNext (-1 ends); nvia counts them.
	head, nvia int32
	// Filled in when the resource is finished: the capped role rank, the
	// capped permissions before the usableBy gate, and the final ones.
	capped         int
	preGate, final PermissionSet
}

// userGroups returns the user's existing groups, sorted, and the
// spec.groups naming no Group, sorted. It marks the groups with ix.epoch.
func (ix *Index) userGroups(u *userEntry) ([]*groupEntry, []string) {
	gs := ix.grpBuf[:0]
	var unknown []string
	add := func(g *groupEntry) {
		if g.epoch != ix.epoch {
			g.epoch = ix.epoch
			gs = append(gs, g)
		}
	}
	for _, name := range u.groups {
		if g := ix.groups[name]; g != nil {
			add(g)
		} else {
			unknown = append(unknown, name)
		}
	}
	for _, dn := range u.dirGroups {
		for g := range ix.ldapGroups[dn] {
			add(g)
		}
	}
	sort.Slice(gs, func(i, j int) bool { return gs[i].name < gs[j].name })
	sort.Strings(unknown)
	ix.grpBuf = gs
	return gs, dedupSorted(unknown)
}

func dedupSorted(s []string) []string {
	if len(s) < 2 {
		return s
	}
	out := s[:1]
	for _, v := range s[1:] {
		if v != out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}

// computeUser computes one user; ix.mu is held.
func (ix *Index) computeUser(u *userEntry) *UserResult {
	ix.epoch++
	groups, unknown := ix.userGroups(u)
	r := &UserResult{Name: u.name, Login: u.obj.Spec.Login, Profile: u.profile, UnknownGroups: unknown}
	if len(groups) > 0 {
		r.Groups = make([]string, len(groups))
		for i, g := range groups {
			r.Groups[i] = g.name
		}
	}
	r.Seat, r.SeatReason, r.SeatMessage = ix.seat(u)
	if r.Seat != iamv1alpha1.SeatGranted {
		return r
	}
	prof := ix.profiles[u.profile]

	// Global permissions: union over groups, within the profile, expanded,
	// within the profile again.
	var global GlobalSet
	for _, g := range groups {
		global |= g.global
	}
	global = ExpandGlobal(global&prof.global) & prof.global
	r.GlobalPermissions = GlobalNames(global)
	admin := global&adminBit != 0

	ix.accs = ix.accs[:0]
	ix.vias = ix.vias[:0]
	ix.viaNext = ix.viaNext[:0]
	slot := func(res *resEntry) *acc {
		if res.accEpoch != ix.epoch {
			res.accEpoch = ix.epoch
			res.accSlot = int32(len(ix.accs))
			ix.accs = append(ix.accs, acc{res: res, head: -1})
		}
		return &ix.accs[res.accSlot]
	}
	addVia := func(a *acc, v iamv1alpha1.AccessVia) {
		ix.viaNext = append(ix.viaNext, a.head)
		a.head = int32(len(ix.vias))
		a.nvia++
		ix.vias = append(ix.vias, v)
	}

	// Shares naming the user, one of its groups or its organization.
	visitShare := func(s *shareEntry) {
		if s.epoch == ix.epoch || s.res == nil {
			return
		}
		s.epoch = ix.epoch
		for i := range s.grantees {
			g := &s.grantees[i]
			if !g.valid || !ix.granteeMatches(g.kind, g.name, u) {
				continue
			}
			a := slot(s.res)
			if g.rank > a.rank {
				a.rank = g.rank
			}
			a.perms |= g.perms
			a.canShare = a.canShare || g.allowSharing || g.rank == rankOwner
			addVia(a, iamv1alpha1.AccessVia{Kind: iamv1alpha1.ViaShare, Name: s.name, Subject: g.subject, Role: g.role})
		}
	}
	for s := range ix.sharesByUser[u.name] {
		visitShare(s)
	}
	for _, g := range groups {
		for s := range ix.sharesByGroup[g.name] {
			visitShare(s)
		}
	}
	if u.org != "" {
		for s := range ix.sharesByOrg[u.org] {
			visitShare(s)
		}
	}

	// ResourceGrants for the user or one of its groups.
	visitGrant := func(e *grantEntry, subject string) {
		if e.res == nil || !e.valid {
			return
		}
		a := slot(e.res)
		a.perms |= e.perms
		addVia(a, iamv1alpha1.AccessVia{Kind: iamv1alpha1.ViaResourceGrant, Name: e.name, Subject: subject,
			Permissions: ix.names.names(e.res.key.typ, e.perms)})
	}
	for e := range ix.grantsByUser[u.name] {
		visitGrant(e, "user")
	}
	for _, g := range groups {
		for e := range ix.grantsByGroup[g.name] {
			visitGrant(e, "group/"+g.name)
		}
	}

	// Connections whose usableBy admits the user.
	conTI := typeByName[iamv1alpha1.ResourceConnection]
	viewUse, _ := typeInfos[conTI].parse([]iamv1alpha1.Permission{"view", "use"})
	useBit, _ := typeInfos[conTI].parse([]iamv1alpha1.Permission{"use"})
	admit := func(c *connEntry, subject string) {
		a := slot(c.res)
		a.admitted = true
		a.perms |= viewUse
		addVia(a, iamv1alpha1.AccessVia{Kind: iamv1alpha1.ViaConnection, Name: c.name, Subject: subject,
			Permissions: ix.names.names(conTI, viewUse)})
	}
	for c := range ix.connsAll {
		admit(c, "")
	}
	for _, g := range groups {
		for c := range ix.connsByGroup[g.name] {
			admit(c, "group/"+g.name)
		}
	}

	// admin: Owner on every resource the namespace knows of.
	if admin {
		for _, res := range ix.resources {
			a := slot(res)
			a.rank = rankOwner
			a.perms |= typeInfos[res.key.typ].all
			a.canShare = true
			a.admitted = true
			for _, g := range groups {
				if g.global&adminBit != 0 {
					addVia(a, iamv1alpha1.AccessVia{Kind: iamv1alpha1.ViaAdmin, Name: g.name, Subject: "group/" + g.name, Role: iamv1alpha1.RoleOwner})
				}
			}
		}
	}

	// The usableBy gate and the profile cap, then the result.
	r.Resources = make([]iamv1alpha1.ResourceAccess, len(ix.accs))
	viaOut := make([]iamv1alpha1.AccessVia, len(ix.vias))
	vi := 0
	for i := range ix.accs {
		a := &ix.accs[i]
		ti := typeInfos[a.res.key.typ]
		perms := a.perms
		a.preGate = perms
		if a.res.key.typ == conTI && !a.admitted {
			perms &^= useBit
		}
		ra := &r.Resources[i]
		ra.Type, ra.Name = ti.t, a.res.key.name
		capRank := ti.capRank(prof.maxRank)
		capSet := ti.role[capRank][1]
		rank := a.rank
		var roleBefore iamv1alpha1.Role
		if rank > capRank {
			roleBefore = rankRoles[rank]
			rank = capRank
		}
		ra.Role = rankRoles[rank]
		a.capped, a.preGate, a.final = rank, a.preGate&capSet, perms&capSet
		removed := perms &^ capSet
		ra.Permissions = ix.names.names(a.res.key.typ, perms&capSet)
		if roleBefore != "" || removed != 0 {
			ra.CappedBy = &iamv1alpha1.AccessCap{Profile: prof.name, MaxRole: prof.maxRole, RoleBefore: roleBefore,
				Removed: ix.names.names(a.res.key.typ, removed)}
		}
		start := vi
		for j := a.head; j >= 0; j = ix.viaNext[j] {
			viaOut[vi] = ix.vias[j]
			vi++
		}
		ra.Via = viaOut[start:vi:vi]
		sortVias(ra.Via)
	}
	sort.Slice(r.Resources, func(i, j int) bool {
		a, b := &r.Resources[i], &r.Resources[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Name < b.Name
	})
	if len(r.Resources) == 0 {
		r.Resources = nil
	}
	return r
}

// granteeMatches reports whether a grantee names u, one of u's groups (as
// marked by userGroups) or u's organization.
func (ix *Index) granteeMatches(kind iamv1alpha1.GranteeKind, name string, u *userEntry) bool {
	switch kind {
	case iamv1alpha1.GranteeUser:
		return name == u.name
	case iamv1alpha1.GranteeGroup:
		g := ix.groups[name]
		return g != nil && g.epoch == ix.epoch
	case iamv1alpha1.GranteeOrganization:
		return u.org != "" && name == u.org
	}
	return false
}

func sortVias(v []iamv1alpha1.AccessVia) {
	if len(v) < 2 {
		return
	}
	sort.Slice(v, func(i, j int) bool {
		a, b := &v[i], &v[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Subject != b.Subject {
			return a.Subject < b.Subject
		}
		return a.Role < b.Role
	})
}

// seat decides the user's seat with the Licensed condition's reason and
// message.
func (ix *Index) seat(u *userEntry) (iamv1alpha1.SeatState, string, string) {
	login := u.obj.Spec.Login
	if login == "" {
		login = u.name
	}
	switch {
	case !u.active:
		return iamv1alpha1.SeatNone, iamv1alpha1.ReasonInactive,
			fmt.Sprintf("%s is inactive and holds no seat; set spec.active to true to give the user a seat again.", login)
	case ix.license == nil:
		return iamv1alpha1.SeatNone, iamv1alpha1.ReasonNoLicense,
			fmt.Sprintf("There is no License in this namespace, so %s holds no seat; apply a License with a profile for the user.", login)
	case ix.expired():
		return iamv1alpha1.SeatNone, iamv1alpha1.ReasonLicenseExpired,
			fmt.Sprintf("The License expired at %s, so no user holds a seat; renew it by moving spec.expiresAt into the future.",
				ix.license.Spec.ExpiresAt.UTC().Format(time.RFC3339))
	}
	prof := ix.profiles[u.profile]
	if prof == nil {
		valid := make([]string, len(ix.license.Spec.Profiles))
		for i, p := range ix.license.Spec.Profiles {
			valid[i] = p.Name
		}
		if u.profile == "" {
			return iamv1alpha1.SeatNone, iamv1alpha1.ReasonProfileUnknown,
				fmt.Sprintf("%s has no profile; set spec.profile to one of the License's profiles: %s.", login, strings.Join(valid, ", "))
		}
		return iamv1alpha1.SeatNone, iamv1alpha1.ReasonProfileUnknown,
			fmt.Sprintf("Profile %q is not in the License; set spec.profile to one of %s, or add the profile to the License.", u.profile, strings.Join(valid, ", "))
	}
	if ix.seatLists[u.profile].rank(u) < prof.seats {
		return iamv1alpha1.SeatGranted, iamv1alpha1.ReasonSeatGranted,
			fmt.Sprintf("%s holds one of the %d seats of profile %s.", login, prof.seats, prof.name)
	}
	return iamv1alpha1.SeatPending, iamv1alpha1.ReasonSeatLimitReached,
		fmt.Sprintf("All %d of %d seats of profile %s are taken; %s waits for a seat in order of creation. Add seats to the License or deactivate a user of this profile.",
			prof.seats, prof.seats, prof.name, login)
}

func (ix *Index) profileStatus() []iamv1alpha1.ProfileStatus {
	if ix.license == nil {
		return nil
	}
	valid := !ix.expired()
	out := make([]iamv1alpha1.ProfileStatus, 0, len(ix.license.Spec.Profiles))
	for _, p := range ix.license.Spec.Profiles {
		st := iamv1alpha1.ProfileStatus{Name: p.Name, Seats: p.Seats}
		if pe := ix.profiles[p.Name]; valid && pe != nil && pe.order == len(out) {
			active := 0
			if l := ix.seatLists[p.Name]; l != nil {
				active = len(l.users)
			}
			st.Used = int32(min(active, pe.seats))
			st.Pending = int32(active) - st.Used
		}
		out = append(out, st)
	}
	return out
}
