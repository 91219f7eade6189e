package access

import (
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// readsOf is every read of an Index over a snapshot's objects, as one
// comparable value: users, reports, webhook decisions and connection rules.
func readsOf(ix *Index, s Snapshot) map[string]any {
	out := map[string]any{}
	for _, u := range s.Users {
		out["user/"+u.Name] = ix.ComputeUser(u.Name)
		out["global/"+u.Name] = ix.HoldsAdmin(u.Name)
		for _, c := range s.Connections {
			out["mayUse/"+c.Name+"/"+u.Name] = ix.MayUse(c.Name, u.Name)
		}
	}
	for i := range s.Shares {
		sh := &s.Shares[i]
		out["share/"+sh.Name] = ix.ShareReport(sh.Name)
		for _, u := range s.Users {
			out["checkShare/"+sh.Name+"/"+u.Name] = CheckShare(ix, sh, nil, Requester{User: u.Name})
		}
	}
	for i := range s.ResourceGrants {
		g := &s.ResourceGrants[i]
		out["grant/"+g.Name] = ix.GrantReport(g.Name)
		for _, u := range s.Users {
			out["checkGrant/"+g.Name+"/"+u.Name] = CheckGrant(ix, g, nil, Requester{User: u.Name})
		}
	}
	for _, g := range s.Groups {
		out["group/"+g.Name] = ix.GroupReport(g.Name)
	}
	for _, c := range s.Connections {
		out["details/"+c.Name] = ix.DetailReaders(c.Name)
	}
	out["profiles"] = ix.Profiles()
	return out
}

// TestConcurrentReads runs every read of an Index from several goroutines at
// once, while a writer upserts the objects it holds again (which changes no
// answer), and wants each answer equal to the one read alone: reads share
// the read lock, so nothing they keep may be shared (run it with -race).
func TestConcurrentReads(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			s := seededSnapshot(seed, 16)
			ix := NewIndex(s)
			want := readsOf(ix, s)
			stop := make(chan struct{})
			var writer sync.WaitGroup
			writer.Add(1)
			go func() {
				defer writer.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					var err error
					switch {
					case len(s.Shares) > 0 && i%3 == 0:
						_, err = ix.Upsert(&s.Shares[i%len(s.Shares)])
					case len(s.Users) > 0 && i%3 == 1:
						_, err = ix.Upsert(&s.Users[i%len(s.Users)])
					case len(s.Groups) > 0:
						_, err = ix.Upsert(&s.Groups[i%len(s.Groups)])
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			}()
			var readers sync.WaitGroup
			got := make([]map[string]any, 4)
			for r := range got {
				readers.Add(1)
				go func() {
					defer readers.Done()
					got[r] = readsOf(ix, s)
				}()
			}
			readers.Wait()
			close(stop)
			writer.Wait()
			for r := range got {
				if d := cmp.Diff(want, got[r]); d != "" {
					t.Fatalf("reader %d differs from the reads alone (-alone +concurrent):\n%s", r, d)
				}
			}
		})
	}
}
