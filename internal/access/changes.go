package access

import (
	"slices"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// This file holds the rules about which License counts and which changes of
// a User or Group can change an answer of the engine. The engine's event
// source and the controllers' watch predicates ask them, so that what
// triggers a recomputation is decided where the computation is.

// LicenseInForce returns the License of a namespace that counts: the oldest
// (then by name) that is not being deleted, nil if none. A namespace should
// have one; admission rejects a second, and the License controller reports
// any other as a duplicate.
func LicenseInForce(ls []iamv1alpha1.License) *iamv1alpha1.License {
	var best *iamv1alpha1.License
	for i := range ls {
		l := &ls[i]
		if l.DeletionTimestamp != nil {
			continue
		}
		if best == nil || l.CreationTimestamp.Before(&best.CreationTimestamp) ||
			(l.CreationTimestamp.Equal(&best.CreationTimestamp) && l.Name < best.Name) {
			best = l
		}
	}
	return best
}

// SeatCountChanged reports whether a change of a User (nil: created or
// deleted) can change the seats its License counts: activation or profile.
func SeatCountChanged(o, n *iamv1alpha1.User) bool {
	return o == nil || n == nil || o.Spec.IsActive() != n.Spec.IsActive() || o.Spec.Profile != n.Spec.Profile
}

// MembershipChanged reports whether a change of a User (nil: created or
// deleted) can change the Groups it is a member of: its groups or its
// directory groups.
func MembershipChanged(o, n *iamv1alpha1.User) bool {
	return o == nil || n == nil || !slices.Equal(o.Spec.Groups, n.Spec.Groups) ||
		!slices.Equal(o.Spec.DirectoryGroups, n.Spec.DirectoryGroups)
}

// MemberCountChanged reports whether a change of a User can change the
// member counts of Groups: its membership, or whether it is active (only
// active users count as members).
func MemberCountChanged(o, n *iamv1alpha1.User) bool {
	return MembershipChanged(o, n) || o.Spec.IsActive() != n.Spec.IsActive()
}

// ReachChanged reports whether a change of a User can change the users a
// Share or ResourceGrant reaches (they count active users of a group or an
// organization).
func ReachChanged(o, n *iamv1alpha1.User) bool {
	return MembershipChanged(o, n) || o.Spec.IsActive() != n.Spec.IsActive() || o.Spec.Organization != n.Spec.Organization
}

// AdmissionChanged reports whether a change of a User can change what
// MayUse and the details rule answer for it: whether it is active or being
// deleted, its groups (as written and as computed), its seat and its global
// permissions (admin).
func AdmissionChanged(o, n *iamv1alpha1.User) bool {
	if o == nil || n == nil {
		return true
	}
	return o.Spec.IsActive() != n.Spec.IsActive() || !slices.Equal(o.Spec.Groups, n.Spec.Groups) ||
		!slices.Equal(o.Status.Groups, n.Status.Groups) || o.Status.Seat != n.Status.Seat ||
		!slices.Equal(o.Status.GlobalPermissions, n.Status.GlobalPermissions) ||
		(o.DeletionTimestamp == nil) != (n.DeletionTimestamp == nil)
}

// GroupMembersChanged reports whether a change of a Group can change who is
// in it as its audiences count: its directory groups or its member count.
func GroupMembersChanged(o, n *iamv1alpha1.Group) bool {
	return o == nil || n == nil || !slices.Equal(o.Spec.LDAPGroups, n.Spec.LDAPGroups) || o.Status.Members != n.Status.Members
}

// StandingChanged reports whether a change of a User (nil: created or
// deleted) can change what a Connection reads of it or of the users whose
// seats it moves: whether it is active, its profile and place in the seat
// order, its groups and directory groups (membership, administrator
// rights) and its Kubernetes identity. A change of its display name,
// e-mail or organization cannot.
func StandingChanged(o, n *iamv1alpha1.User) bool {
	return SeatCountChanged(o, n) || MembershipChanged(o, n) || !o.CreationTimestamp.Equal(&n.CreationTimestamp) ||
		o.Spec.KubernetesIdentity() != n.Spec.KubernetesIdentity()
}
