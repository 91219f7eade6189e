package access

import (
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/ldapdn"
)

// Index holds one namespace's objects with the indexes that let it compute
// one user's access from what that user touches only, and tell which users a
// change touches. Build it with NewIndex, keep it current with Upsert and
// Delete (and SetNow, so that a License's expiry takes effect), read it with
// ComputeUser, Affected, Profiles, ShareReport, GrantReport and
// GroupMembers; CheckShare and CheckGrant judge changes against it. It is
// safe for concurrent use: reads share a read lock (each with a scratch of
// its own, see scratch.go), so that webhooks and reconciles run in
// parallel; Upsert, Delete and SetNow take the write lock. The objects given to it must not be modified
// afterwards, and the results it returns share slices with each other:
// treat them as read-only.
type Index struct {
	mu  sync.RWMutex
	now time.Time

	license  *iamv1alpha1.License
	profiles map[string]*profileEntry

	users  map[string]*userEntry
	groups map[string]*groupEntry
	shares map[string]*shareEntry
	grants map[string]*grantEntry
	conns  map[string]*connEntry

	localMembers map[string][]*userEntry // group name -> users listing it in spec.groups
	ldapMembers  map[string][]*userEntry // normalised directory group -> users
	ldapGroups   map[string][]*groupEntry
	orgUsers     map[string][]*userEntry
	identities   map[string][]*userEntry // Kubernetes identity -> users claiming it (more than one is a conflict)
	logins       map[string][]*userEntry // spec.login -> users holding it (more than one is a conflict)
	seatLists    map[string]*seatList    // profile -> its active users in seat order

	sharesByUser  map[string][]*shareEntry
	sharesByGroup map[string][]*shareEntry
	sharesByOrg   map[string][]*shareEntry
	grantsByUser  map[string][]grantRef
	grantsByGroup map[string][]grantRef
	connsAll      set[*connEntry]
	connsByGroup  map[string][]connRef
	adminGroups   set[*groupEntry]

	resources map[resKey]*resEntry
	// byRank lists the resources in output order (compareRes); their
	// ranks increase along it, with gaps for the ones added later.
	byRank []*resEntry
	// building: NewIndex is adding the snapshot; it ranks the resources
	// once at the end instead of placing each.
	building bool

	// Dense ids of the entries, which index a scratch's marks.
	userIDs, groupIDs, shareIDs, resIDs idAlloc

	scratches scratchPool
	names     *nameCache
}

type set[T comparable] map[T]struct{}

// addToBag appends v to the list of k. Lists are the hot indexes: they
// iterate faster than sets.
func addToBag[K comparable, T comparable](m map[K][]T, k K, v T) {
	m[k] = append(m[k], v)
}

// delFromBag removes one occurrence of v from the list of k. It looks from
// the end: an object changed again soon after it was added (or changed:
// an upsert removes and appends) is found at once, where a scan from the
// start would cross a large group's whole list.
func delFromBag[K comparable, T comparable](m map[K][]T, k K, v T) {
	l := m[k]
	for i := len(l) - 1; i >= 0; i-- {
		if l[i] == v {
			l[i] = l[len(l)-1]
			var zero T
			l[len(l)-1] = zero
			l = l[:len(l)-1]
			break
		}
	}
	if len(l) == 0 {
		delete(m, k)
	} else {
		m[k] = l
	}
}

// unique returns the distinct strings of s in their first order (s itself
// when they are distinct already).
func unique(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := 0; j < i; j++ {
			if s[i] == s[j] {
				out := make([]string, 0, len(s))
				seen := map[string]bool{}
				for _, v := range s {
					if !seen[v] {
						seen[v] = true
						out = append(out, v)
					}
				}
				return out
			}
		}
	}
	return s
}

// removeOne removes the first v from l, keeping the order.
func removeOne[T comparable](l []T, v T) []T {
	for i := range l {
		if l[i] == v {
			return append(l[:i], l[i+1:]...)
		}
	}
	return l
}

// resKey names a resource: its type's catalogue index and its name.
type resKey struct {
	typ  int
	name string
}

// resEntry is a resource some object names, with the objects naming it.
type resEntry struct {
	// The fields a computation reads come first, in one cache line.
	id     int32
	rank   int32 // place in output order: increases along Index.byRank
	key    resKey
	shares []*shareEntry
	grants []*grantEntry
	conn   *connEntry
}

func (r *resEntry) empty() bool { return len(r.shares) == 0 && len(r.grants) == 0 && r.conn == nil }

type profileEntry struct {
	name    string
	order   int
	seats   int
	maxRank int
	maxRole iamv1alpha1.Role
	global  GlobalSet // what the profile allows, AllGlobal when omitted
}

type userEntry struct {
	obj       *iamv1alpha1.User
	name      string
	active    bool
	profile   string
	org       string
	groups    []string
	dirGroups []string // normalised
	identity  string   // the API-server user name standing for this user
	created   time.Time
	id        int32
}

// seatLess orders the users of a profile: creation first, then name.
func seatLess(a, b *userEntry) bool {
	if !a.created.Equal(b.created) {
		return a.created.Before(b.created)
	}
	return a.name < b.name
}

type groupEntry struct {
	obj    *iamv1alpha1.Group
	name   string
	global GlobalSet // known names only, not expanded
	ldap   []string  // normalised
	// subject is "group/<name>", as AccessVia.subject writes it.
	subject string
	// adminVia is the cached one-entry via list of its admin members.
	adminVia viaCache
	id       int32
}

type shareEntry struct {
	id       int32
	res      *resEntry // nil when the type is unknown
	grantees []granteeEntry
	vias     []viaCache // the one-entry via list per grantee
	name     string
	obj      *iamv1alpha1.Share
}

type granteeEntry struct {
	// The fields matching and accumulating read come first.
	// user or group is the User or Group the grantee names, while it
	// exists (kept current by putUser/dropUser, putGroup/dropGroup).
	user         *userEntry
	group        *groupEntry
	perms        PermissionSet
	rank         int
	code         uint8 // kind as granteeUser, granteeGroup or granteeOrg
	valid        bool  // role exists for the type
	allowSharing bool
	data         bool
	name         string
	kind         iamv1alpha1.GranteeKind
	role         iamv1alpha1.Role
	subject      string
}

// The grantee kinds as codes, for fast matching.
const (
	granteeUser uint8 = iota + 1
	granteeGroup
	granteeOrg
)

type grantEntry struct {
	obj      *iamv1alpha1.ResourceGrant
	name     string
	res      *resEntry
	valid    bool // every permission known: an unknown one voids the grant
	perms    PermissionSet
	subjects []iamv1alpha1.Subject
	// subjectStr is AccessVia.subject per subject; via caches the one-entry
	// via list per subject.
	subjectStr []string
	via        []viaCache
}

// grantRef is a ResourceGrant with the index of the subject that indexes
// it.
type grantRef struct {
	e  *grantEntry
	si int32
}

// connRef is a Connection with the index of the usableBy group that indexes
// it.
type connRef struct {
	c  *connEntry
	gi int32
}

type connEntry struct {
	obj    *iamv1alpha1.Connection
	name   string
	res    *resEntry
	mode   iamv1alpha1.AudienceMode
	groups []string
	// subjectStr is "group/<g>" per usableBy group; viaAll and via cache
	// the one-entry via lists for mode All and per group.
	subjectStr []string
	viaAll     viaCache
	via        []viaCache
}

// Objects is a namespace's objects by pointer, as a cache holds them: the
// form NewIndexOf takes, so that an Index built from an informer's cache
// keeps the cache's objects instead of copies of them.
type Objects struct {
	Now            time.Time
	License        *iamv1alpha1.License
	Users          []*iamv1alpha1.User
	Groups         []*iamv1alpha1.Group
	Connections    []*iamv1alpha1.Connection
	ResourceGrants []*iamv1alpha1.ResourceGrant
	Shares         []*iamv1alpha1.Share
}

// NewIndex builds an Index from a snapshot. The snapshot's objects are kept,
// not copied.
func NewIndex(s Snapshot) *Index {
	return NewIndexOf(Objects{Now: s.Now, License: s.License, Users: pointers(s.Users), Groups: pointers(s.Groups),
		Connections: pointers(s.Connections), ResourceGrants: pointers(s.ResourceGrants), Shares: pointers(s.Shares)})
}

func pointers[T any](s []T) []*T {
	out := make([]*T, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

// NewIndexOf builds an Index from objects it keeps, not copies; they must
// not change afterwards (a cache's objects do not).
func NewIndexOf(s Objects) *Index {
	ix := &Index{
		now:           s.Now,
		profiles:      map[string]*profileEntry{},
		users:         make(map[string]*userEntry, len(s.Users)),
		groups:        make(map[string]*groupEntry, len(s.Groups)),
		shares:        make(map[string]*shareEntry, len(s.Shares)),
		grants:        make(map[string]*grantEntry, len(s.ResourceGrants)),
		conns:         make(map[string]*connEntry, len(s.Connections)),
		localMembers:  map[string][]*userEntry{},
		ldapMembers:   map[string][]*userEntry{},
		ldapGroups:    map[string][]*groupEntry{},
		orgUsers:      map[string][]*userEntry{},
		identities:    map[string][]*userEntry{},
		logins:        map[string][]*userEntry{},
		seatLists:     map[string]*seatList{},
		sharesByUser:  map[string][]*shareEntry{},
		sharesByGroup: map[string][]*shareEntry{},
		sharesByOrg:   map[string][]*shareEntry{},
		grantsByUser:  map[string][]grantRef{},
		grantsByGroup: map[string][]grantRef{},
		connsAll:      set[*connEntry]{},
		connsByGroup:  map[string][]connRef{},
		adminGroups:   set[*groupEntry]{},
		resources:     map[resKey]*resEntry{},
		names:         newNameCache(),
		building:      true,
	}
	ix.setLicense(s.License)
	for _, u := range s.Users {
		ix.putUser(u, true)
	}
	for _, l := range ix.seatLists {
		sort.Slice(l.users, func(a, b int) bool { return seatLess(l.users[a], l.users[b]) })
	}
	for _, g := range s.Groups {
		ix.putGroup(g)
	}
	for _, c := range s.Connections {
		ix.putConn(c)
	}
	// A Share or ResourceGrant being deleted grants nothing, whatever
	// finalizers hold it.
	for _, sh := range s.Shares {
		if sh.DeletionTimestamp == nil {
			ix.putShare(sh)
		}
	}
	for _, g := range s.ResourceGrants {
		if g.DeletionTimestamp == nil {
			ix.putGrant(g)
		}
	}
	ix.rankResources()
	ix.building = false
	return ix
}

// SetNow changes the time the Index judges the License's expiry by, and
// returns what that touches (Affected): nothing, or, when the License
// expires or is renewed in between, every user, the Licenses and the
// Connections that read users' seats.
func (ix *Index) SetNow(now time.Time) Affected {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	before := ix.expired()
	ix.now = now
	if before == ix.expired() {
		return Affected{}
	}
	a := Affected{Users: ix.allUserNames(), Licenses: true}
	ix.related(&a, nil, nil)
	return a
}

func (ix *Index) expired() bool {
	return ix.license != nil && ix.license.Spec.ExpiresAt != nil && !ix.now.Before(ix.license.Spec.ExpiresAt.Time)
}

func (ix *Index) allUserNames() []string {
	out := make([]string, 0, len(ix.users))
	for n := range ix.users {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Upsert adds or replaces one object (*User, *Group, *Connection, *Share,
// *ResourceGrant or *License, by name) and returns what the change touches
// (Affected: the users whose result may change and the other objects whose
// status may). A Share or ResourceGrant being deleted (a deletion
// timestamp, held by finalizers) is removed: it grants nothing. The object
// must not be modified afterwards.
func (ix *Index) Upsert(obj metav1.Object) (Affected, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	before, err := ix.current(obj)
	if err != nil {
		return Affected{}, err
	}
	affected := ix.affected(before, obj)
	switch o := obj.(type) {
	case *iamv1alpha1.User:
		if old := ix.users[o.Name]; old != nil {
			ix.dropUser(old)
		}
		ix.putUser(o, false)
	case *iamv1alpha1.Group:
		if old := ix.groups[o.Name]; old != nil {
			ix.dropGroup(old)
		}
		ix.putGroup(o)
	case *iamv1alpha1.Connection:
		if old := ix.conns[o.Name]; old != nil {
			ix.dropConn(old)
		}
		ix.putConn(o)
	case *iamv1alpha1.Share:
		if old := ix.shares[o.Name]; old != nil {
			ix.dropShare(old)
		}
		if o.DeletionTimestamp == nil {
			ix.putShare(o)
		}
	case *iamv1alpha1.ResourceGrant:
		if old := ix.grants[o.Name]; old != nil {
			ix.dropGrant(old)
		}
		if o.DeletionTimestamp == nil {
			ix.putGrant(o)
		}
	case *iamv1alpha1.License:
		ix.setLicense(o)
	}
	return affected, nil
}

// Kind names an object kind for Delete.
type Kind string

// The kinds an Index holds.
const (
	KindUser          Kind = "User"
	KindGroup         Kind = "Group"
	KindConnection    Kind = "Connection"
	KindShare         Kind = "Share"
	KindResourceGrant Kind = "ResourceGrant"
	KindLicense       Kind = "License"
)

// Delete removes one object by kind and name and returns what the change
// touches (Affected). Deleting an object the Index does not hold
// changes nothing. The License is deleted whatever its name.
func (ix *Index) Delete(kind Kind, name string) (Affected, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	var before metav1.Object
	switch kind {
	case KindUser:
		if e := ix.users[name]; e != nil {
			before = e.obj
			defer ix.dropUser(e)
		}
	case KindGroup:
		if e := ix.groups[name]; e != nil {
			before = e.obj
			defer ix.dropGroup(e)
		}
	case KindConnection:
		if e := ix.conns[name]; e != nil {
			before = e.obj
			defer ix.dropConn(e)
		}
	case KindShare:
		if e := ix.shares[name]; e != nil {
			before = e.obj
			defer ix.dropShare(e)
		}
	case KindResourceGrant:
		if e := ix.grants[name]; e != nil {
			before = e.obj
			defer ix.dropGrant(e)
		}
	case KindLicense:
		if ix.license != nil {
			before = ix.license
			defer ix.setLicense(nil)
		}
	default:
		return Affected{}, fmt.Errorf("cannot delete a %s: an Index holds User, Group, Connection, Share, ResourceGrant and License", kind)
	}
	if before == nil {
		return Affected{}, nil
	}
	return ix.affected(before, nil), nil
}

// current returns the stored object of obj's kind and name, nil if none.
func (ix *Index) current(obj metav1.Object) (metav1.Object, error) {
	switch o := obj.(type) {
	case *iamv1alpha1.User:
		if e := ix.users[o.Name]; e != nil {
			return e.obj, nil
		}
	case *iamv1alpha1.Group:
		if e := ix.groups[o.Name]; e != nil {
			return e.obj, nil
		}
	case *iamv1alpha1.Connection:
		if e := ix.conns[o.Name]; e != nil {
			return e.obj, nil
		}
	case *iamv1alpha1.Share:
		if e := ix.shares[o.Name]; e != nil {
			return e.obj, nil
		}
	case *iamv1alpha1.ResourceGrant:
		if e := ix.grants[o.Name]; e != nil {
			return e.obj, nil
		}
	case *iamv1alpha1.License:
		if ix.license != nil {
			return ix.license, nil
		}
	default:
		return nil, fmt.Errorf("an Index holds User, Group, Connection, Share, ResourceGrant and License, not %T", obj)
	}
	return nil, nil
}

func (ix *Index) setLicense(l *iamv1alpha1.License) {
	ix.license = l
	ix.profiles = map[string]*profileEntry{}
	if l == nil {
		return
	}
	for i, p := range l.Spec.Profiles {
		pe := &profileEntry{name: p.Name, order: i, seats: int(p.Seats), maxRole: p.MaxRole, global: AllGlobal}
		if pe.maxRole == "" {
			pe.maxRole = iamv1alpha1.RoleOwner
		}
		pe.maxRank = roleRank(pe.maxRole)
		if pe.maxRank == rankNone { // an unknown maxRole caps at the lowest role
			pe.maxRank = rankConsumer
		}
		if p.GlobalPermissions != nil {
			pe.global = parseGlobalLenient(p.GlobalPermissions)
		}
		if _, dup := ix.profiles[p.Name]; !dup {
			ix.profiles[p.Name] = pe
		}
	}
}

func (ix *Index) resource(t iamv1alpha1.ResourceType, name string) *resEntry {
	ti, ok := typeByName[t]
	if !ok {
		return nil
	}
	k := resKey{ti, name}
	r := ix.resources[k]
	if r == nil {
		r = &resEntry{key: k, id: ix.resIDs.get()}
		ix.resources[k] = r
		if !ix.building {
			ix.placeResource(r)
		}
	}
	return r
}

func (ix *Index) releaseResource(r *resEntry) {
	if r != nil && r.empty() {
		delete(ix.resources, r.key)
		ix.resIDs.put(r.id)
		if i, found := slices.BinarySearchFunc(ix.byRank, r, compareRes); found {
			ix.byRank = slices.Delete(ix.byRank, i, i+1)
		}
	}
}

func (ix *Index) putUser(u *iamv1alpha1.User, bulk bool) {
	e := &userEntry{obj: u, name: u.Name, active: u.Spec.IsActive(), profile: u.Spec.Profile,
		org: u.Spec.Organization, groups: unique(u.Spec.Groups), identity: u.Spec.KubernetesIdentity(), created: u.CreationTimestamp.Time,
		id: ix.userIDs.get()}
	dns := make([]string, len(u.Spec.DirectoryGroups))
	for i, g := range u.Spec.DirectoryGroups {
		dns[i] = ldapdn.Normalize(g)
	}
	e.dirGroups = unique(dns)
	ix.users[e.name] = e
	addToBag(ix.identities, e.identity, e)
	addToBag(ix.logins, u.Spec.Login, e)
	ix.relinkGrantees(iamv1alpha1.GranteeUser, e.name, e, nil)
	for _, g := range e.groups {
		addToBag(ix.localMembers, g, e)
	}
	for _, dn := range e.dirGroups {
		addToBag(ix.ldapMembers, dn, e)
	}
	if e.org != "" {
		addToBag(ix.orgUsers, e.org, e)
	}
	if e.active {
		l := ix.seatLists[e.profile]
		if l == nil {
			l = &seatList{}
			ix.seatLists[e.profile] = l
		}
		if bulk {
			l.users = append(l.users, e)
		} else {
			l.insert(e)
		}
	}
}

func (ix *Index) dropUser(e *userEntry) {
	delete(ix.users, e.name)
	ix.userIDs.put(e.id)
	delFromBag(ix.identities, e.identity, e)
	delFromBag(ix.logins, e.obj.Spec.Login, e)
	ix.relinkGrantees(iamv1alpha1.GranteeUser, e.name, nil, nil)
	for _, g := range e.groups {
		delFromBag(ix.localMembers, g, e)
	}
	for _, dn := range e.dirGroups {
		delFromBag(ix.ldapMembers, dn, e)
	}
	if e.org != "" {
		delFromBag(ix.orgUsers, e.org, e)
	}
	if l := ix.seatLists[e.profile]; l != nil && e.active {
		l.remove(e)
		if len(l.users) == 0 {
			delete(ix.seatLists, e.profile)
		}
	}
}

func (ix *Index) putGroup(g *iamv1alpha1.Group) {
	e := &groupEntry{obj: g, name: g.Name, global: parseGlobalLenient(g.Spec.GlobalPermissions), subject: "group/" + g.Name, id: ix.groupIDs.get()}
	for _, dn := range g.Spec.LDAPGroups {
		e.ldap = append(e.ldap, ldapdn.Normalize(dn))
	}
	ix.groups[e.name] = e
	ix.relinkGrantees(iamv1alpha1.GranteeGroup, e.name, nil, e)
	for _, dn := range e.ldap {
		addToBag(ix.ldapGroups, dn, e)
	}
	if e.global&adminBit != 0 {
		ix.adminGroups[e] = struct{}{}
	}
}

func (ix *Index) dropGroup(e *groupEntry) {
	delete(ix.groups, e.name)
	ix.groupIDs.put(e.id)
	ix.relinkGrantees(iamv1alpha1.GranteeGroup, e.name, nil, nil)
	for _, dn := range e.ldap {
		delFromBag(ix.ldapGroups, dn, e)
	}
	delete(ix.adminGroups, e)
}

func (ix *Index) putConn(c *iamv1alpha1.Connection) {
	e := &connEntry{obj: c, name: c.Name, mode: iamv1alpha1.AudienceNone}
	if ub := c.Spec.UsableBy; ub != nil && ub.Mode != "" {
		e.mode = ub.Mode
		e.groups = ub.Groups
	}
	ix.conns[e.name] = e
	e.res = ix.resource(iamv1alpha1.ResourceConnection, e.name)
	e.res.conn = e
	switch e.mode {
	case iamv1alpha1.AudienceAll:
		ix.connsAll[e] = struct{}{}
	case iamv1alpha1.AudienceGroups:
		e.subjectStr = make([]string, len(e.groups))
		e.via = make([]viaCache, len(e.groups))
		for i, g := range e.groups {
			e.subjectStr[i] = "group/" + g
			addToBag(ix.connsByGroup, g, connRef{e, int32(i)})
		}
	}
}

func (ix *Index) dropConn(e *connEntry) {
	delete(ix.conns, e.name)
	delete(ix.connsAll, e)
	if e.mode == iamv1alpha1.AudienceGroups {
		for i, g := range e.groups {
			delFromBag(ix.connsByGroup, g, connRef{e, int32(i)})
		}
	}
	e.res.conn = nil
	ix.releaseResource(e.res)
}

// subjectOf is how a grantee or ResourceGrant subject reaches a user, as
// AccessVia.subject writes it.
func subjectOf(kind, name string) string {
	switch kind {
	case string(iamv1alpha1.GranteeGroup):
		return "group/" + name
	case string(iamv1alpha1.GranteeOrganization):
		return "organization/" + name
	}
	return "user"
}

func (ix *Index) putShare(s *iamv1alpha1.Share) {
	e := &shareEntry{obj: s, name: s.Name, res: ix.resource(s.Spec.Resource.Type, s.Spec.Resource.Name), id: ix.shareIDs.get(),
		vias: make([]viaCache, len(s.Spec.Grantees))}
	ix.shares[e.name] = e
	var ti *typeInfo
	if e.res != nil {
		ti = typeInfos[e.res.key.typ]
		e.res.shares = append(e.res.shares, e)
	}
	for _, g := range s.Spec.Grantees {
		ge := granteeEntry{kind: g.Kind, name: g.Name, role: g.Role, rank: roleRank(g.Role),
			allowSharing: g.AllowSharing, subject: subjectOf(string(g.Kind), g.Name)}
		if ti != nil && ti.validRole(g.Role) == nil {
			ge.valid = true
			ge.data = g.CanUseData && ti.data
			ge.perms = ti.roleSet(ge.rank, ge.data)
		}
		switch g.Kind {
		case iamv1alpha1.GranteeUser:
			ge.code, ge.user = granteeUser, ix.users[g.Name]
			addToBag(ix.sharesByUser, g.Name, e)
		case iamv1alpha1.GranteeGroup:
			ge.code, ge.group = granteeGroup, ix.groups[g.Name]
			addToBag(ix.sharesByGroup, g.Name, e)
		case iamv1alpha1.GranteeOrganization:
			ge.code = granteeOrg
			addToBag(ix.sharesByOrg, g.Name, e)
		}
		e.grantees = append(e.grantees, ge)
	}
}

// relinkGrantees points the grantees naming a user or group at its entry
// (nil when it is gone).
func (ix *Index) relinkGrantees(kind iamv1alpha1.GranteeKind, name string, u *userEntry, g *groupEntry) {
	bag := ix.sharesByUser[name]
	if kind == iamv1alpha1.GranteeGroup {
		bag = ix.sharesByGroup[name]
	}
	for _, s := range bag {
		for i := range s.grantees {
			if ge := &s.grantees[i]; ge.kind == kind && ge.name == name {
				ge.user, ge.group = u, g
			}
		}
	}
}

func (ix *Index) dropShare(e *shareEntry) {
	delete(ix.shares, e.name)
	ix.shareIDs.put(e.id)
	for _, g := range e.grantees {
		switch g.kind {
		case iamv1alpha1.GranteeUser:
			delFromBag(ix.sharesByUser, g.name, e)
		case iamv1alpha1.GranteeGroup:
			delFromBag(ix.sharesByGroup, g.name, e)
		case iamv1alpha1.GranteeOrganization:
			delFromBag(ix.sharesByOrg, g.name, e)
		}
	}
	if e.res != nil {
		e.res.shares = removeOne(e.res.shares, e)
		ix.releaseResource(e.res)
	}
}

func (ix *Index) putGrant(g *iamv1alpha1.ResourceGrant) {
	e := &grantEntry{obj: g, name: g.Name, res: ix.resource(g.Spec.Resource.Type, g.Spec.Resource.Name), subjects: g.Spec.Subjects}
	ix.grants[e.name] = e
	if e.res != nil {
		ti := typeInfos[e.res.key.typ]
		e.res.grants = append(e.res.grants, e)
		if set, err := ti.parse(g.Spec.Permissions); err == nil {
			e.valid = true
			e.perms = ti.implied(set)
		}
	}
	e.subjectStr = make([]string, len(e.subjects))
	e.via = make([]viaCache, len(e.subjects))
	for i, s := range e.subjects {
		switch s.Kind {
		case iamv1alpha1.SubjectUser:
			e.subjectStr[i] = "user"
			addToBag(ix.grantsByUser, s.Name, grantRef{e, int32(i)})
		case iamv1alpha1.SubjectGroup:
			e.subjectStr[i] = "group/" + s.Name
			addToBag(ix.grantsByGroup, s.Name, grantRef{e, int32(i)})
		}
	}
}

func (ix *Index) dropGrant(e *grantEntry) {
	delete(ix.grants, e.name)
	for i, s := range e.subjects {
		switch s.Kind {
		case iamv1alpha1.SubjectUser:
			delFromBag(ix.grantsByUser, s.Name, grantRef{e, int32(i)})
		case iamv1alpha1.SubjectGroup:
			delFromBag(ix.grantsByGroup, s.Name, grantRef{e, int32(i)})
		}
	}
	if e.res != nil {
		e.res.grants = removeOne(e.res.grants, e)
		ix.releaseResource(e.res)
	}
}

// seatList is the active users of one profile in seat order.
type seatList struct {
	users []*userEntry
}

// pos returns where e is or would be in the list.
func (l *seatList) pos(e *userEntry) int {
	return sort.Search(len(l.users), func(i int) bool { return !seatLess(l.users[i], e) })
}

func (l *seatList) insert(e *userEntry) {
	i := l.pos(e)
	l.users = append(l.users, nil)
	copy(l.users[i+1:], l.users[i:])
	l.users[i] = e
}

func (l *seatList) remove(e *userEntry) {
	i := l.pos(e)
	for i < len(l.users) && l.users[i] != e {
		i++
	}
	if i < len(l.users) {
		l.users = append(l.users[:i], l.users[i+1:]...)
	}
}

// rank returns e's place in the list (0 first), -1 if absent.
func (l *seatList) rank(e *userEntry) int {
	if l == nil {
		return -1
	}
	for i := l.pos(e); i < len(l.users); i++ {
		if l.users[i] == e {
			return i
		}
		if seatLess(e, l.users[i]) {
			break
		}
	}
	return -1
}
