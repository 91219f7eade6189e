package ldap

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/ldapdn"
)

// fakeAD is a directory in memory that answers the searches of an
// ActiveDirectory Read as a domain controller would, the in-chain rule
// included: a user matches (memberOf:1.2.840.113556.1.4.1941:=X) when a
// chain of member links of any entries leads from X to it.
type fakeAD struct {
	users   []*Entry            // what the user search returns
	groups  []*Entry            // what the group search returns
	members map[string][]string // every entry's member values, by normalised DN
	userKey map[string]string   // the user search's entries: normalised DN → uid
}

// add records an entry's member values; user and group say which search
// returns it.
func (f *fakeAD) add(e *Entry, user, group bool) {
	if f.members == nil {
		f.members, f.userKey = map[string][]string{}, map[string]string{}
	}
	k := ldapdn.Normalize(e.DN)
	f.members[k] = e.Values("member")
	if user {
		f.users = append(f.users, e)
		f.userKey[k] = e.First("uid")
	}
	if group {
		f.groups = append(f.groups, e)
	}
}

// inChain returns the user entries a chain of member links leads to from dn.
func (f *fakeAD) inChain(dn string) []*Entry {
	reached := map[string]bool{}
	frontier := []string{ldapdn.Normalize(dn)}
	for len(frontier) > 0 {
		var next []string
		for _, k := range frontier {
			for _, m := range f.members[k] {
				if mk := ldapdn.Normalize(m); !reached[mk] {
					reached[mk] = true
					next = append(next, mk)
				}
			}
		}
		frontier = next
	}
	var out []*Entry
	for k := range reached {
		if _, ok := f.userKey[k]; ok {
			out = append(out, ent(k))
		}
	}
	return out
}

func (f *fakeAD) conn() *fakeConn {
	inChainPrefix := "(&" + DefaultUserFilter + "(memberOf:" + InChainRule + ":="
	return &fakeConn{handle: func(req SearchRequest) ([]*Entry, error) {
		switch {
		case req.BaseDN == people && req.Filter == DefaultUserFilter:
			return f.users, nil
		case req.BaseDN == groups && req.Filter == DefaultGroupFilter:
			return f.groups, nil
		case req.Filter == "(member=*)":
			var out []*Entry
			base := ldapdn.Normalize(req.BaseDN)
			for k, ms := range f.members {
				if len(ms) > 0 && inScope(k, base, req.Scope) {
					out = append(out, ent(k))
				}
			}
			return out, nil
		case req.BaseDN == people && strings.HasPrefix(req.Filter, inChainPrefix):
			dn, err := unescapeFilterValue(strings.TrimSuffix(strings.TrimPrefix(req.Filter, inChainPrefix), "))"))
			if err != nil {
				return nil, err
			}
			return f.inChain(dn), nil
		}
		return nil, fmt.Errorf("unexpected search %+v", req)
	}}
}

// unescapeFilterValue undoes the \hh escapes of a filter value.
func unescapeFilterValue(v string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '\\' {
			b.WriteByte(v[i])
			continue
		}
		var c byte
		if i+2 >= len(v) {
			return "", fmt.Errorf("bad escape in %q", v)
		}
		if _, err := fmt.Sscanf(v[i+1:i+3], "%02x", &c); err != nil {
			return "", fmt.Errorf("bad escape in %q: %w", v, err)
		}
		b.WriteByte(c)
		i += 2
	}
	return b.String(), nil
}

// want is the snapshot's groups as the server's in-chain rule sees them:
// for every group the group search returns, the logins of its members
// through any chain, and which of them it lists itself.
func (f *fakeAD) want() map[string][]string {
	out := map[string][]string{}
	for _, g := range f.groups {
		direct := normalisedSet(g.Values("member"))
		var ms []string
		for _, u := range f.inChain(g.DN) {
			login := f.userKey[u.DN] // u.DN is normalised
			if direct[u.DN] {
				login += " (direct)"
			}
			ms = append(ms, login)
		}
		sort.Strings(ms)
		out[ldapdn.Normalize(g.DN)] = ms
	}
	return out
}

// got is want's form of a snapshot.
func got(snap *Snapshot) map[string][]string {
	out := map[string][]string{}
	for _, g := range snap.Groups {
		out[ldapdn.Normalize(g.DN)] = nil
	}
	for _, u := range snap.Users {
		for _, g := range u.Groups {
			k := ldapdn.Normalize(g.DN)
			login := u.Login
			if g.Direct {
				login += " (direct)"
			}
			out[k] = append(out[k], login)
		}
	}
	for _, ms := range out {
		sort.Strings(ms)
	}
	return out
}

// A random directory with what makes the local expansion blind: groups the
// group filter leaves out, groups outside the group base, leaves in and out
// of the group search's scope (computers, disabled users, foreign security
// principals), a member that has no entry, a user entry listing members,
// cycles and chains deeper than MaxNestingDepth. ActiveDirectory Read must
// give exactly the in-chain rule's memberships, with never more searches
// than one per group (plus one to find the leaves).
func TestReadActiveDirectoryMatchesInChainRule(t *testing.T) {
	// How often each way of asking was taken, so that the test cannot pass
	// without trying them all.
	var holders, byGroup, byOutside int
	defer func() {
		if holders == 0 || byGroup == 0 || byOutside == 0 {
			t.Errorf("the random directories asked for entries with members %d times, in-chain by group %d and by outside DN %d; each must occur",
				holders, byGroup, byOutside)
		}
	}()
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 17))
		f := &fakeAD{}
		var dns []string // every DN a group may list
		for i := range 12 {
			u := person(fmt.Sprintf("u%02d", i))
			dns = append(dns, u.DN)
			f.add(u, true, false)
		}
		leaves := []string{
			"cn=pc1," + groups, "cn=pc2," + groups, // computers in the group base
			"uid=disabled," + people,                        // a user the filter leaves out
			"cn=S-1-5-11,cn=ForeignSecurityPrincipals,dc=x", // out of the group scope
			"cn=gone,dc=x",                                  // no entry
		}
		for _, l := range leaves {
			f.members[ldapdn.Normalize(l)] = nil
		}
		dns = append(dns, leaves...)
		type node struct {
			dn           string
			user, listed bool
		}
		var nodes []node
		for i := range 10 {
			nodes = append(nodes, node{dn: gdn(fmt.Sprintf("g%02d", i)), listed: true})
		}
		nodes = append(nodes,
			node{dn: "cn=distribution," + groups}, // left out by the filter
			node{dn: "cn=far1,ou=elsewhere,dc=x"}, // outside the base
			node{dn: "cn=far2,ou=elsewhere,dc=x"}, //
			node{dn: dnOf("lead"), user: true})    // a user entry listing members
		for _, n := range nodes {
			dns = append(dns, n.dn)
		}
		outsideAllowed := r.IntN(3) > 0 // a third of the directories are all inside
		inside := map[string]bool{}
		for _, d := range dns {
			inside[d] = strings.HasPrefix(d, "uid=u") || strings.HasPrefix(d, "cn=g0")
		}
		for _, n := range nodes {
			cn := rdnValue(n.dn)
			pairs := []string{"cn", cn}
			if n.user {
				pairs = append(pairs, "uid", cn, "mail", cn+"@x")
			}
			for range r.IntN(5) {
				m := dns[r.IntN(len(dns))]
				if !outsideAllowed && !inside[m] {
					continue
				}
				pairs = append(pairs, "member", m)
			}
			if n.listed && r.IntN(4) == 0 { // a chain deeper than the depth bound
				pairs = append(pairs, "member", nodes[r.IntN(10)].dn)
			}
			e := ent(n.dn, pairs...)
			if n.user && !outsideAllowed {
				e = person("lead")
			}
			f.add(e, n.user, n.listed)
		}
		fc := f.conn()
		snap, err := Read(context.Background(), fc, query(MemberAttributeMember, NestingActiveDirectory, 1))
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if diff := cmp.Diff(f.want(), got(snap)); diff != "" {
			t.Fatalf("seed %d: memberships differ from the in-chain rule's (-want +got):\n%s", seed, diff)
		}
		for _, flt := range fc.filters() {
			switch {
			case flt == "(member=*)":
				holders++
			case strings.Contains(flt, InChainRule+":=cn=g0"):
				byGroup++
			case strings.Contains(flt, InChainRule):
				byOutside++
			}
		}
		if len(snap.Cycles) > 0 || len(snap.DepthLimited) > 0 {
			t.Errorf("seed %d: ActiveDirectory reported cycles %v or depth limits %v", seed, snap.Cycles, snap.DepthLimited)
		}
		if max := 2 + 1 + len(f.groups); snap.Stats.Searches > max {
			t.Errorf("seed %d: %d searches, more than %d", seed, snap.Stats.Searches, max)
		}
		if !outsideAllowed && snap.Stats.Searches != 2 {
			t.Errorf("seed %d: %d searches for a directory whose groups list only users and groups read, want 2:\n%s",
				seed, snap.Stats.Searches, strings.Join(fc.filters(), "\n"))
		}
	}
}

// nestedAD is the in-memory form of ldaptest.BigNestedTree: users, and
// groups of perGroup users each, group j > 0 a member of group (j-1)/3. The
// groups are returned to be changed and then added.
func nestedAD(nUsers, nGroups, perGroup int) (f *fakeAD, groupEntries []*Entry) {
	f = &fakeAD{}
	for i := range nUsers {
		f.add(person(fmt.Sprintf("user%06d", i)), true, false)
	}
	for j := range nGroups {
		var members []string
		for k := range perGroup {
			members = append(members, dnOf(fmt.Sprintf("user%06d", (j*104729+k*7919)%nUsers)))
		}
		for c := 3*j + 1; c <= 3*j+3 && c < nGroups; c++ {
			members = append(members, gdn(fmt.Sprintf("group%04d", c)))
		}
		groupEntries = append(groupEntries, grp(fmt.Sprintf("group%04d", j), "member", members...))
	}
	return f, groupEntries
}

// The round trips of an ActiveDirectory Read of 1,000 nested groups: two
// when every member value is a user or a group read, and otherwise one more
// per outside DN (or per group reaching one, when fewer), after one search
// that proves the leaves in the group search's scope leaves.
func TestReadActiveDirectoryRoundTrips(t *testing.T) {
	const nUsers, nGroups, perGroup = 2000, 1000, 20
	g := func(j int) string { return gdn(fmt.Sprintf("group%04d", j)) }
	cases := map[string]struct {
		change       func(f *fakeAD, groups []*Entry)
		wantSearches int
		wantInChain  int
	}{
		"all inside": {
			change:       func(*fakeAD, []*Entry) {},
			wantSearches: 2,
		},
		"one group outside the base, nested deep down": {
			change: func(f *fakeAD, gs []*Entry) {
				far := ent("cn=far,ou=elsewhere,dc=x", "member", dnOf("user000007"))
				f.add(far, false, false)
				gs[700].Attributes[1].Values = append(gs[700].Attributes[1].Values, far.DN)
			},
			wantSearches: 3, wantInChain: 1,
		},
		"computers in 100 groups": {
			change: func(f *fakeAD, gs []*Entry) {
				for j := 0; j < 1000; j += 10 {
					pc := fmt.Sprintf("cn=pc%d,%s", j, groups)
					f.add(ent(pc), false, false)
					gs[j].Attributes[1].Values = append(gs[j].Attributes[1].Values, pc)
				}
			},
			wantSearches: 3, // users, groups, the entries with members
		},
		"foreign security principals in 10 leaf groups": {
			change: func(f *fakeAD, gs []*Entry) {
				for j := 990; j < 1000; j++ {
					fsp := fmt.Sprintf("cn=S-1-5-21-%d,cn=ForeignSecurityPrincipals,dc=x", j)
					f.add(ent(fsp), false, false)
					gs[j].Attributes[1].Values = append(gs[j].Attributes[1].Values, fsp)
				}
			},
			wantSearches: 12, wantInChain: 10, // out of the group scope: one in-chain search each
		},
		"a group listing 50 outside groups": {
			change: func(f *fakeAD, gs []*Entry) {
				for k := range 50 {
					far := ent(fmt.Sprintf("cn=far%d,ou=elsewhere,dc=x", k), "member", dnOf(fmt.Sprintf("user%06d", k)))
					f.add(far, false, false)
					gs[999].Attributes[1].Values = append(gs[999].Attributes[1].Values, far.DN)
				}
			},
			// group0999 and its 6 ancestors reach them: 7 in-chain searches
			wantSearches: 9, wantInChain: 7,
		},
	}
	for name, tc := range cases {
		f, gs := nestedAD(nUsers, nGroups, perGroup)
		tc.change(f, gs)
		for _, e := range gs {
			f.add(e, false, true)
		}
		fc := f.conn()
		snap, err := Read(context.Background(), fc, query(MemberAttributeMember, NestingActiveDirectory, 0))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		inChain := 0
		for _, flt := range fc.filters() {
			if strings.Contains(flt, InChainRule) {
				inChain++
			}
		}
		if snap.Stats.Searches != tc.wantSearches || inChain != tc.wantInChain || len(fc.reqs) != tc.wantSearches {
			t.Errorf("%s: %d searches (%d counted), %d in-chain; want %d and %d", name,
				snap.Stats.Searches, len(fc.reqs), inChain, tc.wantSearches, tc.wantInChain)
		}
		if diff := cmp.Diff(f.want(), got(snap)); diff != "" {
			t.Errorf("%s: memberships differ from the in-chain rule's (-want +got):\n%s", name, diff)
		}
		if root := snap.Groups[0]; root.DN != g(0) || len(root.Users) < perGroup*100 {
			t.Errorf("%s: the root group %s has %d users, want most of them", name, root.DN, len(root.Users))
		}
	}
}

func TestInScope(t *testing.T) {
	base := "ou=groups,dc=x"
	cases := []struct {
		key   string
		scope Scope
		want  bool
	}{
		{"ou=groups,dc=x", ScopeBase, true},
		{"cn=a,ou=groups,dc=x", ScopeBase, false},
		{"cn=a,ou=groups,dc=x", ScopeOne, true},
		{"cn=a,ou=sub,ou=groups,dc=x", ScopeOne, false},
		{"cn=a,ou=sub,ou=groups,dc=x", ScopeSub, true},
		{"ou=groups,dc=x", ScopeSub, true},
		{"dc=x", ScopeSub, false},
		{`cn=a\,ou=groups,dc=x`, ScopeSub, false}, // one RDN whose value holds a comma
		{`cn=a\\,ou=groups,dc=x`, ScopeOne, true}, // an escaped backslash, then a comma
		{"cn=a,ou=groups,dc=y", ScopeSub, false},
	}
	for _, tc := range cases {
		if got := inScope(tc.key, base, tc.scope); got != tc.want {
			t.Errorf("inScope(%q, %s) = %v, want %v", tc.key, tc.scope, got, tc.want)
		}
	}
	if !slices.Equal([]string{parentDN("a=b"), parentDN("a=b,c=d")}, []string{"", "c=d"}) {
		t.Error("parentDN of one and two RDNs")
	}
}
