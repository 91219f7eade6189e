package ldap

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExpand(t *testing.T) {
	// Users are 0..5. Each case lists groups as (direct users, member groups).
	type grp struct{ users, groups []int }
	d := func(us ...int) []member { // direct members
		out := make([]member, len(us))
		for i, u := range us {
			out[i] = member{user: u, direct: true}
		}
		return out
	}
	n := func(u int) member { return member{user: u} } // nested member

	cases := map[string]struct {
		groups      []grp
		maxDepth    int
		wantMembers [][]member
		wantCycles  []int
		wantLimited []int
	}{
		"no nesting": {
			groups:      []grp{{users: []int{1, 0}}, {users: []int{2}}},
			maxDepth:    10,
			wantMembers: [][]member{d(0, 1), d(2)},
		},
		"chain fully expanded": {
			// 0 ⊃ 1 ⊃ 2 ⊃ 3
			groups:      []grp{{[]int{0}, []int{1}}, {[]int{1}, []int{2}}, {[]int{2}, []int{3}}, {users: []int{3}}},
			maxDepth:    10,
			wantMembers: [][]member{{{0, true}, n(1), n(2), n(3)}, {{1, true}, n(2), n(3)}, {{2, true}, n(3)}, d(3)},
		},
		"depth bound 1 stops the chain": {
			groups:      []grp{{[]int{0}, []int{1}}, {[]int{1}, []int{2}}, {[]int{2}, []int{3}}, {users: []int{3}}},
			maxDepth:    1,
			wantMembers: [][]member{{{0, true}, n(1)}, {{1, true}, n(2)}, {{2, true}, n(3)}, d(3)},
			wantLimited: []int{0, 1},
		},
		"depth 0 means direct only": {
			groups:      []grp{{[]int{0}, []int{1}}, {users: []int{1}}},
			maxDepth:    0,
			wantMembers: [][]member{d(0), d(1)},
			wantLimited: []int{0},
		},
		"exact depth is not limited": {
			groups:      []grp{{[]int{0}, []int{1}}, {[]int{1}, []int{2}}, {users: []int{2}}},
			maxDepth:    2,
			wantMembers: [][]member{{{0, true}, n(1), n(2)}, {{1, true}, n(2)}, d(2)},
		},
		"cycle of three ends and is reported": {
			// 0 ⊃ 1 ⊃ 2 ⊃ 0
			groups:      []grp{{[]int{0}, []int{1}}, {[]int{1}, []int{2}}, {[]int{2}, []int{0}}},
			maxDepth:    10,
			wantMembers: [][]member{{{0, true}, n(1), n(2)}, {n(0), {1, true}, n(2)}, {n(0), n(1), {2, true}}},
			wantCycles:  []int{0, 1, 2},
		},
		"self member": {
			groups:      []grp{{[]int{4}, []int{0}}},
			maxDepth:    10,
			wantMembers: [][]member{d(4)},
			wantCycles:  []int{0},
		},
		"diamond counts a user once": {
			// 0 ⊃ 1, 0 ⊃ 2, 1 ⊃ 3, 2 ⊃ 3; user 5 in 3 and directly in 0
			groups:      []grp{{[]int{5}, []int{1, 2}}, {groups: []int{3}}, {groups: []int{3}}, {users: []int{5}}},
			maxDepth:    10,
			wantMembers: [][]member{d(5), {n(5)}, {n(5)}, d(5)},
		},
		"group pointing into a cycle is not in it": {
			// 0 ⊃ 1 ⊃ 2 ⊃ 1
			groups:      []grp{{groups: []int{1}}, {[]int{1}, []int{2}}, {[]int{2}, []int{1}}},
			maxDepth:    10,
			wantMembers: [][]member{{n(1), n(2)}, {{1, true}, n(2)}, {n(1), {2, true}}},
			wantCycles:  []int{1, 2},
		},
		"duplicate direct users count once": {
			groups:      []grp{{users: []int{3, 3, 1}}},
			maxDepth:    10,
			wantMembers: [][]member{d(1, 3)},
		},
		"no groups": {maxDepth: 10, wantMembers: [][]member{}},
	}
	for name, tc := range cases {
		g := graph{numUsers: 6}
		for _, gr := range tc.groups {
			g.users = append(g.users, gr.users)
			g.groups = append(g.groups, gr.groups)
		}
		x := expand(g, tc.maxDepth)
		want := expansion{members: tc.wantMembers, cycles: tc.wantCycles, limited: tc.wantLimited}
		if diff := cmp.Diff(want, x, cmp.AllowUnexported(expansion{}, member{})); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

// A long cycle must not make expansion loop, and its work stays bounded.
func TestExpandLongCycleTerminates(t *testing.T) {
	const n = 1000
	g := graph{numUsers: n, users: make([][]int, n), groups: make([][]int, n)}
	for i := range n {
		g.users[i] = []int{i}
		g.groups[i] = []int{(i + 1) % n}
	}
	x := expand(g, n)
	if len(x.cycles) != n {
		t.Errorf("%d groups in the cycle reported, want %d", len(x.cycles), n)
	}
	for i, ms := range x.members {
		if len(ms) != n {
			t.Fatalf("group %d has %d members, want %d", i, len(ms), n)
		}
	}
}

func BenchmarkExpand(b *testing.B) {
	for _, shape := range []struct {
		name          string
		groups, depth int
	}{{"1000groups-flat", 1000, 0}, {"1000groups-tree10", 1000, 10}} {
		g := graph{numUsers: 10000, users: make([][]int, shape.groups), groups: make([][]int, shape.groups)}
		for j := range shape.groups {
			for k := range 50 {
				g.users[j] = append(g.users[j], (j*104729+k*7919)%10000)
			}
			if shape.depth > 0 && j > 0 {
				parent := (j - 1) / 3 // a ternary tree of groups
				g.groups[parent] = append(g.groups[parent], j)
			}
		}
		b.Run(fmt.Sprint(shape.name), func(b *testing.B) {
			for b.Loop() {
				expand(g, shape.depth)
			}
		})
	}
}
