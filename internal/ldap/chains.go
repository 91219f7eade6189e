package ldap

import (
	"maps"
	"slices"
	"sort"

	"github.com/gatehouse-dev/gatehouse/internal/ldapdn"
)

// With nested: ActiveDirectory the server's in-chain rule counts a user as a
// member of a group through any chain of member links, to any depth and
// through any entry, also entries the group search does not read. The group
// search has already read every group's member values, so Read expands the
// groups in memory (without a depth bound) and asks the server only about
// what those values cannot show: the outside DNs, member values that are
// neither a group the group search read nor a user entry listing no members.
// A group that reaches no outside DN through its member groups is exact
// without a search. For the others Read asks either for each outside DN (its
// in-chain members are members of every group that reaches it) or for each
// such group, whichever takes fewer searches.

// outsideReach returns, for every group, the outside DNs it reaches through
// its member groups (its own included), sorted; nil when there are none.
// It is computed once, and again after dropLeaves.
func (p *prepared) outsideReach() [][]string {
	if !p.reachDone {
		p.reach, p.reachDone = p.computeReach(), true
	}
	return p.reach
}

func (p *prepared) computeReach() [][]string {
	some := false
	for _, o := range p.outside {
		some = some || len(o) > 0
	}
	if !some {
		return nil
	}
	n := len(p.recs)
	out := make([][]string, n)
	mark := make([]int, n)
	for root := range n {
		m := root + 1
		seen := map[string]bool{}
		collect := func(i int) {
			for _, k := range p.outside[i] {
				if !seen[k] {
					seen[k] = true
					out[root] = append(out[root], k)
				}
			}
		}
		mark[root] = m
		collect(root)
		_, _ = walkNesting([]int{root}, n, false, p.g.nextGroups,
			func(sub int) bool { return mark[sub] == m },
			func(sub int) { mark[sub] = m; collect(sub) })
		sort.Strings(out[root])
	}
	return out
}

// chainTargets returns the DNs, as spelled, whose in-chain members Read
// must ask for: the outside DNs, or the groups that reach one when those
// are fewer. None when no group reaches an outside DN.
func (p *prepared) chainTargets() []string {
	reach := p.outsideReach()
	var open []string
	distinct := map[string]bool{}
	for i, r := range reach {
		if len(r) > 0 {
			open = append(open, p.recs[i].group.DN)
		}
		for _, k := range r {
			distinct[k] = true
		}
	}
	if len(open) < len(distinct) {
		return open // in normalised DN order, as recs are
	}
	keys := slices.Sorted(maps.Keys(distinct))
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = p.spelled[k]
	}
	return out
}

// outsideInGroupScope reports whether an outside DN lies in the base and
// scope of the group search, where readMemberHolders can show it is a leaf.
func (p *prepared) outsideInGroupScope() bool {
	for _, o := range p.outside {
		for _, k := range o {
			if p.inGroupScope(k) {
				return true
			}
		}
	}
	return false
}

// dropLeaves removes from the outside DNs those in the group search's scope
// that are not among holders, the entries there with member values: nobody
// is a member of anything through them.
func (p *prepared) dropLeaves(holders map[string]bool) {
	for i, o := range p.outside {
		kept := o[:0]
		for _, k := range o {
			if holders[k] || !p.inGroupScope(k) {
				kept = append(kept, k)
			}
		}
		p.outside[i] = kept
	}
	p.reachDone = false
}

// inGroupScope reports whether the entry with normalised DN key is in the
// base and scope of the group search.
func (p *prepared) inGroupScope(key string) bool {
	g := p.q.Groups
	return inScope(key, ldapdn.Normalize(g.BaseDN), g.Scope)
}

// inScope reports whether the entry with normalised DN key is in a search
// of base (normalised) with scope.
func inScope(key, base string, scope Scope) bool {
	switch scope {
	case ScopeBase:
		return key == base
	case ScopeOne:
		return parentDN(key) == base
	}
	for ; key != ""; key = parentDN(key) {
		if key == base {
			return true
		}
	}
	return false
}

// parentDN returns the parent of a normalised DN, "" for a DN of one RDN: it
// drops what comes before the first comma that is not escaped.
func parentDN(key string) string {
	for i := 0; i < len(key); i++ {
		switch key[i] {
		case '\\':
			i++ // the escaped character
		case ',':
			return key[i+1:]
		}
	}
	return ""
}
