package access

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/words"
)

// Requester is who asks for a change of a Share or ResourceGrant: a User (by
// object name), or an administrator identity (such as a GitOps service
// account in a configured administrator group) that the rules exempt.
type Requester struct {
	// User is the requesting User's object name.
	User string
	// Admin exempts the request from the sharing rules.
	Admin bool
}

// Violation is a rejected change: which rule it breaks, and a sentence for
// the person who asked, saying what to do instead. Rule 0 means the object
// itself is invalid (unknown role, permission or resource type); rules 1–5
// are the sharing rules of the SPEC.
type Violation struct {
	Rule    int
	Message string
}

func (v *Violation) Error() string { return v.Message }

func violation(rule int, format string, args ...any) *Violation {
	return &Violation{Rule: rule, Message: fmt.Sprintf(format, args...)}
}

// requesterAccess is what the requester holds on a resource.
type requesterAccess struct {
	name     string
	exists   bool
	rank     int           // capped role
	preGate  PermissionSet // capped permissions before the usableBy gate
	final    PermissionSet
	canShare bool // Owner or allowSharing (or admin)
	admin    bool
	seated   bool // active and holding a seat: only such a user shares
	global   []iamv1alpha1.GlobalPermission
	maxRank  int // the profile's cap
}

// requesterOn computes what a user holds on a resource; ix.mu is held.
func (ix *Index) requesterOn(sc *scratch, name string, res *resEntry) requesterAccess {
	ra := requesterAccess{name: name}
	u := ix.users[name]
	if u == nil {
		return ra
	}
	ra.exists = true
	r := ix.computeUser(sc, u)
	ra.global = r.GlobalPermissions
	for _, g := range r.GlobalPermissions {
		if g == iamv1alpha1.GlobalAdmin {
			ra.admin = true
		}
	}
	st, _, _ := ix.seat(u)
	ra.seated = st == iamv1alpha1.SeatGranted
	if p := ix.profiles[u.profile]; p != nil {
		ra.maxRank = p.maxRank
	}
	if a := sc.found(res); a != nil {
		ra.rank, ra.preGate, ra.final, ra.canShare = a.capped, a.preGate, a.final, a.canShare
	}
	return ra
}

// owners describes who holds Owner on a resource through its shares, for
// messages: up to three, sorted.
func (ix *Index) owners(res *resEntry) string {
	var out []string
	seen := map[string]bool{}
	for _, s := range res.shares {
		for _, g := range s.grantees {
			if !g.valid || g.rank != rankOwner {
				continue
			}
			d := g.name
			if g.kind != iamv1alpha1.GranteeUser {
				d = subjectOf(string(g.kind), g.name)
			}
			if !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	sort.Strings(out)
	if len(out) > 3 {
		out = append(out[:3], "…")
	}
	if len(out) == 0 {
		return "an administrator"
	}
	return "an Owner (" + strings.Join(out, ", ") + ")"
}

// reachesActive reports whether a grantee reaches at least one active user
// (seated, when seated is set).
func (ix *Index) reachesActive(kind iamv1alpha1.GranteeKind, name string, seated bool) bool {
	ok := func(u *userEntry) bool {
		if !u.active {
			return false
		}
		if !seated {
			return true
		}
		st, _, _ := ix.seat(u)
		return st == iamv1alpha1.SeatGranted
	}
	switch kind {
	case iamv1alpha1.GranteeUser:
		u := ix.users[name]
		return u != nil && ok(u)
	case iamv1alpha1.GranteeGroup:
		g := ix.groups[name]
		if g == nil {
			return false
		}
		found := false
		ix.forMembers(g.name, g.ldap, func(u *userEntry) bool { found = ok(u); return !found })
		return found
	case iamv1alpha1.GranteeOrganization:
		for _, u := range ix.orgUsers[name] {
			if ok(u) {
				return true
			}
		}
	}
	return false
}

// keepers reports, for the shares of a resource with one Share replaced
// (name, by grantees; nil grantees: removed), whether some Owner grantee
// reaches an active user (rule 4) and whether some active, seated user can
// share (rule 5).
func (ix *Index) keepers(res *resEntry, name string, grantees []iamv1alpha1.Grantee, ti *typeInfo) (owner, sharer bool) {
	check := func(kind iamv1alpha1.GranteeKind, gname string, role iamv1alpha1.Role, allowSharing bool) {
		if ti.validRole(role) != nil {
			return
		}
		if role == iamv1alpha1.RoleOwner && !owner && ix.reachesActive(kind, gname, false) {
			owner = true
		}
		if (role == iamv1alpha1.RoleOwner || allowSharing) && !sharer && ix.reachesActive(kind, gname, true) {
			sharer = true
		}
	}
	if res != nil {
		for _, s := range res.shares {
			if s.name == name {
				continue
			}
			for _, g := range s.grantees {
				check(g.kind, g.name, g.role, g.allowSharing)
			}
		}
	}
	for _, g := range grantees {
		check(g.Kind, g.Name, g.Role, g.AllowSharing)
	}
	return owner, sharer
}

// CheckShare decides whether requester may change a Share from before to
// after (before nil: create; after nil: delete), by the sharing rules:
//  1. share only with active users and existing groups (and organizations
//     some active user belongs to);
//  2. share only as Owner or with allowSharing, and only up to one's own
//     profile-capped role and permissions (canUseData only with data
//     access);
//  3. never downgrade or remove a collaborator whose role is above one's
//     own (leaving oneself is always allowed, within rule 4);
//  4. a shared resource keeps at least one Owner reaching an active user;
//  5. a dataset or connection keeps at least one active, seated user who
//     can share.
//
// The first Share of a resource the namespace does not know yet creates it:
// it must name the requester as Owner. It returns nil when the change is
// allowed. Administrators are exempt.
func CheckShare(ix *Index, before, after *iamv1alpha1.Share, req Requester) *Violation {
	if req.Admin || (before == nil && after == nil) {
		return nil
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ti, err := info(shareRef(before, after).Type)
	if err != nil {
		return violation(0, "The share is invalid: %v.", err)
	}
	return ix.newShareJudgement(before, after, req, ti).judge(shareRules)
}

// mayShare reports whether the requester may make a change of kind op
// (shareAdd, shareChange, shareRemove) to the resource's grantees (SPEC rule
// 2): on a dataset or connection an Owner or a grantee given allowSharing;
// on a type with sharing permissions whoever holds the one for op (what its
// status lists); on any other type Owners only.
func (ti *typeInfo) mayShare(op int, me requesterAccess) bool {
	switch {
	case ti.data:
		return me.canShare
	case ti.share[op] == 0:
		return me.rank == rankOwner
	}
	return me.final&ti.share[op] != 0
}

// shareRight says who may make a change of kind op, for messages.
func (ti *typeInfo) shareRight(op int) string {
	switch {
	case ti.data:
		return "that needs Owner or allowSharing"
	case ti.share[op] == 0:
		return "only Owners share a " + string(ti.t)
	}
	return "that needs " + strings.Join(permStrings(ti.namesOf(ti.share[op])), ", ") + " on it"
}

// checkFirstShare judges the first Share of a resource (SPEC rule 4): its
// creation. The requester (active and seated, checked before) lists itself
// as Owner, holds the global permission to create the type where the
// catalogue names one, and grants no one more than its own profile allows;
// the name must not pass for another resource's, and a connection must
// exist as a Connection.
func (ix *Index) checkFirstShare(ti *typeInfo, ref iamv1alpha1.ResourceRef, nu []iamv1alpha1.Grantee, me requesterAccess, user string) *Violation {
	resName := ref.String()
	if ref.Type == iamv1alpha1.ResourceConnection {
		return violation(4, "There is no Connection %s, so %s cannot be shared (rule 4: a connection is created as a Connection, by an administrator); check the name.", ref.Name, resName)
	}
	if other := ix.lookalike(ref); other != "" {
		return violation(4, "%s is not shared yet, but its name is ambiguous: it reads as %s/%s, which exists (names are compared after Unicode NFKC case folding); share %s/%s, or pick a name nobody could mistake for it.",
			resName, ref.Type, other, ref.Type, other)
	}
	if ti.create != "" && !slices.Contains(me.global, ti.create) && !me.admin {
		return violation(4, "%s is not shared yet, so this Share creates it, and creating a %s needs the global permission %s, which %s does not hold (rule 4); ask an administrator.",
			resName, ref.Type, ti.create, user)
	}
	selfOwner := false
	for _, g := range nu {
		selfOwner = selfOwner || (g.Kind == iamv1alpha1.GranteeUser && g.Name == user && g.Role == iamv1alpha1.RoleOwner)
	}
	if !selfOwner {
		return violation(4, "%s is not shared yet, so this Share creates it and must keep an Owner (rule 4: every shared resource keeps at least one Owner); add yourself (User %s) as Owner.", resName, user)
	}
	for _, g := range nu {
		if roleRank(g.Role) > me.maxRank {
			return violation(4, "%s is not shared yet, so this Share creates it, and %s's profile allows at most %s: it cannot grant %s to %s %s (rule 4); grant %s at most, or ask an administrator.",
				resName, user, rankRoles[me.maxRank], g.Role, g.Kind, g.Name, rankRoles[me.maxRank])
		}
	}
	return nil
}

// lookalike returns the name of a resource of ref's type that differs from
// ref's name but reads the same after Unicode NFKC normalisation and case
// folding ("" if none).
func (ix *Index) lookalike(ref iamv1alpha1.ResourceRef) string {
	want := foldName(ref.Name)
	typ := typeByName[ref.Type]
	var found []string
	for k := range ix.resources {
		if k.typ == typ && k.name != ref.Name && foldName(k.name) == want {
			found = append(found, k.name)
		}
	}
	if len(found) == 0 {
		return ""
	}
	sort.Strings(found)
	return found[0]
}

// foldName is a resource name as a person reads it: NFKC-normalised and
// case-folded.
func foldName(s string) string { return cases.Fold().String(norm.NFKC.String(s)) }

func shareRef(before, after *iamv1alpha1.Share) iamv1alpha1.ResourceRef {
	if after != nil {
		return after.Spec.Resource
	}
	return before.Spec.Resource
}

func permStrings(ps []iamv1alpha1.Permission) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

// checkGranteeExists is rule 1 for a new grantee or subject.
func (ix *Index) checkGranteeExists(kind iamv1alpha1.GranteeKind, name, resName string) *Violation {
	switch kind {
	case iamv1alpha1.GranteeUser:
		u := ix.users[name]
		if u == nil {
			return violation(1, "User %s does not exist, so %s cannot be shared with it (rule 1: share only with active users and existing groups); check the name.", name, resName)
		}
		if !u.active {
			return violation(1, "User %s is inactive, so %s cannot be shared with it (rule 1: share only with active users and existing groups); ask an administrator to activate it first.", name, resName)
		}
		if st, _, _ := ix.seat(u); st != iamv1alpha1.SeatGranted {
			return violation(1, "User %s holds no seat (it waits Pending for one), so %s cannot be shared with it (rule 1: share only with active, seated users and existing groups); ask an administrator for a seat first.", name, resName)
		}
	case iamv1alpha1.GranteeGroup:
		if ix.groups[name] == nil {
			return violation(1, "Group %s does not exist, so %s cannot be shared with it (rule 1: share only with active users and existing groups); check the name or create the Group first.", name, resName)
		}
	case iamv1alpha1.GranteeOrganization:
		if !ix.reachesActive(kind, name, false) {
			return violation(1, "No active user belongs to organization %s, so %s cannot be shared with it (rule 1: share only with active users and existing groups); check the name.", name, resName)
		}
	default:
		return violation(0, "Grantee %s has kind %q: use User, Group or Organization.", name, kind)
	}
	return nil
}

// CheckGrant decides whether requester may change a ResourceGrant from
// before to after (before nil: create; after nil: delete). Changing grants
// needs admin, Owner, or the type's permission-management permission
// (project: editPermissions; codeEnv, cluster: manageUsers;
// deployerInfrastructure: admin); the requester may grant or remove only
// permissions it holds itself (DSS editPermissions; violations report rule 2
// for granting and rule 3 for removing); new users must be active and new
// groups exist (rule 1). Administrators are exempt.
func CheckGrant(ix *Index, before, after *iamv1alpha1.ResourceGrant, req Requester) *Violation {
	if req.Admin || (before == nil && after == nil) {
		return nil
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ref := iamv1alpha1.ResourceRef{}
	if after != nil {
		ref = after.Spec.Resource
	} else {
		ref = before.Spec.Resource
	}
	ti, err := info(ref.Type)
	if err != nil {
		return violation(0, "The grant is invalid: %v.", err)
	}
	resName := ref.String()
	old, v := grantGives(ti, before)
	if v != nil {
		old = map[iamv1alpha1.Subject]PermissionSet{} // an invalid grant gave nothing
	}
	nu, v := grantGives(ti, after)
	if v != nil {
		return v
	}
	for s := range nu {
		if _, had := old[s]; !had {
			if v := ix.checkGranteeExists(iamv1alpha1.GranteeKind(s.Kind), s.Name, resName); v != nil {
				return v
			}
		}
	}
	res := ix.resources[resKey{typeByName[ref.Type], ref.Name}]
	sc := ix.getScratch()
	me := ix.requesterOn(sc, req.User, res)
	ix.putScratch(sc)
	if me.admin {
		return nil
	}
	if me.rank != rankOwner && me.preGate&ti.manage == 0 {
		need := "Owner"
		if ti.manage != 0 {
			need = "Owner or " + strings.Join(permStrings(ti.namesOf(ti.manage)), " or ")
		}
		return violation(2, "%s cannot change the permissions on %s: that needs %s on it, or admin (rule 2: only those who manage a resource share it); ask %s.",
			req.User, resName, need, ix.ownersOrAdmin(res))
	}
	for _, s := range subjectsOf(old, nu) {
		if added := nu[s] &^ old[s] &^ me.preGate; added != 0 {
			return violation(2, "%s cannot grant %s on %s to %s %s: you may grant only permissions you hold yourself (rule 2: share only up to your own role); ask %s.",
				req.User, strings.Join(permStrings(ti.namesOf(added)), ", "), resName, s.Kind, s.Name, ix.ownersOrAdmin(res))
		}
		if removed := old[s] &^ nu[s] &^ me.preGate; removed != 0 {
			return violation(3, "%s cannot remove %s on %s from %s %s: you may remove only permissions you hold yourself (rule 3: never take away more than you hold); ask %s.",
				req.User, strings.Join(permStrings(ti.namesOf(removed)), ", "), resName, s.Kind, s.Name, ix.ownersOrAdmin(res))
		}
	}
	return nil
}

// grantGives is what a ResourceGrant gives each of its subjects (nothing
// for nil), or the violation of an invalid one.
func grantGives(ti *typeInfo, g *iamv1alpha1.ResourceGrant) (map[iamv1alpha1.Subject]PermissionSet, *Violation) {
	out := map[iamv1alpha1.Subject]PermissionSet{}
	if g == nil {
		return out, nil
	}
	set, err := ti.parse(g.Spec.Permissions)
	if err != nil {
		return nil, violation(0, "The grant is invalid: %v.", err)
	}
	for _, s := range g.Spec.Subjects {
		out[s] = ti.implied(set)
	}
	return out, nil
}

// subjectsOf returns the subjects of two grants, sorted by kind then name.
func subjectsOf(old, nu map[iamv1alpha1.Subject]PermissionSet) []iamv1alpha1.Subject {
	subjects := map[iamv1alpha1.Subject]bool{}
	for s := range old {
		subjects[s] = true
	}
	for s := range nu {
		subjects[s] = true
	}
	keys := make([]iamv1alpha1.Subject, 0, len(subjects))
	for s := range subjects {
		keys = append(keys, s)
	}
	sort.Slice(keys, func(i, j int) bool {
		return string(keys[i].Kind)+"/"+keys[i].Name < string(keys[j].Kind)+"/"+keys[j].Name
	})
	return keys
}

func (ix *Index) ownersOrAdmin(res *resEntry) string {
	if res == nil {
		return "an administrator"
	}
	return ix.owners(res)
}

// UserForKubernetesName returns the name of the User whose
// kubernetesUsername (or, when unset, login) is the given API-server user
// name, for mapping an admission request to a Requester. When two or more
// Users claim the name (they can only exist if the User webhook was
// bypassed), it fails closed: the name stands for none of them.
func (ix *Index) UserForKubernetesName(username string) (string, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if l := ix.identities[username]; len(l) == 1 {
		return l[0].name, true
	}
	return "", false
}

// WhyNotAUser says, for an API-server user name that UserForKubernetesName
// maps to no User, why: Users that claim it together (an identity
// conflict), or a User whose login it is but whose kubernetesUsername
// overrides the login, or simply no User. The sentence names the fix.
func (ix *Index) WhyNotAUser(username string) string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if l := ix.identities[username]; len(l) > 1 {
		names := make([]string, len(l))
		for i, u := range l {
			names[i] = u.name
		}
		sort.Strings(names)
		return fmt.Sprintf("Users %s claim the identity %q together, so it stands for none of them (IdentityConflict); an administrator must give each User its own kubernetesUsername",
			words.List(names), username)
	}
	var overriding []string
	for _, u := range ix.users {
		if u.obj != nil && u.obj.Spec.Login == username && u.identity != username {
			overriding = append(overriding, fmt.Sprintf("User %s has login %q, but its kubernetesUsername %q overrides the login", u.name, username, u.identity))
		}
	}
	if len(overriding) > 0 {
		sort.Strings(overriding)
		return strings.Join(overriding, "; ") + ": Kubernetes must authenticate that user under its kubernetesUsername, or an administrator must change it"
	}
	return fmt.Sprintf("no User has kubernetesUsername or login %q; ask an administrator to create your User", username)
}

// IdentityConflicts returns, sorted, the other Users that claim the same
// Kubernetes identity as User name (nil when it is the only one, or unknown).
func (ix *Index) IdentityConflicts(name string) []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	u := ix.users[name]
	if u == nil {
		return nil
	}
	var out []string
	for _, o := range ix.identities[u.identity] {
		if o != u {
			out = append(out, o.name)
		}
	}
	sort.Strings(out)
	return out
}

// metaChange is what a change does to an object besides its spec.
type metaChange struct {
	finalizers, labels, owners bool
}

func metaChanged(before, after metav1.Object) metaChange {
	var c metaChange
	var bf []string
	var bLabels, bAnn map[string]string
	var bOwners []metav1.OwnerReference
	if before != nil {
		bf, bLabels, bAnn, bOwners = before.GetFinalizers(), before.GetLabels(), before.GetAnnotations(), before.GetOwnerReferences()
	}
	c.finalizers = !slices.Equal(sortedCopy(bf), sortedCopy(after.GetFinalizers()))
	c.owners = !sameOwners(bOwners, after.GetOwnerReferences())
	c.labels = !maps.Equal(bLabels, after.GetLabels()) || !maps.Equal(withoutLastApplied(bAnn), withoutLastApplied(after.GetAnnotations()))
	return c
}

// sameOwners reports whether two lists hold the same owner references, in
// any order.
func sameOwners(a, b []metav1.OwnerReference) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range b {
		if !slices.ContainsFunc(a, func(y metav1.OwnerReference) bool { return sameOwner(x, y) }) {
			return false
		}
	}
	return true
}

func sameOwner(x, y metav1.OwnerReference) bool {
	sameBool := func(p, q *bool) bool { return (p == nil) == (q == nil) && (p == nil || *p == *q) }
	return x.APIVersion == y.APIVersion && x.Kind == y.Kind && x.Name == y.Name && x.UID == y.UID &&
		sameBool(x.Controller, y.Controller) && sameBool(x.BlockOwnerDeletion, y.BlockOwnerDeletion)
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// withoutLastApplied drops kubectl's record of its last apply, which
// changes with every kubectl apply and means nothing.
func withoutLastApplied(m map[string]string) map[string]string {
	if _, ok := m["kubectl.kubernetes.io/last-applied-configuration"]; !ok {
		return m
	}
	c := maps.Clone(m)
	delete(c, "kubectl.kubernetes.io/last-applied-configuration")
	return c
}

// SameMeta reports whether two versions of an object have the same
// finalizers, labels and annotations (kubectl's last-applied record aside).
func SameMeta(a, b metav1.Object) bool {
	c := metaChanged(a, b)
	return !c.finalizers && !c.labels && !c.owners
}

// SameOwnersAndFinalizers reports whether after has the owner references
// and finalizers of before (none when before is nil, a create), in any
// order: what decides when an object, and its access, goes.
func SameOwnersAndFinalizers(before, after metav1.Object) bool {
	c := metaChanged(before, after)
	return !c.owners && !c.finalizers
}

// CheckShareMeta judges what a change does to a Share besides its
// grantees (before nil: create; after nil: delete, which CheckShare
// judges): a new note needs the right to change the grantees; labels and
// annotations the right to delete the Share (a prune label would let a
// GitOps bot delete it for you); finalizers, which hold a Share in place,
// are administrators'.
func CheckShareMeta(ix *Index, before, after *iamv1alpha1.Share, req Requester) *Violation {
	if req.Admin || after == nil {
		return nil
	}
	ti, err := info(after.Spec.Resource.Type)
	if err != nil {
		return violation(0, "The share is invalid: %v.", err)
	}
	var prev metav1.Object
	if before != nil {
		prev = before
	}
	return ix.checkMeta("Share", after.Spec.Resource, prev, after, req,
		func(me requesterAccess, owners string) *Violation {
			if before.Spec.Note != after.Spec.Note && !ti.mayShare(shareChange, me) {
				return violation(2, "%s cannot change the note of Share %s: a note needs the right to change its grantees, and %s; ask %s.", req.User, after.Name, ti.shareRight(shareChange), owners)
			}
			return nil
		},
		func() *Violation { return CheckShare(ix, before, nil, req) })
}

// CheckGrantMeta is CheckShareMeta for a ResourceGrant: labels and
// annotations need the right to delete it, finalizers an administrator.
func CheckGrantMeta(ix *Index, before, after *iamv1alpha1.ResourceGrant, req Requester) *Violation {
	if req.Admin || after == nil {
		return nil
	}
	var prev metav1.Object
	if before != nil {
		prev = before
	}
	return ix.checkMeta("ResourceGrant", after.Spec.Resource, prev, after, req, nil,
		func() *Violation { return CheckGrant(ix, before, nil, req) })
}

// checkMeta is what CheckShareMeta and CheckGrantMeta share: an
// administrator may do anything; finalizers are administrators'; then, for
// a change (before set), extra judges the rest, and labels and annotations
// need the right to delete the object (mayDelete).
func (ix *Index) checkMeta(kind string, ref iamv1alpha1.ResourceRef, before, after metav1.Object, req Requester,
	extra func(me requesterAccess, owners string) *Violation, mayDelete func() *Violation) *Violation {
	c := metaChanged(before, after)
	ix.mu.RLock()
	res := ix.resources[resKey{typeByName[ref.Type], ref.Name}]
	sc := ix.getScratch()
	me := ix.requesterOn(sc, req.User, res)
	ix.putScratch(sc)
	owners := ix.ownersOrAdmin(res)
	ix.mu.RUnlock()
	if me.admin {
		return nil
	}
	if c.finalizers {
		return violation(2, "%s cannot change the finalizers of %s %s: a finalizer holds it in place, and so its access, so only administrators set or remove them.", req.User, kind, after.GetName())
	}
	if c.owners {
		return violation(2, "%s cannot set or change the owner references of %s %s: the garbage collector deletes an object whose owners are gone, and its access with it (another could then take the resource), so only administrators set them.", req.User, kind, after.GetName())
	}
	if before == nil {
		return nil
	}
	if extra != nil {
		if v := extra(me, owners); v != nil {
			return v
		}
	}
	if c.labels {
		if v := mayDelete(); v != nil {
			return violation(v.Rule, "%s cannot change the labels or annotations of %s %s: that needs the right to delete it (a label can make a GitOps tool delete it), and %s", req.User, kind, after.GetName(), lowerFirst(v.Message))
		}
	}
	return nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// requesterOnRef is what User user holds on the resource ref names, and
// its type; ok is false for an unknown type.
func (ix *Index) requesterOnRef(ref iamv1alpha1.ResourceRef, user string) (*typeInfo, requesterAccess, bool) {
	ti, err := info(ref.Type)
	if err != nil {
		return nil, requesterAccess{}, false
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	res := ix.resources[resKey{typeByName[ref.Type], ref.Name}]
	sc := ix.getScratch()
	defer ix.putScratch(sc)
	return ti, ix.requesterOn(sc, user, res), true
}

// ShareWritablePaths are the paths of Share s that requester req may change
// (as field names from the object's root), for judging the apply history
// a change leaves (internal/history): its grantees and note with the right
// to change its grantees (SPEC rules 2 and 5), its labels and annotations
// with the right to delete it; and its resource, which nobody can change
// (the CRD), so that claiming it changes nothing. Never finalizers or
// owners.
func (ix *Index) ShareWritablePaths(s *iamv1alpha1.Share, req Requester) [][]string {
	ti, me, ok := ix.requesterOnRef(s.Spec.Resource, req.User)
	if !ok {
		return nil
	}
	out := [][]string{{"spec", "resource"}}
	if me.admin || ti.mayShare(shareChange, me) {
		out = append(out, []string{"spec", "grantees"}, []string{"spec", "note"})
	}
	if CheckShare(ix, s, nil, req) == nil {
		out = append(out, []string{"metadata", "labels"}, []string{"metadata", "annotations"})
	}
	return out
}

// GrantWritablePaths is ShareWritablePaths for ResourceGrant g: its
// subjects and permissions with the right to change its permissions (admin,
// Owner or the type's manage permission), its labels and annotations with
// the right to delete it.
func (ix *Index) GrantWritablePaths(g *iamv1alpha1.ResourceGrant, req Requester) [][]string {
	ti, me, ok := ix.requesterOnRef(g.Spec.Resource, req.User)
	if !ok {
		return nil
	}
	out := [][]string{{"spec", "resource"}} // immutable, as for a Share
	if me.admin || me.rank == rankOwner || me.preGate&ti.manage != 0 {
		out = append(out, []string{"spec", "subjects"}, []string{"spec", "permissions"})
	}
	if CheckGrant(ix, g, nil, req) == nil {
		out = append(out, []string{"metadata", "labels"}, []string{"metadata", "annotations"})
	}
	return out
}
