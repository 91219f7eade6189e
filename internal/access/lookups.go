package access

import (
	"slices"
)

// The look-ups the webhooks make about other objects, answered from the
// Index (the engine's view of the cache) instead of indexes of their own.

// UsersWithLogin returns, sorted, the Users whose spec.login is login.
func (ix *Index) UsersWithLogin(login string) []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return entryNames(ix.logins[login])
}

// UsersClaiming returns, sorted, the Users that stand for the Kubernetes
// identity id (more than one is a conflict, see UserForKubernetesName).
func (ix *Index) UsersClaiming(id string) []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return entryNames(ix.identities[id])
}

func entryNames(l []*userEntry) []string {
	if len(l) == 0 {
		return nil
	}
	out := make([]string, len(l))
	for i, u := range l {
		out[i] = u.name
	}
	slices.Sort(out)
	return out
}

// GroupNamers returns, sorted, the Shares and ResourceGrants that name
// group as a grantee or subject (those being deleted are not held).
func (ix *Index) GroupNamers(group string) (shares, grants []string) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var r relatedSet
	ix.groupNamers(&r, group)
	return namesOf(r.shares), namesOf(r.grants)
}

// SetsKubernetesUsername reports whether User name sets
// spec.kubernetesUsername (its identity is not its login).
func (ix *Index) SetsKubernetesUsername(name string) bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	u := ix.users[name]
	return u != nil && u.obj.Spec.KubernetesUsername != ""
}
