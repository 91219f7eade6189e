package access

import (
	"runtime"
	"sync"
	"sync/atomic"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// This file holds the working memory of the reads of an Index. Reads run
// under the Index's read lock, several at once, so nothing they write may be
// shared: each takes a scratch (from a pool, so that a computation does not
// allocate its buffers again: a sync.Pool would drop them at every
// collection, and a computation's buffers are as large as what it reaches)
// with its own marks, indexed by the dense ids
// the Index gives its users, groups, shares and resources. What a read
// caches for every later read (the one-entry via lists, the permission name
// lists) is written atomically or under its own lock.

// idAlloc hands out dense ids, reusing the released ones; it is changed
// under the Index's write lock only.
type idAlloc struct {
	next int32
	free []int32
}

func (a *idAlloc) get() int32 {
	if n := len(a.free); n > 0 {
		id := a.free[n-1]
		a.free = a.free[:n-1]
		return id
	}
	a.next++
	return a.next - 1
}

func (a *idAlloc) put(id int32) { a.free = append(a.free, id) }

// resMark places a resource in the computation in progress: its acc slot,
// valid when epoch is the scratch's.
type resMark struct {
	epoch uint32
	slot  int32
}

// scratch is one read's working memory. A mark equal to epoch means "seen
// in the read in progress"; next starts a new one.
type scratch struct {
	epoch  uint32
	users  []uint32 // by userEntry.id: counted in the report in progress
	groups []uint32 // by groupEntry.id: one of the user's groups
	shares []uint32 // by shareEntry.id: visited
	res    []resMark

	accs      []acc
	vias      []viaRec
	srcShares []*shareEntry
	srcGrants []*grantEntry
	srcConns  []*connEntry
	order     []uint64
	grpBuf    []*groupEntry

	shared *nameCache
	local  []map[PermissionSet][]iamv1alpha1.Permission // in front of shared
}

// getScratch returns a scratch sized for the Index; ix.mu is held (read or
// write). Give it back with putScratch.
func (ix *Index) getScratch() *scratch {
	var sc *scratch
	ix.scratches.Lock()
	if n := len(ix.scratches.free); n > 0 {
		sc = ix.scratches.free[n-1]
		ix.scratches.free = ix.scratches.free[:n-1]
	}
	ix.scratches.Unlock()
	if sc == nil {
		sc = &scratch{shared: ix.names, local: make([]map[PermissionSet][]iamv1alpha1.Permission, len(typeInfos))}
		for i := range sc.local {
			sc.local[i] = map[PermissionSet][]iamv1alpha1.Permission{}
		}
	}
	sc.users = grow(sc.users, ix.userIDs.next)
	sc.groups = grow(sc.groups, ix.groupIDs.next)
	sc.shares = grow(sc.shares, ix.shareIDs.next)
	sc.res = grow(sc.res, ix.resIDs.next)
	return sc
}

// putScratch gives a scratch back for the next read; the pool keeps one per
// processor, the most reads that run at once.
func (ix *Index) putScratch(sc *scratch) {
	ix.scratches.Lock()
	if len(ix.scratches.free) < runtime.GOMAXPROCS(0) {
		ix.scratches.free = append(ix.scratches.free, sc)
	}
	ix.scratches.Unlock()
}

// scratchPool is the scratches no read holds.
type scratchPool struct {
	sync.Mutex
	free []*scratch
}

// grow extends s with zero marks to n entries.
func grow[T any](s []T, n int32) []T {
	if int(n) <= len(s) {
		return s
	}
	return append(s, make([]T, int(n)-len(s))...)
}

// next starts a new read: every mark becomes stale.
func (sc *scratch) next() {
	sc.epoch++
	if sc.epoch == 0 { // wrapped: clear the marks once in 2^32 reads
		clear(sc.users)
		clear(sc.groups)
		clear(sc.shares)
		clear(sc.res)
		sc.epoch = 1
	}
}

// resetArena empties the accumulators of a user's computation.
func (sc *scratch) resetArena() {
	sc.accs = sc.accs[:0]
	sc.vias = sc.vias[:0]
	sc.srcShares, sc.srcGrants, sc.srcConns = sc.srcShares[:0], sc.srcGrants[:0], sc.srcConns[:0]
}

// slot returns the accumulator of a resource in the computation in
// progress, adding it.
func (sc *scratch) slot(res *resEntry) *acc {
	m := &sc.res[res.id]
	if m.epoch != sc.epoch {
		m.epoch = sc.epoch
		m.slot = int32(len(sc.accs))
		sc.accs = append(sc.accs, acc{res: res, typ: res.key.typ, name: res.key.name, rank: res.rank, head: -1})
	}
	return &sc.accs[m.slot]
}

// found returns the accumulator of a resource the computation in progress
// reached, nil if none.
func (sc *scratch) found(res *resEntry) *acc {
	if res == nil || sc.res[res.id].epoch != sc.epoch {
		return nil
	}
	return &sc.accs[sc.res[res.id].slot]
}

// addVia records one contribution to a resource's access.
func (sc *scratch) addVia(a *acc, kind uint8, src, sub int) {
	sc.vias = append(sc.vias, viaRec{kind: kind, src: int32(src), sub: int32(sub), next: a.head})
	a.head = int32(len(sc.vias) - 1)
	a.nvia++
}

// names is nameCache.names through a cache of the scratch's own, which
// reads take without locking.
func (sc *scratch) names(typ int, perms PermissionSet) []iamv1alpha1.Permission {
	if perms == 0 {
		return nil
	}
	if n, ok := sc.local[typ][perms]; ok {
		return n
	}
	n := sc.shared.names(typ, perms)
	if len(sc.local[typ]) < maxCachedNames {
		sc.local[typ][perms] = n
	}
	return n
}

// oneVia is a one-entry via list, cached on its source (viaCache) and
// shared by every user the source reaches alone.
type oneVia = [1]iamv1alpha1.AccessVia

// viaCache holds a source's oneVia once a read has written it; concurrent
// reads may both write it, and the first stored wins.
type viaCache = atomic.Pointer[oneVia]

// nameCache shares one sorted name slice per (type, set) among the results
// of an Index, so that a million resource entries do not allocate a million
// slices. Results built from it must be treated as read-only. It is safe
// for concurrent use.
type nameCache struct {
	mu sync.RWMutex
	m  []map[PermissionSet][]iamv1alpha1.Permission
}

// maxCachedNames bounds the sets cached per type.
const maxCachedNames = 1 << 14

func newNameCache() *nameCache {
	c := &nameCache{m: make([]map[PermissionSet][]iamv1alpha1.Permission, len(typeInfos))}
	for i := range c.m {
		c.m[i] = map[PermissionSet][]iamv1alpha1.Permission{}
	}
	return c
}

func (c *nameCache) names(typ int, perms PermissionSet) []iamv1alpha1.Permission {
	if perms == 0 {
		return nil
	}
	c.mu.RLock()
	n, ok := c.m[typ][perms]
	c.mu.RUnlock()
	if ok {
		return n
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.m[typ][perms]; ok {
		return n
	}
	n = typeInfos[typ].namesOf(perms)
	if len(c.m[typ]) < maxCachedNames {
		c.m[typ][perms] = n
	}
	return n
}
