package access

import (
	"slices"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
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

// SeatLoss is what a License change takes from one profile: the active
// users that held one of the seats it loses.
type SeatLoss struct {
	// Profile is the profile's name.
	Profile string
	// Removed is whether the change removes the profile.
	Removed bool
	// Seats is the profile's new seat count (0 when removed).
	Seats int32
	// Active is the number of active users of the profile.
	Active int
	// Losing are the logins of the users losing their seats, in seat order
	// (the oldest first).
	Losing []string
}

// SeatsLost returns, for each profile of before whose seats after lowers or
// removes, the users that would lose their seats (the seat order of
// ComputeUser: creation, then name), leaving out profiles where nobody
// does.
func (ix *Index) SeatsLost(before, after *iamv1alpha1.License) []SeatLoss {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var out []SeatLoss
	for _, old := range before.Spec.Profiles {
		loss := SeatLoss{Profile: old.Name, Removed: true}
		for _, p := range after.Spec.Profiles {
			if p.Name == old.Name {
				loss.Removed, loss.Seats = false, p.Seats
			}
		}
		if !loss.Removed && loss.Seats >= old.Seats {
			continue
		}
		var active []*userEntry
		if l := ix.seatLists[old.Name]; l != nil {
			active = l.users
		}
		loss.Active = len(active)
		for i := int(loss.Seats); i < min(int(old.Seats), len(active)); i++ {
			loss.Losing = append(loss.Losing, active[i].obj.Spec.Login)
		}
		if len(loss.Losing) > 0 {
			out = append(out, loss)
		}
	}
	return out
}

// SetsKubernetesUsername reports whether User name sets
// spec.kubernetesUsername (its identity is not its login).
func (ix *Index) SetsKubernetesUsername(name string) bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	u := ix.users[name]
	return u != nil && u.obj.Spec.KubernetesUsername != ""
}
