package access

import (
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// shareDecision finds, in the enterprise, a change the Share webhook admits:
// the Owner a Share names first adds a seated user with the Owner's role.
// Judging it computes the requester's access, as every webhook call does.
func shareDecision(b *testing.B, s Snapshot, ix *Index) (before, after *iamv1alpha1.Share, req Requester) {
	b.Helper()
	for i := range s.Shares {
		sh := &s.Shares[i]
		if len(sh.Spec.Grantees) == 0 || sh.Spec.Grantees[0].Kind != iamv1alpha1.GranteeUser {
			continue
		}
		owner := sh.Spec.Grantees[0]
		for j := 0; j < 50; j++ {
			u := s.Users[(i*50+j)%len(s.Users)].Name
			if u == owner.Name {
				continue
			}
			nu := sh.DeepCopy()
			nu.Spec.Grantees = append(nu.Spec.Grantees, iamv1alpha1.Grantee{Kind: iamv1alpha1.GranteeUser, Name: u, Role: owner.Role})
			req := Requester{User: owner.Name}
			if CheckShare(ix, sh, nu, req) == nil {
				return sh, nu, req
			}
		}
	}
	b.Fatal("no admitted Share change in the enterprise")
	return nil, nil, Requester{}
}

// BenchmarkCheckShareConcurrent is the Share webhook's decision (ns/op: one
// CheckShare, run by GOMAXPROCS goroutines at once) on the enterprise's
// Index while reconcilers share the Index: goroutines computing random
// users, as the User controller does per event, or one computing the
// administrator, the longest single computation (Owner of 20,000
// resources). computes/s is what the reconcilers got done meanwhile.
func BenchmarkCheckShareConcurrent(b *testing.B) {
	s := benchSnapshot(b)
	ix := NewIndex(s)
	before, after, req := shareDecision(b, s, ix)
	admin := func(*rand.Rand) string { return "user-00001" }
	random := func(r *rand.Rand) string { return s.Users[r.Intn(len(s.Users))].Name }
	for _, bc := range []struct {
		name        string
		reconcilers int
		user        func(*rand.Rand) string
	}{{"reconcilers=0", 0, nil}, {"reconcilers=2", 2, random}, {"adminReconciler=1", 1, admin}} {
		reconcilers := bc.reconcilers
		b.Run(bc.name, func(b *testing.B) {
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var computed atomic.Int64
			for g := 0; g < reconcilers; g++ {
				wg.Add(1)
				go func(r *rand.Rand) {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						if ix.ComputeUser(bc.user(r)) == nil {
							panic("no result")
						}
						computed.Add(1)
					}
				}(rand.New(rand.NewSource(int64(g))))
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if v := CheckShare(ix, before, after, req); v != nil {
						panic(v.Message)
					}
				}
			})
			b.StopTimer()
			close(stop)
			wg.Wait()
			if reconcilers > 0 {
				b.ReportMetric(float64(computed.Load())/b.Elapsed().Seconds(), "computes/s")
			}
		})
	}
}
