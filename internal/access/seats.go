package access

import (
	"fmt"
	"slices"
	"strings"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/words"
)

// The seat rules of admission: which changes of a User ask the License for
// a seat, and why one is refused. The seat order itself (who holds a seat,
// who waits Pending) is ComputeUser's.

// ClaimsSeat reports whether a change of a User (before nil: created) asks
// its License for a seat it did not ask for before: an active Local User
// created, re-activated or moved to another profile. A directory-managed
// User never claims one at admission: it waits Pending for a seat instead.
func ClaimsSeat(before, after *iamv1alpha1.User) bool {
	if after.Spec.Source == iamv1alpha1.UserSourceLDAP || !after.Spec.IsActive() {
		return false
	}
	return before == nil || !before.Spec.IsActive() || before.Spec.Profile != after.Spec.Profile
}

// WhyNoSeat says why a User claiming a seat of profile cannot have one, by
// the seat use of its namespace's License (profiles, as Index.Profiles
// reports it; license names the License, namespace/name): the License has
// no such profile, or every seat of the profile is in use or promised to a
// user waiting Pending. It returns "" when a seat is free, else a sentence
// saying how to make room.
func WhyNoSeat(profiles []iamv1alpha1.ProfileStatus, profile, license string) string {
	valid := make([]string, 0, len(profiles))
	for _, p := range profiles {
		valid = append(valid, p.Name)
		if p.Name != profile {
			continue
		}
		if p.Used+p.Pending < p.Seats {
			return ""
		}
		use := fmt.Sprintf("%d of %s in use", p.Used, words.Count(p.Seats, "seat", "seats"))
		if p.Pending > 0 {
			use = fmt.Sprintf("%s in use and %s waiting for one", everySeat(p.Seats), words.Count(p.Pending, "more user", "more users"))
		}
		return fmt.Sprintf("profile %s has %s; free a seat (deactivate a user of the profile) or raise spec.profiles[%s].seats in License %s.",
			p.Name, use, p.Name, license)
	}
	return fmt.Sprintf("profile %q is not in License %s; set spec.profile to one of %s, or add the profile to the License.",
		profile, license, strings.Join(valid, ", "))
}

// UnlicensedProfiles returns the profiles Directory d maps users to (its
// profileMappings, then its defaultProfile) that License l does not have,
// each once, in that order: the users the Directory maps to them hold no
// seat.
func UnlicensedProfiles(d *iamv1alpha1.Directory, l *iamv1alpha1.License) []string {
	known := map[string]bool{}
	for _, p := range l.Spec.Profiles {
		known[p.Name] = true
	}
	var unknown []string
	for _, m := range d.Spec.ProfileMappings {
		if !known[m.Profile] && !slices.Contains(unknown, m.Profile) {
			unknown = append(unknown, m.Profile)
		}
	}
	if d.Spec.DefaultProfile != "" && !known[d.Spec.DefaultProfile] && !slices.Contains(unknown, d.Spec.DefaultProfile) {
		unknown = append(unknown, d.Spec.DefaultProfile)
	}
	return unknown
}

// everySeat names all of a profile's seats: "its 1 seat", "all 3 seats".
func everySeat(n int32) string {
	if n == 1 {
		return "its 1 seat"
	}
	return "all " + words.Count(n, "seat", "seats")
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
