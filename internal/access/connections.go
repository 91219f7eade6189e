package access

import (
	"sort"

	"k8s.io/apimachinery/pkg/types"
)

// ConnectionUser is a User as the Connection controller reads it for a
// per-user Connection: its Roles bind each per-user credential Secret to
// its active User by Kubernetes identity, and its counts say which Users'
// credentials are configured, missing or invalid.
type ConnectionUser struct {
	// Name is the User's name.
	Name string
	// Identity is the Kubernetes identity the User stands for
	// (KubernetesIdentity).
	Identity string
	// Active is the User's spec.active.
	Active bool
	// Deleting reports that the User is being deleted.
	Deleting bool
	// MayUse reports that the User may use the Connection (MayUse).
	MayUse bool
	// UID and Generation are those of the User the Index holds, so that a
	// reader can tell whether the Index has caught up with its cache.
	UID        types.UID
	Generation int64
}

// ConnectionUsers returns, sorted by name, the Users that may use
// Connection conn (MayUse) and, of the Users named in also (those with a
// credential Secret for it), those the Index holds; none when the Index
// does not hold conn. It reads them under one read lock, so that a
// Connection's projection and counts see one state of the namespace.
func (ix *Index) ConnectionUsers(conn string, also []string) []ConnectionUser {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	c := ix.conns[conn]
	if c == nil {
		return nil
	}
	sc := ix.getScratch()
	defer ix.putScratch(sc)
	named := make(map[string]bool, len(also))
	for _, n := range also {
		named[n] = true
	}
	var out []ConnectionUser
	for _, u := range ix.users {
		may := ix.mayUse(sc, c, u)
		if !may && !named[u.name] {
			continue
		}
		out = append(out, ConnectionUser{Name: u.name, Identity: u.identity, Active: u.active,
			Deleting: u.obj.DeletionTimestamp != nil, MayUse: may, UID: u.obj.UID, Generation: u.obj.Generation})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// UnknownGroups returns, in their order, the names of groups that name no
// Group the Index holds (a detailsReadableBy or usableBy naming a Group
// that does not exist).
func (ix *Index) UnknownGroups(names []string) []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var out []string
	for _, n := range names {
		if ix.groups[n] == nil {
			out = append(out, n)
		}
	}
	return out
}
