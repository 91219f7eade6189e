package ldap

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/gatehouse-dev/gatehouse/internal/ldapdn"
)

// Snapshot is what Read found in a directory.
type Snapshot struct {
	// Users are the users with a usable login, sorted by login.
	Users []User
	// Groups are the groups, sorted by normalised DN. Empty when the Query
	// has no Groups.
	Groups []Group
	// Skipped are the user entries that are not in Users, with the reason:
	// no login, a login with white space, or a login that more than one
	// entry has (all of those are skipped: the directory must say who is
	// who). Sorted by DN.
	Skipped []Skipped
	// Cycles are the DNs of groups that contain themselves through nesting
	// (Recursive only), sorted. Their members are still counted once.
	Cycles []string
	// DepthLimited are the DNs of groups whose Recursive expansion stopped at
	// MaxNestingDepth with member groups left, sorted: their members below
	// that depth are not counted.
	DepthLimited []string
	// Stats are the counts of the read.
	Stats Stats
}

// Stats are the counts of one Read, for status fields, metrics and the
// caller's safety bounds.
type Stats struct {
	// UserEntries is how many entries the user search returned, skipped ones
	// included.
	UserEntries int
	// GroupEntries is how many entries the group search returned.
	GroupEntries int
	// Searches is how many search requests were made: the paged user and
	// group searches count once each, every ranged-attribute request,
	// in-chain search and the search for entries with members
	// (ActiveDirectory, readChains) once more.
	Searches int
	// RangedGroups is how many groups had so many members that the server
	// returned them in ranges (Active Directory), all of which were read.
	RangedGroups int
}

// User is one directory user.
type User struct {
	// DN is the entry's DN as the server spelled it.
	DN string
	// Login is the first non-empty login attribute's value (lower case when
	// the Query says so).
	Login string
	// DisplayName is the first non-empty display name attribute's value.
	DisplayName string
	// Email is the e-mail attribute's first value.
	Email string
	// Groups are the user's directory groups, direct and (as the Query's
	// nesting mode says) nested, sorted by normalised DN.
	Groups []GroupRef
}

// GroupRef is one group of a user.
type GroupRef struct {
	// DN is the group's DN as the server spelled it.
	DN string
	// Name is the group's name attribute (or its RDN value).
	Name string
	// Direct is true when the group lists the user itself, false when the
	// user is a member through nested groups only.
	Direct bool
}

// GroupKeys returns the DNs and the names of the user's groups, sorted and
// without duplicates: the form of User.spec.directoryGroups, which a Group's
// ldapGroups may match by DN or by name.
func (u *User) GroupKeys() []string {
	keys := make([]string, 0, 2*len(u.Groups))
	seen := make(map[string]bool, 2*len(u.Groups))
	for _, g := range u.Groups {
		for _, k := range []string{g.DN, g.Name} {
			if k != "" && !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

// Group is one directory group.
type Group struct {
	// DN is the group's DN as the server spelled it.
	DN string
	// Name is the group's name attribute, or the value of its DN's first RDN
	// when it has none.
	Name string
	// Members are the group's direct member values (DNs, or logins for
	// memberUid), all ranges read, duplicates removed, in the server's order;
	// with GroupQuery.PrimaryGroups followed by the DNs of the users read
	// whose primary group it is.
	Members []string
	// MemberCount is len(Members): the group's direct members, users and
	// groups, whether or not they are in the snapshot.
	MemberCount int
	// Users are the logins of the snapshot's users who are members, directly
	// or through nesting, sorted.
	Users []string
}

// Skipped is a user entry that Read could not turn into a User.
type Skipped struct {
	// DN is the entry's DN.
	DN string
	// Reason says why, in a sentence.
	Reason string
}

// Read reads the users and groups q describes through conn and returns them
// with their memberships. It fails as a whole: an error means no snapshot,
// never a partial one, so a caller can never mistake an interrupted read for
// users who left.
func Read(ctx context.Context, conn Conn, q Query) (*Snapshot, error) {
	q = q.withDefaults()
	if err := q.validate(); err != nil {
		return nil, err
	}
	r := &reader{conn: conn, q: q}
	users, err := r.readUsers(ctx)
	if err != nil {
		return nil, err
	}
	var groups []*Entry
	if q.Groups != nil {
		if groups, err = r.readGroups(ctx); err != nil {
			return nil, err
		}
		addPrimaryMembers(q, users, groups)
	}
	p := prepare(q, users, groups)
	var inChain map[string][]string
	if q.Groups != nil && q.Groups.Nested == NestingActiveDirectory {
		if inChain, err = r.readChains(ctx, p); err != nil {
			return nil, err
		}
	}
	snap := p.finish(inChain)
	snap.Stats = r.stats
	return snap, nil
}

// reader runs the searches of one Read.
type reader struct {
	conn  Conn
	q     Query
	stats Stats
}

func (r *reader) search(ctx context.Context, req SearchRequest, fn func(*Entry) error) error {
	r.stats.Searches++
	return r.conn.Search(ctx, req, fn)
}

// userAttributes are the attributes a user search asks for.
func (q Query) userAttributes() []string {
	u := q.Users
	return uniqueFold(append(append(append(append([]string(nil), u.LoginAttributes...), u.DisplayNameAttributes...), u.EmailAttribute), q.primaryGroupAttributes()...))
}

func (r *reader) readUsers(ctx context.Context) ([]*Entry, error) {
	u := r.q.Users
	attrs := r.q.userAttributes()
	if g := r.q.Groups; g != nil && g.Nested == NestingActiveDirectory {
		// A user entry is a leaf of the nesting only if it lists no members
		// itself; asking costs nothing where, as in Active Directory, users
		// have none.
		s, _ := schemaFor(g.MemberAttribute)
		attrs = uniqueFold(append(attrs, string(s.attribute)))
	}
	var out []*Entry
	err := r.search(ctx, SearchRequest{
		BaseDN: u.BaseDN, Scope: u.Scope, Filter: u.Filter,
		Attributes: attrs, PageSize: r.q.PageSize,
	}, func(e *Entry) error {
		r.stats.UserEntries++
		if r.q.MaxUsers > 0 && r.stats.UserEntries > r.q.MaxUsers {
			return newError(ReasonTooLarge, nil,
				"the user search below %s returns more than %d entries, the bound of this sync; narrow users.baseDN or users.filter", u.BaseDN, r.q.MaxUsers)
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot read the users: %w", err)
	}
	return out, nil
}

func (r *reader) readGroups(ctx context.Context) ([]*Entry, error) {
	g := r.q.Groups
	s, _ := schemaFor(g.MemberAttribute)
	attr := string(s.attribute)
	var out []*Entry
	type pending struct {
		entry  *Entry
		values []string
		next   int
	}
	var more []pending
	err := r.search(ctx, SearchRequest{
		BaseDN: g.BaseDN, Scope: g.Scope, Filter: g.Filter,
		Attributes: uniqueFold(append([]string{g.NameAttribute, attr}, r.q.groupSIDAttributes()...)), PageSize: r.q.PageSize,
	}, func(e *Entry) error {
		r.stats.GroupEntries++
		if r.q.MaxGroups > 0 && r.stats.GroupEntries > r.q.MaxGroups {
			return newError(ReasonTooLarge, nil,
				"the group search below %s returns more than %d entries, the bound of this sync; narrow groups.baseDN or groups.filter", g.BaseDN, r.q.MaxGroups)
		}
		values, next := rangedValues(e, attr)
		ge := &Entry{DN: e.DN, Attributes: []Attribute{
			{Name: g.NameAttribute, Values: e.Values(g.NameAttribute)},
			{Name: attr, Values: values},
		}}
		if g.PrimaryGroups {
			ge.Attributes = append(ge.Attributes, Attribute{Name: attrObjectSID, Values: e.Values(attrObjectSID)})
		}
		out = append(out, ge)
		if next >= 0 {
			more = append(more, pending{entry: ge, values: values, next: next})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot read the groups: %w", err)
	}
	// The rest of ranged values is read after the paged search has ended:
	// a Conn runs one search at a time.
	for _, p := range more {
		rest, err := r.readRange(ctx, p.entry.DN, attr, p.next)
		if err != nil {
			return nil, err
		}
		p.entry.Attributes[1].Values = append(p.values, rest...)
		r.stats.RangedGroups++
	}
	return out, nil
}

// maxRangeRequests bounds the requests for one ranged attribute: with
// Active Directory's MaxValRange of 1500 that is 15 million values.
const maxRangeRequests = 10000

// readRange reads the values of attr of the entry dn from index next on,
// range after range, until the server marks the last one with *.
func (r *reader) readRange(ctx context.Context, dn, attr string, next int) ([]string, error) {
	var out []string
	for i := 0; next >= 0; i++ {
		if i == maxRangeRequests {
			return nil, newError(ReasonSearchFailed, nil,
				"the %s values of %s did not end after %d range requests; the server's ranges do not add up", attr, dn, maxRangeRequests)
		}
		var got *Entry
		err := r.search(ctx, SearchRequest{
			BaseDN: dn, Scope: ScopeBase, Filter: "(objectClass=*)",
			Attributes: []string{rangeRequest(attr, next)},
		}, func(e *Entry) error {
			got = e
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("cannot read the %s values of group %s from value %d on: %w", attr, dn, next, err)
		}
		if got == nil {
			return nil, newError(ReasonSearchFailed, nil,
				"group %s disappeared while its %s values were read; the next sync reads it again", dn, attr)
		}
		values, n := rangedValues(got, attr)
		if n >= 0 && (n <= next || len(values) == 0) {
			return nil, newError(ReasonSearchFailed, nil,
				"the server returned no progress for the %s values of %s from value %d on; its ranges do not add up", attr, dn, next)
		}
		out = append(out, values...)
		next = n
	}
	return out, nil
}

// readChains asks the server for what the groups' member values cannot
// show (ActiveDirectory): the in-chain members of the DNs p.chainTargets
// names. When that is more than one search, one search first finds which
// entries of the group search's subtree list members at all: an outside DN
// in that subtree that lists none is a leaf (a computer, a contact, a
// disabled user, a foreign security principal), through which nobody is a
// member, and needs no in-chain search.
func (r *reader) readChains(ctx context.Context, p *prepared) (map[string][]string, error) {
	targets := p.chainTargets()
	if len(targets) > 1 && p.outsideInGroupScope() {
		holders, err := r.readMemberHolders(ctx)
		if err != nil {
			return nil, err
		}
		p.dropLeaves(holders)
		targets = p.chainTargets()
	}
	return r.readInChain(ctx, targets)
}

// readMemberHolders returns the normalised DNs of the entries in the group
// search's base and scope that have a member value, whatever their class.
func (r *reader) readMemberHolders(ctx context.Context) (map[string]bool, error) {
	g := r.q.Groups
	s, _ := schemaFor(g.MemberAttribute)
	out := map[string]bool{}
	err := r.search(ctx, SearchRequest{
		BaseDN: g.BaseDN, Scope: g.Scope, Filter: "(" + string(s.attribute) + "=*)",
		Attributes: []string{"1.1"}, PageSize: r.q.PageSize,
	}, func(e *Entry) error {
		out[ldapdn.Normalize(e.DN)] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot read which entries below %s have %s values: %w", g.BaseDN, s.attribute, err)
	}
	return out, nil
}

// readInChain asks the server, for every DN of targets (a group's, or a
// member's the group search did not read), which users are members of it
// through any chain of member links (Active Directory's in-chain rule on the
// users' memberOf). The result is keyed by the normalised DN.
func (r *reader) readInChain(ctx context.Context, targets []string) (map[string][]string, error) {
	u := r.q.Users
	s, _ := schemaFor(r.q.Groups.MemberAttribute)
	out := make(map[string][]string, len(targets))
	for _, dn := range targets {
		var dns []string
		err := r.search(ctx, SearchRequest{
			BaseDN: u.BaseDN, Scope: u.Scope,
			Filter:     andFilter(u.Filter, inChainFilter(s.backlink, dn)),
			Attributes: []string{"1.1"}, PageSize: r.q.PageSize,
		}, func(e *Entry) error {
			dns = append(dns, e.DN)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("cannot read the nested members of %s: %w", dn, err)
		}
		out[ldapdn.Normalize(dn)] = dns
	}
	return out, nil
}

// userRec is a user entry turned into a User, before memberships.
type userRec struct {
	user User
	raw  string // the login as the directory wrote it
}

// toUser maps one entry; reason is non-empty when it cannot be a User.
func (q Query) toUser(e *Entry) (rec userRec, reason string) {
	u := q.Users
	raw, _ := firstValue(e, u.LoginAttributes)
	if raw == "" {
		return rec, fmt.Sprintf("it has no value in %s", strings.Join(u.LoginAttributes, ", "))
	}
	if strings.IndexFunc(raw, unicode.IsSpace) >= 0 {
		return rec, fmt.Sprintf("its login %q contains white space, which a login cannot", raw)
	}
	login := raw
	if u.LowercaseLogins != nil && *u.LowercaseLogins {
		login = strings.ToLower(login)
	}
	display, _ := firstValue(e, u.DisplayNameAttributes)
	return userRec{raw: raw, user: User{
		DN: e.DN, Login: login, DisplayName: display, Email: e.First(u.EmailAttribute),
	}}, ""
}

// groupName is the group's name attribute, or its RDN value.
func (q Query) groupName(e *Entry) string {
	if n := e.First(q.Groups.NameAttribute); n != "" {
		return n
	}
	return rdnValue(e.DN)
}

// assemble builds a Snapshot from the entries Read found and, for
// ActiveDirectory, the server's in-chain answers (see prepared.finish). It
// is pure: the same entries give the same Snapshot, whatever their order.
func assemble(q Query, userEntries, groupEntries []*Entry, inChain map[string][]string) *Snapshot {
	return prepare(q, userEntries, groupEntries).finish(inChain)
}

// prepared is what Read found, turned into users, groups and the membership
// graph between them, before nested groups are expanded.
type prepared struct {
	q    Query
	snap *Snapshot // Users and Skipped
	recs []groupRec
	ix   userIndex
	g    graph
	// outside[i] are the normalised member DNs of group i that are neither a
	// group the group search read nor a user entry without members of its
	// own (ActiveDirectory only): the DNs below which the member values read
	// do not show who is a member. spelled has their spelling.
	outside [][]string
	spelled map[string]string
	// reach caches outsideReach.
	reach     [][]string
	reachDone bool
}

// prepare builds the users and the membership graph from the entries.
func prepare(q Query, userEntries, groupEntries []*Entry) *prepared {
	p := &prepared{q: q, snap: &Snapshot{}}
	p.snap.Users, p.snap.Skipped = assembleUsers(q, userEntries)
	if q.Groups == nil {
		return p
	}
	s, _ := schemaFor(q.Groups.MemberAttribute)
	p.recs = groupRecords(q, s, groupEntries)
	p.ix = newUserIndex(p.snap.Users)
	p.buildGraph(s, userEntries)
	return p
}

// finish expands the nested groups and fills in the snapshot's groups and
// the users' groups. inChain are the server's answers to the in-chain
// searches of chainTargets, by normalised DN (ActiveDirectory only).
func (p *prepared) finish(inChain map[string][]string) *Snapshot {
	snap := p.snap
	if p.q.Groups == nil {
		return snap
	}
	x := p.expand(inChain)
	for _, i := range x.cycles {
		snap.Cycles = append(snap.Cycles, p.recs[i].group.DN)
	}
	for _, i := range x.limited {
		snap.DepthLimited = append(snap.DepthLimited, p.recs[i].group.DN)
	}
	snap.Groups = make([]Group, len(p.recs))
	for i, r := range p.recs {
		grp := r.group
		for _, m := range x.members[i] {
			u := &snap.Users[m.user]
			grp.Users = append(grp.Users, u.Login)
			u.Groups = append(u.Groups, GroupRef{DN: grp.DN, Name: grp.Name, Direct: m.direct})
		}
		sort.Strings(grp.Users)
		snap.Groups[i] = grp
	}
	// Groups were visited in DN order, so every user's list is sorted.
	return snap
}

// assembleUsers maps the user entries to Users, one per login, sorted by
// login; an entry that cannot be a User, or whose login several entries
// share (nobody's, then), is skipped. Skipped is sorted by DN.
func assembleUsers(q Query, userEntries []*Entry) ([]User, []Skipped) {
	var users []User
	var skipped []Skipped
	byLogin := map[string][]userRec{}
	for _, e := range userEntries {
		rec, reason := q.toUser(e)
		if reason != "" {
			skipped = append(skipped, Skipped{DN: e.DN, Reason: reason})
			continue
		}
		k := strings.ToLower(rec.user.Login)
		byLogin[k] = append(byLogin[k], rec)
	}
	for _, recs := range byLogin {
		if len(recs) == 1 {
			users = append(users, recs[0].user)
			continue
		}
		dns := make([]string, len(recs))
		for i, r := range recs {
			dns[i] = r.user.DN
		}
		sort.Strings(dns)
		for _, r := range recs {
			skipped = append(skipped, Skipped{DN: r.user.DN, Reason: fmt.Sprintf(
				"its login %q is also the login of %s; a login must belong to one entry", r.user.Login, others(dns, r.user.DN))})
		}
	}
	sort.Slice(users, func(i, j int) bool { return users[i].Login < users[j].Login })
	sort.Slice(skipped, func(i, j int) bool { return skipped[i].DN < skipped[j].DN })
	return users, skipped
}

// groupRec is a group entry with its direct members, before expansion.
type groupRec struct {
	key   string // the normalised DN
	group Group
	keys  []string // normalised member values
}

// groupRecords turns the group entries into groupRecs sorted by normalised
// DN; a DN seen twice counts once, and so does a member value.
func groupRecords(q Query, s memberSchema, groupEntries []*Entry) []groupRec {
	recs := make([]groupRec, 0, len(groupEntries))
	seenGroup := make(map[string]bool, len(groupEntries))
	for _, e := range groupEntries {
		key := ldapdn.Normalize(e.DN)
		if seenGroup[key] {
			continue
		}
		seenGroup[key] = true
		rec := groupRec{key: key, group: Group{DN: e.DN, Name: q.groupName(e)}}
		seenMember := map[string]bool{}
		for _, raw := range e.Values(string(s.attribute)) {
			v := s.value(raw)
			if v == "" {
				continue
			}
			mk := strings.ToLower(v)
			if s.kind == dnValues {
				mk = ldapdn.Normalize(v)
			}
			if seenMember[mk] {
				continue
			}
			seenMember[mk] = true
			rec.group.Members = append(rec.group.Members, v)
			rec.keys = append(rec.keys, mk)
		}
		rec.group.MemberCount = len(rec.group.Members)
		recs = append(recs, rec)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].key < recs[j].key })
	return recs
}

// userIndex finds a snapshot user's index by normalised DN or by login in
// lower case.
type userIndex struct {
	count         int // the number of users
	byDN, byLogin map[string]int
}

func newUserIndex(users []User) userIndex {
	ix := userIndex{count: len(users), byDN: make(map[string]int, len(users)), byLogin: make(map[string]int, len(users))}
	for i, u := range users {
		ix.byDN[ldapdn.Normalize(u.DN)] = i
		ix.byLogin[strings.ToLower(u.Login)] = i
	}
	return ix
}

// buildGraph builds the membership graph of p.recs: the direct users of
// every group and, when nesting, its member groups; for ActiveDirectory also
// the outside DNs.
func (p *prepared) buildGraph(s memberSchema, userEntries []*Entry) {
	gq := p.q.Groups
	groupByDN := make(map[string]int, len(p.recs))
	for i, r := range p.recs {
		groupByDN[r.key] = i
	}
	ad := gq.Nested == NestingActiveDirectory
	var leaves map[string]bool
	if ad {
		leaves = userLeaves(s, userEntries)
		p.outside = make([][]string, len(p.recs))
		p.spelled = map[string]string{}
	}
	g := graph{numUsers: p.ix.count, users: make([][]int, len(p.recs)), groups: make([][]int, len(p.recs))}
	for i, r := range p.recs {
		for j, k := range r.keys {
			if s.kind == loginValues {
				if u, ok := p.ix.byLogin[k]; ok {
					g.users[i] = append(g.users[i], u)
				}
				continue
			}
			if u, ok := p.ix.byDN[k]; ok {
				g.users[i] = append(g.users[i], u)
			}
			sub, isGroup := groupByDN[k]
			switch {
			case isGroup && gq.Nested != NestingNone:
				g.groups[i] = append(g.groups[i], sub)
			case ad && !isGroup && !leaves[k]:
				p.outside[i] = append(p.outside[i], k)
				if _, ok := p.spelled[k]; !ok {
					p.spelled[k] = r.group.Members[j]
				}
			}
		}
	}
	p.g = g
}

// userLeaves returns the normalised DNs of the user entries that list no
// members themselves.
func userLeaves(s memberSchema, userEntries []*Entry) map[string]bool {
	out := make(map[string]bool, len(userEntries))
	for _, e := range userEntries {
		if values, next := rangedValues(e, string(s.attribute)); len(values) == 0 && next < 0 {
			out[ldapdn.Normalize(e.DN)] = true
		}
	}
	return out
}

// expand expands the graph as the nesting mode says: Recursive in memory
// with walkNesting, up to MaxNestingDepth; ActiveDirectory in memory without
// a depth bound, as the in-chain rule has none, plus the server's in-chain
// answers for the outside DNs a group reaches (or for the group itself).
// Cycles and the depth bound are reported for Recursive only.
func (p *prepared) expand(inChain map[string][]string) expansion {
	gq := p.q.Groups
	switch gq.Nested {
	case NestingRecursive:
		return expand(p.g, gq.MaxNestingDepth)
	case NestingActiveDirectory:
	default:
		return expand(p.g, 0)
	}
	// A path through distinct groups is shorter than their number, so this
	// depth is no bound.
	x := expand(p.g, len(p.recs))
	x.cycles, x.limited = nil, nil
	reach := p.outsideReach()
	for i, r := range p.recs {
		dns := inChain[r.key]
		if reach != nil {
			for _, k := range reach[i] {
				dns = append(dns[:len(dns):len(dns)], inChain[k]...)
			}
		}
		if len(dns) > 0 {
			x.members[i] = mergeInChain(x.members[i], dns, p.ix.byDN)
		}
	}
	return x
}

// mergeInChain adds the in-chain members that are snapshot users to the
// direct members ms.
func mergeInChain(ms []member, dns []string, userByDN map[string]int) []member {
	have := make(map[int]bool, len(ms))
	for _, m := range ms {
		have[m.user] = true
	}
	for _, dn := range dns {
		if u, ok := userByDN[ldapdn.Normalize(dn)]; ok && !have[u] {
			have[u] = true
			ms = append(ms, member{user: u})
		}
	}
	sort.Slice(ms, func(a, b int) bool { return ms[a].user < ms[b].user })
	return ms
}

// others lists the DNs other than self.
func others(dns []string, self string) string {
	var out []string
	for _, d := range dns {
		if d != self {
			out = append(out, d)
		}
	}
	return strings.Join(out, " and ")
}

// uniqueFold returns list without case-insensitive duplicates, in order.
func uniqueFold(list []string) []string {
	seen := make(map[string]bool, len(list))
	out := list[:0:0]
	for _, s := range list {
		if k := strings.ToLower(s); !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}
