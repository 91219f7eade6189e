package connection

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestNamesCannotCollide: issue 24's finding 4 as a property. The Roles
// and RoleBindings of two different Connections (any bucket counts) and of
// per-user Secrets never share a name, for names chosen to collide under
// the old scheme (lake and lake-1-of-2) and for random valid names.
func TestNamesCannotCollide(t *testing.T) {
	namesOf := func(conn string) map[string]bool {
		out := map[string]bool{}
		for _, n := range []int{1, 10, 600, 1200, 2400} {
			readers := map[string]string{}
			for i := range n {
				readers[fmt.Sprintf("u%d", i)] = fmt.Sprintf("u%d@example.com", i)
			}
			for _, a := range readerBindings(conn, []string{"s"}, readers) {
				out[a.name] = true
			}
		}
		return out
	}
	r := rand.New(rand.NewPCG(24, 4))
	alphabet := "abc-1of2.9"
	randomName := func() string {
		b := []byte{'a'}
		for range r.IntN(12) {
			b = append(b, alphabet[r.IntN(len(alphabet))])
		}
		return string(append(b, '2'))
	}
	pairs := [][2]string{{"lake", "lake-1-of-2"}, {"lake", "lake-2-of-4"}, {"a", "a-1-of-1"}}
	for range 300 {
		pairs = append(pairs, [2]string{randomName(), randomName()})
	}
	for _, p := range pairs {
		if p[0] == p[1] {
			continue
		}
		a, b := namesOf(p[0]), namesOf(p[1])
		for n := range a {
			if b[n] {
				t.Errorf("Connections %s and %s both write %s", p[0], p[1], n)
			}
			if n == objectName(credentialPrefix, p[1]) {
				t.Errorf("Connection %s and the per-user Secret %s both write %s", p[0], p[1], n)
			}
		}
	}
}
