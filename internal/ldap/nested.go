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

// walk expands one group breadth-first, level by level.
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
	frontier := []int{root}
	for depth := 1; len(frontier) > 0 && !limited; depth++ {
		var next []int
		for _, f := range frontier {
			for _, sub := range w.g.groups[f] {
				if sub == root {
					cycle = true
				}
				if w.groupMark[sub] == mark {
					continue
				}
				if depth > maxDepth {
					limited = true
					continue
				}
				w.groupMark[sub] = mark
				next = append(next, sub)
				for _, u := range w.g.users[sub] {
					add(u, false)
				}
			}
		}
		frontier = next
	}
	sort.Slice(ms, func(a, b int) bool { return ms[a].user < ms[b].user })
	return ms, cycle, limited
}
