package access

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/words"
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
	return slices.Sorted(maps.Keys(r.Users))
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
	sc := ix.getScratch()
	defer ix.putScratch(sc)
	for name, u := range ix.users {
		res.Users[name] = ix.computeUser(sc, u)
	}
	for name, s := range ix.shares {
		res.Shares[name] = ix.shareReport(sc, s)
	}
	for name, g := range ix.grants {
		res.Grants[name] = ix.grantReport(sc, g)
	}
	for name, g := range ix.groups {
		n, _ := ix.countMembers(sc, g.name, g.ldap)
		res.GroupMembers[name] = int32(n)
	}
	return res
}

// ComputeUser computes one user from the indexes: the work is proportional
// to what the user touches (its groups, the shares, grants and connections
// reaching it, and for an administrator every known resource). It returns
// nil for a user the Index does not hold.
func (ix *Index) ComputeUser(name string) *UserResult {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	u := ix.users[name]
	if u == nil {
		return nil
	}
	sc := ix.getScratch()
	defer ix.putScratch(sc)
	return ix.computeUser(sc, u)
}

// Profiles returns the seat use of each License profile, in License order.
func (ix *Index) Profiles() []iamv1alpha1.ProfileStatus {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.profileStatus()
}

// acc accumulates one resource's access for the user in computation.
type acc struct {
	res      *resEntry
	typ      int
	name     string
	rank     int32 // res.rank, copied while the entry is in cache
	role     int
	perms    PermissionSet
	canShare bool
	admitted bool // a Connection's usableBy admits the user
	// head is the first of the resource's vias in scratch.vias, chained
	// through their next (-1 ends); nvia counts them.
	head, nvia int32
	// Filled in when the resource is finished: the capped role rank, the
	// capped permissions before the usableBy gate, and the final ones.
	capped         int
	preGate, final PermissionSet
}

// userGroups returns the user's existing groups, sorted, and the
// spec.groups naming no Group, sorted. It marks the groups in sc, whose
// read (sc.next) the caller has started.
func (ix *Index) userGroups(sc *scratch, u *userEntry) ([]*groupEntry, []string) {
	gs := sc.grpBuf[:0]
	var unknown []string
	add := func(g *groupEntry) {
		if sc.groups[g.id] != sc.epoch {
			sc.groups[g.id] = sc.epoch
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
		for _, g := range ix.ldapGroups[dn] {
			add(g)
		}
	}
	sort.Slice(gs, func(i, j int) bool { return gs[i].name < gs[j].name })
	sort.Strings(unknown)
	sc.grpBuf = gs
	return gs, dedupSorted(unknown)
}

// globalOf is the global permissions of a seated user of profile prof in
// groups: the union over the groups, within the profile, expanded, within
// the profile again.
func globalOf(groups []*groupEntry, prof *profileEntry) GlobalSet {
	var global GlobalSet
	for _, g := range groups {
		global |= g.global
	}
	return ExpandGlobal(global&prof.global) & prof.global
}

// effectiveGlobal is u's global permissions without computing its
// resources (none without a seat); ix.mu is held.
func (ix *Index) effectiveGlobal(sc *scratch, u *userEntry) GlobalSet {
	if st, _, _ := ix.seat(u); st != iamv1alpha1.SeatGranted {
		return 0
	}
	sc.next()
	groups, _ := ix.userGroups(sc, u)
	return globalOf(groups, ix.profiles[u.profile])
}

// inAnyGroup reports whether u is a member (local or directory-mapped) of
// one of the Groups named; ix.mu is held.
func (ix *Index) inAnyGroup(sc *scratch, u *userEntry, names []string) bool {
	sc.next()
	groups, _ := ix.userGroups(sc, u)
	for _, g := range groups {
		if slices.Contains(names, g.name) {
			return true
		}
	}
	return false
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

// computeUser computes one user; ix.mu is held (read or write) and sc is
// the caller's. It leaves the user's accumulators in sc (requesterOn reads
// them) until sc's next read.
func (ix *Index) computeUser(sc *scratch, u *userEntry) *UserResult {
	sc.next()
	groups, unknown := ix.userGroups(sc, u)
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
	global := globalOf(groups, prof)
	r.GlobalPermissions = GlobalNames(global)

	sc.resetArena()
	ix.gatherShares(sc, u, groups)
	ix.gatherGrants(sc, u, groups)
	ix.gatherConnections(sc, groups)
	if global&adminBit != 0 {
		ix.gatherAdmin(sc, groups)
	}
	r.Resources = ix.resourcesOut(sc, prof, groups)
	return r
}

// gatherShares adds the Shares naming the user, one of its groups or its
// organization: each valid grantee matching the user raises the role,
// adds the role's permissions, and gives the right to share to an Owner or
// a grantee with allowSharing.
func (ix *Index) gatherShares(sc *scratch, u *userEntry, groups []*groupEntry) {
	visit := func(s *shareEntry) {
		if sc.shares[s.id] == sc.epoch || s.res == nil {
			return
		}
		sc.shares[s.id] = sc.epoch
		src := -1
		for i := range s.grantees {
			g := &s.grantees[i]
			if !g.valid || !granteeMatches(sc, g, u) {
				continue
			}
			a := sc.slot(s.res)
			if g.rank > a.role {
				a.role = g.rank
			}
			a.perms |= g.perms
			a.canShare = a.canShare || g.allowSharing || g.rank == rankOwner
			if src < 0 {
				src = len(sc.srcShares)
				sc.srcShares = append(sc.srcShares, s)
			}
			sc.addVia(a, viaShare, src, i)
		}
	}
	for _, s := range ix.sharesByUser[u.name] {
		visit(s)
	}
	for _, g := range groups {
		for _, s := range ix.sharesByGroup[g.name] {
			visit(s)
		}
	}
	if u.org != "" {
		for _, s := range ix.sharesByOrg[u.org] {
			visit(s)
		}
	}
}

// gatherGrants adds the valid ResourceGrants for the user or one of its
// groups: their permissions, no role (a via's sub is the subject).
func (ix *Index) gatherGrants(sc *scratch, u *userEntry, groups []*groupEntry) {
	visit := func(ref grantRef) {
		e := ref.e
		if e.res == nil || !e.valid {
			return
		}
		a := sc.slot(e.res)
		a.perms |= e.perms
		sc.addVia(a, viaGrant, len(sc.srcGrants), int(ref.si))
		sc.srcGrants = append(sc.srcGrants, e)
	}
	for _, ref := range ix.grantsByUser[u.name] {
		visit(ref)
	}
	for _, g := range groups {
		for _, ref := range ix.grantsByGroup[g.name] {
			visit(ref)
		}
	}
}

// gatherConnections adds the Connections whose usableBy admits the user
// (all users, or one of its groups): view and use, and the admission that
// lets use through the usableBy gate (a via's sub -1: all users).
func (ix *Index) gatherConnections(sc *scratch, groups []*groupEntry) {
	admit := func(c *connEntry, sub int) {
		a := sc.slot(c.res)
		a.admitted = true
		a.perms |= connViewUse
		sc.addVia(a, viaConn, len(sc.srcConns), sub)
		sc.srcConns = append(sc.srcConns, c)
	}
	for c := range ix.connsAll {
		admit(c, -1)
	}
	for _, g := range groups {
		for _, ref := range ix.connsByGroup[g.name] {
			admit(ref.c, int(ref.gi))
		}
	}
}

// gatherAdmin makes an administrator Owner, with every permission and the
// right to share, of every resource the namespace knows of, through each of
// its admin groups.
func (ix *Index) gatherAdmin(sc *scratch, groups []*groupEntry) {
	for _, res := range ix.resources {
		a := sc.slot(res)
		a.role = rankOwner
		a.perms |= typeInfos[res.key.typ].all
		a.canShare = true
		a.admitted = true
		for gi, g := range groups {
			if g.global&adminBit != 0 {
				sc.addVia(a, viaAdmin, 0, gi)
			}
		}
	}
}

// capAccess applies the usableBy gate and the profile cap to a resource's
// accumulated access: it records the capped role and permissions in a and
// returns the role, the permissions and, when the cap took something away,
// the role before it (or "") and what it removed.
func capAccess(a *acc, prof *profileEntry) (role iamv1alpha1.Role, perms PermissionSet, roleBefore iamv1alpha1.Role, removed PermissionSet) {
	ti := typeInfos[a.typ]
	perms = a.perms
	if a.typ == connectionType && !a.admitted {
		perms &^= connUse // the usableBy gate
	}
	capRank := ti.capRank(prof.maxRank)
	capSet := ti.role[capRank][1]
	rank := a.role
	if rank > capRank {
		roleBefore = rankRoles[rank]
		rank = capRank
	}
	a.capped, a.preGate, a.final = rank, a.perms&capSet, perms&capSet
	return rankRoles[rank], perms & capSet, roleBefore, perms &^ capSet
}

// outputOrder returns the accumulators' order in the result: (rank << 32 |
// acc index), sorted.
func (ix *Index) outputOrder(sc *scratch) []uint64 {
	order := sc.order[:0]
	for i := range sc.accs {
		order = append(order, uint64(sc.accs[i].rank)<<32|uint64(i))
	}
	slices.Sort(order)
	sc.order = order
	return order
}

// resourcesOut writes the accumulated resources in output order, capped,
// with their provenance: caps and multi-entry via lists are allocated in
// blocks, one-entry via lists shared (singleVia).
func (ix *Index) resourcesOut(sc *scratch, prof *profileEntry, groups []*groupEntry) []iamv1alpha1.ResourceAccess {
	order := ix.outputOrder(sc)
	if len(order) == 0 {
		return nil
	}
	out := make([]iamv1alpha1.ResourceAccess, len(order))
	var viaOut []iamv1alpha1.AccessVia
	var caps []iamv1alpha1.AccessCap
	vi := 0
	for k, key := range order {
		a := &sc.accs[uint32(key)]
		ra := &out[k]
		role, perms, roleBefore, removed := capAccess(a, prof)
		ra.Type, ra.Name, ra.Role = typeInfos[a.typ].t, a.name, role
		ra.Permissions = sc.names(a.typ, perms)
		if roleBefore != "" || removed != 0 {
			if len(caps) == cap(caps) {
				caps = make([]iamv1alpha1.AccessCap, 0, min(len(order)-k, 256))
			}
			caps = append(caps, iamv1alpha1.AccessCap{Profile: prof.name, MaxRole: prof.maxRole, RoleBefore: roleBefore,
				Removed: sc.names(a.typ, removed)})
			ra.CappedBy = &caps[len(caps)-1]
		}
		if v := sc.vias[a.head]; v.next < 0 {
			// One contribution: the same for every user it reaches.
			ra.Via = sc.singleVia(v, groups)
			continue
		}
		if viaOut == nil {
			viaOut = make([]iamv1alpha1.AccessVia, sc.multiVias(order[k:]))
		}
		start := vi
		for j := a.head; j >= 0; j = sc.vias[j].next {
			sc.writeVia(&viaOut[vi], sc.vias[j], groups)
			vi++
		}
		ra.Via = viaOut[start:vi:vi]
		slices.SortFunc(ra.Via, compareVia)
	}
	return out
}

// multiVias counts the vias of the resources in order that have more than
// one.
func (sc *scratch) multiVias(order []uint64) int {
	n := 0
	for _, key := range order {
		if c := sc.accs[uint32(key)].nvia; c > 1 {
			n += int(c)
		}
	}
	return n
}

// compareRes orders resources as User.status.resources lists them: by type
// name, then name.
func compareRes(a, b *resEntry) int {
	if a.key.typ != b.key.typ {
		return cmp.Compare(typeAlpha[a.key.typ], typeAlpha[b.key.typ])
	}
	return strings.Compare(a.key.name, b.key.name)
}

// rankResources numbers every resource in output order, evenly spaced
// over the positive int32s so that resources added later fit between their
// neighbours (placeResource): a computation then sorts a user's resources
// by integer, not by type and name. It writes the entries: the write lock
// is held (or the Index is being built).
func (ix *Index) rankResources() {
	all := ix.byRank[:0]
	for _, r := range ix.resources {
		all = append(all, r)
	}
	slices.SortFunc(all, compareRes)
	ix.byRank = all
	ix.renumber()
}

// renumber spaces the ranks of byRank evenly again.
func (ix *Index) renumber() {
	step := int64(math.MaxInt32) / int64(len(ix.byRank)+1)
	for i, r := range ix.byRank {
		r.rank = int32(int64(i+1) * step)
	}
}

// placeResource gives a new resource a rank between its neighbours' in
// output order; where they have no room between them, every rank is spaced
// out again (a pass over byRank, no sort).
func (ix *Index) placeResource(r *resEntry) {
	i, _ := slices.BinarySearchFunc(ix.byRank, r, compareRes)
	ix.byRank = slices.Insert(ix.byRank, i, r)
	lo, hi := int64(0), int64(math.MaxInt32)
	if i > 0 {
		lo = int64(ix.byRank[i-1].rank)
	}
	if i+1 < len(ix.byRank) {
		hi = int64(ix.byRank[i+1].rank)
	}
	if hi-lo < 2 {
		ix.renumber()
		return
	}
	r.rank = int32(lo + (hi-lo)/2)
}

// granteeMatches reports whether a grantee names u, one of u's groups
// (marked in sc by userGroups) or u's organization.
func granteeMatches(sc *scratch, g *granteeEntry, u *userEntry) bool {
	switch g.code {
	case granteeUser:
		return g.user == u
	case granteeGroup:
		return g.group != nil && sc.groups[g.group.id] == sc.epoch
	case granteeOrg:
		return u.org != "" && g.name == u.org
	}
	return false
}

// The kinds of viaRec.
const (
	viaShare uint8 = iota
	viaGrant
	viaConn
	viaAdmin
)

// viaRec is one contribution in the computation in progress, without
// pointers (so that gathering them costs no write barriers): src indexes
// sc.srcShares, srcGrants or srcConns by kind; sub is the grantee index of a
// share, the subject index of a grant, the usableBy group index of a
// connection (-1: all users) or the index of the user's admin group.
type viaRec struct {
	kind     uint8
	src, sub int32
	next     int32
}

// singleVia returns a one-entry via list for a contribution, cached on its
// source: a Share grantee, a ResourceGrant subject, a Connection audience or
// an admin group gives the same entry to every user it reaches. Results
// share these lists (they are read-only).
func (sc *scratch) singleVia(v viaRec, groups []*groupEntry) []iamv1alpha1.AccessVia {
	var slot *viaCache
	switch v.kind {
	case viaShare:
		slot = &sc.srcShares[v.src].vias[v.sub]
	case viaGrant:
		slot = &sc.srcGrants[v.src].via[v.sub]
	case viaConn:
		c := sc.srcConns[v.src]
		if v.sub < 0 {
			slot = &c.viaAll
		} else {
			slot = &c.via[v.sub]
		}
	default:
		slot = &groups[v.sub].adminVia
	}
	p := slot.Load()
	if p == nil {
		p = new(oneVia)
		sc.writeVia(&p[0], v, groups)
		if !slot.CompareAndSwap(nil, p) {
			p = slot.Load() // another read wrote the same entry first
		}
	}
	return p[:]
}

// writeVia fills in the AccessVia of a contribution.
func (sc *scratch) writeVia(out *iamv1alpha1.AccessVia, v viaRec, groups []*groupEntry) {
	switch v.kind {
	case viaShare:
		s := sc.srcShares[v.src]
		g := &s.grantees[v.sub]
		*out = iamv1alpha1.AccessVia{Kind: iamv1alpha1.ViaShare, Name: s.name, Subject: g.subject, Role: g.role}
	case viaGrant:
		e := sc.srcGrants[v.src]
		*out = iamv1alpha1.AccessVia{Kind: iamv1alpha1.ViaResourceGrant, Name: e.name, Subject: e.subjectStr[v.sub],
			Permissions: sc.names(e.res.key.typ, e.perms)}
	case viaConn:
		c := sc.srcConns[v.src]
		subject := ""
		if v.sub >= 0 {
			subject = c.subjectStr[v.sub]
		}
		*out = iamv1alpha1.AccessVia{Kind: iamv1alpha1.ViaConnection, Name: c.name, Subject: subject,
			Permissions: sc.names(connectionType, connViewUse)}
	case viaAdmin:
		g := groups[v.sub]
		*out = iamv1alpha1.AccessVia{Kind: iamv1alpha1.ViaAdmin, Name: g.name, Subject: g.subject, Role: iamv1alpha1.RoleOwner}
	}
}

// compareVia orders provenance entries: by kind, name, subject, then role.
func compareVia(a, b iamv1alpha1.AccessVia) int {
	if c := strings.Compare(string(a.Kind), string(b.Kind)); c != 0 {
		return c
	}
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	if c := strings.Compare(a.Subject, b.Subject); c != 0 {
		return c
	}
	return strings.Compare(string(a.Role), string(b.Role))
}

// seat decides the user's seat with the Licensed condition's reason and
// message.
func (ix *Index) seat(u *userEntry) (iamv1alpha1.SeatState, string, string) {
	login := u.obj.Spec.Login
	if login == "" {
		login = u.name
	}
	switch {
	case !u.active && u.obj.Spec.Source == iamv1alpha1.UserSourceLDAP && u.obj.Labels[iamv1alpha1.LabelDirectory] != "":
		// The directory decides whether its Users are active: an
		// administrator's active: true on a User it deactivated lasts
		// until its next sync.
		return iamv1alpha1.SeatNone, iamv1alpha1.ReasonInactive,
			fmt.Sprintf("%s is inactive and holds no seat. It comes from Directory %s: if the directory deactivated it (its entry left the directory or no longer matches the users filter), put the user back into the directory, or change the Directory's users baseDN or filter, and the next sync reactivates it (spec.active: true alone is undone by that sync); if an administrator deactivated it, set spec.active to true.",
				login, u.obj.Spec.Directory)
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
		// No count here: a change of the seats then rewrites only the
		// users whose seat flips and the pending ones.
		return iamv1alpha1.SeatGranted, iamv1alpha1.ReasonSeatGranted,
			fmt.Sprintf("%s holds a seat of profile %s.", login, prof.name)
	}
	return iamv1alpha1.SeatPending, iamv1alpha1.ReasonSeatLimitReached,
		fmt.Sprintf("%s of profile %s %s taken; %s waits for a seat in order of creation. Add seats to the License or deactivate a user of this profile.",
			allSeats(prof.seats), prof.name, words.Plural(prof.seats, "is", "are"), login)
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

// allSeats names every seat of a profile: "The 1 seat", "All 3 seats",
// "Its 0 seats".
func allSeats[N words.Integer](n N) string {
	switch n {
	case 0:
		return "Its 0 seats"
	case 1:
		return "The 1 seat"
	}
	return "All " + words.Count(n, "seat", "seats")
}
