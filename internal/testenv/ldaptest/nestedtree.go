package ldaptest

// BigNestedTree is BigTree(users, groups, membersPerGroup) with its groups
// nested as a ternary tree: group j > 0 (counting from 0, as BigGroup does)
// is also a member of group (j-1)/3. group0001 is the root, and 1,000 groups
// reach 6 levels below it. Every member DN is a user or a group of the tree.
func BigNestedTree(users, groups, membersPerGroup int) *Tree {
	t := BigTree(users, groups, membersPerGroup)
	g := Groups(DefaultSuffix)
	first := len(t.Entries) - groups // the index of group 0's entry
	for j := 1; j < groups; j++ {
		t.Entries[first+(j-1)/3].Add("member", GroupDN(g, BigGroup(j)))
	}
	return t
}

// BigNestedParents returns the indexes of the groups of a BigNestedTree that
// contain group j, directly or through nesting, nearest first.
func BigNestedParents(j int) []int {
	var out []int
	for j > 0 {
		j = (j - 1) / 3
		out = append(out, j)
	}
	return out
}
