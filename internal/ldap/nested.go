package ldap

import "sort"

// graph is the membership graph of the groups of one snapshot: node i is a
// group; users[i] are the indexes of its direct user members (below
// numUsers), groups[i] those of its direct member groups.
type graph struct {
	numUsers int
	users    [][]int
	groups   [][]int
}

// member is a user in a group's expansion.
type member struct {
	user   int
	direct bool
}

// expansion is the result of expanding a graph.
type expansion struct {
	// members[i] are the users of group i, directly or through member
	// groups, sorted by user index.
	members [][]member
	// cycles are the groups that contain themselves through nesting.
	cycles []int
	// limited are the groups whose expansion stopped at the depth bound with
	// member groups left unexpanded.
	limited []int
}

// expand computes every group's users. With maxDepth 0 only direct members
// count; with maxDepth d the members of groups nested up to d levels below a
// group count too (d = 1: the members of its member groups). A walk visits
// each group once, so a cycle ends it (and is reported), and the work is
// bounded by groups × reachable groups.
func expand(g graph, maxDepth int) expansion {
	n := len(g.users)
	out := expansion{members: make([][]member, n)}
	w := walker{g: g, groupMark: make([]int, n), userMark: make([]int, g.numUsers)}
	for i := range n {
		ms, cycle, limited := w.walk(i, maxDepth)
		out.members[i] = ms
		if cycle {
			out.cycles = append(out.cycles, i)
		}
		if limited {
			out.limited = append(out.limited, i)
		}
	}
	return out
}

// walker holds the visit marks of expand, reused across groups: a mark equal
// to the current root's index + 1 means visited in this walk.
type walker struct {
	g         graph
	groupMark []int
	userMark  []int
}

// walk expands one group: its direct users, then those of the groups nested
// in it.
func (w *walker) walk(root, maxDepth int) (ms []member, cycle, limited bool) {
	mark := root + 1
	add := func(u int, direct bool) {
		if w.userMark[u] != mark {
			w.userMark[u] = mark
			ms = append(ms, member{user: u, direct: direct})
		}
	}
	for _, u := range w.g.users[root] {
		add(u, true)
	}
	w.groupMark[root] = mark
	limited, _ = walkNesting([]int{root}, maxDepth, true, w.g.nextGroups,
		func(sub int) bool {
			// walkNesting asks this of every member group it meets.
			cycle = cycle || sub == root
			return w.groupMark[sub] == mark
		},
		func(sub int) {
			w.groupMark[sub] = mark
			for _, u := range w.g.users[sub] {
				add(u, false)
			}
		})
	sort.Slice(ms, func(a, b int) bool { return ms[a].user < ms[b].user })
	return ms, cycle, limited
}

// nextGroups hands every member group of the groups of level to visit: the
// next function of walkNesting in memory.
func (g graph) nextGroups(level []int, visit func(int)) error {
	for _, f := range level {
		for _, sub := range g.groups[f] {
			visit(sub)
		}
	}
	return nil
}

// walkNesting is the one nested-group expansion, used by Read (down from a
// group to the groups nested in it, in memory) and by Lookup (up from a
// user's groups to the groups listing them, one search per level). It walks
// breadth-first from start, the groups of depth 0 (already entered by the
// caller): next hands visit the groups one level further down (or up) from
// all groups of a level at once, so that a caller that searches can ask for
// a whole level in one request. It goes up to maxDepth levels. A group is
// entered once, the first time it is reached and not seen, so a cycle ends
// the walk.
//
// With probe, the walk looks one level beyond maxDepth and limited says
// whether groups were left there unentered; without, it makes no call of
// next beyond maxDepth (Lookup: no search it would not use) and limited is
// false. seen is asked of every group next hands over, entered or not. An
// error of next ends the walk.
func walkNesting[N any](start []N, maxDepth int, probe bool, next func(level []N, visit func(N)) error,
	seen func(N) bool, enter func(N)) (limited bool, err error) {
	frontier := start
	for depth := 1; len(frontier) > 0 && !limited; depth++ {
		if depth > maxDepth && !probe {
			break
		}
		var level []N
		err := next(frontier, func(sub N) {
			switch {
			case seen(sub):
			case depth > maxDepth:
				limited = true
			default:
				enter(sub)
				level = append(level, sub)
			}
		})
		if err != nil {
			return false, err
		}
		frontier = level
	}
	return limited, nil
}
