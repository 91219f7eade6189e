// Package audit tells what changed in a user's effective permissions, as a
// sentence for the User's PermissionsChanged Event and as one structured JSON
// audit log line. It compares two UserStatus values the engine computed; it
// decides nothing about permissions itself.
package audit

import (
	"fmt"
	"slices"
	"strings"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/words"
)

// Entry is one resource whose access was gained or lost.
type Entry struct {
	// Resource is "type/name".
	Resource string `json:"resource"`
	// Role is the role gained (Gained) or lost (Lost), when the role changed.
	Role iamv1alpha1.Role `json:"role,omitempty"`
	// Now is the role left after a lost role, when the resource is still
	// reachable.
	Now iamv1alpha1.Role `json:"now,omitempty"`
	// Permissions are the permissions gained or lost.
	Permissions []iamv1alpha1.Permission `json:"permissions,omitempty"`
	// Via are the grants and shares the gained access comes from, as
	// "share sales-team" or "grant analysts-read".
	Via []string `json:"via,omitempty"`
}

// Change is the difference between two computed states of one user.
type Change struct {
	Gained       []Entry                        `json:"added,omitempty"`
	Lost         []Entry                        `json:"removed,omitempty"`
	GainedGlobal []iamv1alpha1.GlobalPermission `json:"globalAdded,omitempty"`
	LostGlobal   []iamv1alpha1.GlobalPermission `json:"globalRemoved,omitempty"`
	// SeatBefore and SeatAfter are set when the seat changed.
	SeatBefore iamv1alpha1.SeatState `json:"seatBefore,omitempty"`
	SeatAfter  iamv1alpha1.SeatState `json:"seatAfter,omitempty"`
}

// PermissionsChanged reports whether any permission (resource or global)
// was gained or lost.
func (c *Change) PermissionsChanged() bool {
	return len(c.Gained)+len(c.Lost)+len(c.GainedGlobal)+len(c.LostGlobal) > 0
}

// SeatChanged reports whether the seat changed.
func (c *Change) SeatChanged() bool { return c.SeatBefore != c.SeatAfter }

// Empty reports whether nothing changed.
func (c *Change) Empty() bool { return !c.PermissionsChanged() && !c.SeatChanged() }

// roleRank orders roles; an empty role is below every role.
func roleRank(r iamv1alpha1.Role) int {
	switch r {
	case iamv1alpha1.RoleConsumer:
		return 1
	case iamv1alpha1.RoleEditor:
		return 2
	case iamv1alpha1.RoleOwner:
		return 3
	}
	return 0
}

func key(r *iamv1alpha1.ResourceAccess) string { return string(r.Type) + "/" + r.Name }

// compareAccess orders resources as the status lists them: type, then name.
func compareAccess(a, b *iamv1alpha1.ResourceAccess) int {
	if c := strings.Compare(string(a.Type), string(b.Type)); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// Diff compares the user's status before and after. Both lists of resources
// are sorted by type and name (as the engine writes them). When either was
// cut at its bound (resourcesTruncated), only the resources both lists can
// show are compared: a resource past the cut is neither gained nor lost.
func Diff(before, after *iamv1alpha1.UserStatus) Change {
	var c Change
	if before.Seat != after.Seat {
		c.SeatBefore, c.SeatAfter = before.Seat, after.Seat
	}
	c.GainedGlobal = minus(after.GlobalPermissions, before.GlobalPermissions)
	c.LostGlobal = minus(before.GlobalPermissions, after.GlobalPermissions)

	var limit *iamv1alpha1.ResourceAccess
	for _, s := range []*iamv1alpha1.UserStatus{before, after} {
		if s.ResourcesTruncated && len(s.Resources) > 0 {
			last := &s.Resources[len(s.Resources)-1]
			if limit == nil || compareAccess(last, limit) < 0 {
				limit = last
			}
		}
	}
	inRange := func(r *iamv1alpha1.ResourceAccess) bool { return limit == nil || compareAccess(r, limit) <= 0 }

	b, a := before.Resources, after.Resources
	i, j := 0, 0
	for i < len(b) || j < len(a) {
		var cmp int
		switch {
		case i == len(b):
			cmp = 1
		case j == len(a):
			cmp = -1
		default:
			cmp = compareAccess(&b[i], &a[j])
		}
		switch {
		case cmp < 0:
			if inRange(&b[i]) {
				c.Lost = append(c.Lost, Entry{Resource: key(&b[i]), Role: b[i].Role, Permissions: b[i].Permissions})
			}
			i++
		case cmp > 0:
			if inRange(&a[j]) {
				c.Gained = append(c.Gained, Entry{Resource: key(&a[j]), Role: a[j].Role, Permissions: a[j].Permissions, Via: vias(&a[j])})
			}
			j++
		default:
			c.compare(&b[i], &a[j])
			i++
			j++
		}
	}
	return c
}

// compare adds what changed on one resource reachable before and after.
func (c *Change) compare(b, a *iamv1alpha1.ResourceAccess) {
	added := minus(a.Permissions, b.Permissions)
	removed := minus(b.Permissions, a.Permissions)
	rb, ra := roleRank(b.Role), roleRank(a.Role)
	if len(added) > 0 || ra > rb {
		e := Entry{Resource: key(a), Permissions: added, Via: vias(a)}
		if ra > rb {
			e.Role = a.Role
		}
		c.Gained = append(c.Gained, e)
	}
	if len(removed) > 0 || rb > ra {
		e := Entry{Resource: key(b), Permissions: removed}
		if rb > ra {
			e.Role, e.Now = b.Role, a.Role
		}
		c.Lost = append(c.Lost, e)
	}
}

// minus returns the elements of a not in b, in a's order.
func minus[T comparable](a, b []T) []T {
	var out []T
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// viaWords names each kind of contribution as a sentence says it.
var viaWords = map[iamv1alpha1.ViaKind]string{
	iamv1alpha1.ViaShare:         "share",
	iamv1alpha1.ViaResourceGrant: "grant",
	iamv1alpha1.ViaConnection:    "connection",
	iamv1alpha1.ViaAdmin:         "admin group",
}

func vias(r *iamv1alpha1.ResourceAccess) []string {
	var out []string
	for _, v := range r.Via {
		w, ok := viaWords[v.Kind]
		if !ok {
			w = strings.ToLower(string(v.Kind))
		}
		s := w + " " + v.Name
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// maxMessage bounds the Event note; the API server caps it at 1 KiB.
const maxMessage = 900

// Message renders the permission changes as one sentence fragment list:
// "gained Editor on dataset/sales via share sales-team; lost runScenarios on
// project/churn". It is cut with "and N more" past the size of an Event.
func (c *Change) Message() string {
	var parts []string
	for _, e := range c.Gained {
		s := "gained " + what(e) + " on " + e.Resource
		if len(e.Via) > 0 {
			s += " via " + strings.Join(e.Via, ", ")
		}
		parts = append(parts, s)
	}
	for _, e := range c.Lost {
		s := "lost " + what(e) + " on " + e.Resource
		if e.Now != "" {
			s += " (now " + string(e.Now) + ")"
		}
		parts = append(parts, s)
	}
	if len(c.GainedGlobal) > 0 {
		parts = append(parts, "gained global "+join(c.GainedGlobal))
	}
	if len(c.LostGlobal) > 0 {
		parts = append(parts, "lost global "+join(c.LostGlobal))
	}
	var b strings.Builder
	for i, p := range parts {
		if b.Len()+len(p) > maxMessage {
			fmt.Fprintf(&b, "; and %s (see the audit log)", words.Count(len(parts)-i, "more change", "more changes"))
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p)
	}
	return b.String()
}

func what(e Entry) string {
	if e.Role != "" {
		return string(e.Role)
	}
	return join(e.Permissions)
}

func join[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}
