package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	yaml "go.yaml.in/yaml/v3"
)

// checkYAML judges every YAML document of data before any decoder expands
// it: the nodes reached through aliases, counted as expanded, and the
// nesting depth must stay within limits. Kustomize's YAML library expands
// aliases as it goes, so that a few hundred bytes of nested aliases take
// gigabytes; the node tree parsed here shares each anchor instead, and is
// measured without expanding it. Data that is not YAML passes: whoever
// reads it next refuses it, or reads it as plain text (a generator's file).
func checkYAML(name string, data []byte, l Limits) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 1; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil //nolint:nilerr // not YAML: see above
		}
		m := measure{size: map[*yaml.Node]int{}, depth: map[*yaml.Node]int{}, busy: map[*yaml.Node]bool{}}
		if err := m.walk(&n, 1, l); err != nil {
			return fmt.Errorf("%s (document %d): %w", name, i, err)
		}
	}
}

// measure walks a node tree, following aliases, remembering each node's
// expanded size and depth so that each node is walked once.
type measure struct {
	size, depth map[*yaml.Node]int
	busy        map[*yaml.Node]bool
	aliased     int // nodes reached through aliases so far
}

var errAliasLoop = errors.New("a YAML alias refers to a node that contains it")

// walk returns the expanded size and depth of n through its results in
// m.size and m.depth; at is n's depth in the document.
func (m *measure) walk(n *yaml.Node, at int, l Limits) error {
	if _, done := m.size[n]; done {
		return m.check(at+m.depth[n]-1, l)
	}
	if m.busy[n] {
		return errAliasLoop
	}
	m.busy[n] = true
	defer delete(m.busy, n)
	size, depth := 1, 1
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		if err := m.walk(n.Alias, at, l); err != nil {
			return err
		}
		m.aliased += m.size[n.Alias]
		size, depth = m.size[n.Alias], m.depth[n.Alias]
	}
	for _, c := range n.Content {
		if err := m.walk(c, at+1, l); err != nil {
			return err
		}
		size += m.size[c]
		depth = max(depth, 1+m.depth[c])
	}
	m.size[n], m.depth[n] = size, depth
	return m.check(at+depth-1, l)
}

func (m *measure) check(depth int, l Limits) error {
	if m.aliased > l.YAMLAliasNodes {
		return fmt.Errorf("YAML aliases expand to more than %d nodes (--max-yaml-aliases raises the limit)", l.YAMLAliasNodes)
	}
	if depth > l.YAMLDepth {
		return fmt.Errorf("YAML nests deeper than %d levels (--max-yaml-depth raises the limit)", l.YAMLDepth)
	}
	return nil
}
