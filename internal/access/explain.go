package access

import (
	"fmt"
	"slices"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/words"
)

// ConnectionUse says what using a Connection takes of a user who reaches
// it: the part of an Explanation that only a Connection has.
type ConnectionUse string

const (
	// UseNothingMore says nothing more (the resource is no Connection, or
	// the Connection takes one global credential and admits the user, or
	// there is no such Connection yet the user holds use, as an
	// administrator does).
	UseNothingMore ConnectionUse = ""
	// UseNoConnection says that no Connection of that name exists, and
	// that the user does not hold use.
	UseNoConnection ConnectionUse = "NoConnection"
	// UseNotAdmitted says that the Connection's usableBy does not admit
	// the user.
	UseNotAdmitted ConnectionUse = "NotAdmitted"
	// UseUnchecked says that the Connection takes each user's own
	// credential (mode PerUser), and that nothing is known yet of the
	// user's.
	UseUnchecked ConnectionUse = "Unchecked"
	// UseReady says that the Connection takes each user's own
	// credential, and that the user's is ready.
	UseReady ConnectionUse = "Ready"
	// UseInvalid says that the Connection takes each user's own
	// credential, and that the user has no valid one.
	UseInvalid ConnectionUse = "Invalid"
)

// Explanation is why a user holds what it holds on a resource: the answer
// of Explain, put in words by Lines.
type Explanation struct {
	// User is the user asked about.
	User *UserResult
	// Resource is the resource asked about.
	Resource iamv1alpha1.ResourceRef
	// Access is the user's access to Resource, with every contribution
	// (Via) and cap (CappedBy); nil when the user holds no seat or reaches
	// nothing of Resource.
	Access *iamv1alpha1.ResourceAccess
	// Use says what using Resource takes, when it is a Connection the user
	// reaches.
	Use ConnectionUse
	// Credential is the user's own credential when Use is
	// UseReady or UseInvalid.
	Credential iamv1alpha1.CredentialStatus
}

// Explain says why u, a user of Compute(snap), holds what it holds on ref.
// For a Connection of mode PerUser, cred says what is known of the user's
// own credential.
func Explain(snap *Snapshot, u *UserResult, ref iamv1alpha1.ResourceRef, cred CredentialLookup) *Explanation {
	e := &Explanation{User: u, Resource: ref}
	if u.Seat != iamv1alpha1.SeatGranted {
		return e
	}
	e.Access = u.Find(ref)
	if e.Access == nil || ref.Type != iamv1alpha1.ResourceConnection {
		return e
	}
	conn := snapshotConnection(snap, ref.Name)
	mayUse := slices.Contains(e.Access.Permissions, "use")
	switch {
	case conn == nil && !mayUse:
		e.Use = UseNoConnection
	case conn == nil:
	case !mayUse:
		e.Use = UseNotAdmitted
	case conn.Spec.Credentials.Mode == iamv1alpha1.CredentialModePerUser:
		st, known := cred(conn, u.Name)
		switch {
		case !known:
			e.Use = UseUnchecked
		case st.Ready:
			e.Use, e.Credential = UseReady, st
		default:
			e.Use, e.Credential = UseInvalid, st
		}
	}
	return e
}

// Lines puts the explanation in words, a sentence a line (without its line
// end, which is the caller's to write): the user's groups and seat, every
// contribution to its access and every cap on it, and what using a
// Connection takes. source names where the namespace was read
// ("manifests", "cluster"). The names in a line are the objects' own, not
// escaped for a terminal; a line holds a line break only if a name does.
func (e *Explanation) Lines(source string) []string {
	var b lines
	u, login, ref := e.User, e.User.Login, e.Resource
	if len(u.Groups) > 0 {
		b.add("%s is in %s %s.", login, words.Plural(len(u.Groups), "group", "groups"), words.List(u.Groups))
	}
	if len(u.UnknownGroups) > 0 {
		b.add("%s lists %s that %s not exist: %s.", login, words.Plural(len(u.UnknownGroups), "a group", "groups"),
			words.Plural(len(u.UnknownGroups), "does", "do"), words.List(u.UnknownGroups))
	}
	if u.Seat != iamv1alpha1.SeatGranted {
		b.add("%s holds no seat (%s, %s): %s", login, u.Seat, u.SeatReason, u.SeatMessage)
		b.add("A user without a seat has no permissions at all, so %s can do nothing on %s.", login, ref)
		return b
	}
	b.add("%s", u.SeatMessage)
	if e.Access == nil {
		b.add("%s has no access to %s: no Share or ResourceGrant names %s, its groups or its organization, and no Connection admits it.", login, ref, login)
		return b
	}
	e.writeAccess(&b)
	e.writeUse(&b, source)
	return b
}

// lines are the sentences of an explanation, a line each.
type lines []string

// add appends a line, formatted as fmt.Sprintf does.
func (l *lines) add(format string, args ...any) {
	*l = append(*l, fmt.Sprintf(format, args...))
}

// writeAccess writes the user's role and permissions on the resource, each
// contribution, and the profile's cap.
func (e *Explanation) writeAccess(b *lines) {
	login, ref, ra := e.User.Login, e.Resource, e.Access
	var role string
	if ra.Role != "" {
		role = fmt.Sprintf("is %s on %s and holds", ra.Role, ref)
	} else {
		role = fmt.Sprintf("has no role on %s (no Share reaches %s, only %s) and holds", ref, login, words.List(roleless(ra.Via)))
	}
	b.add("%s %s %s.", login, role, listOrNothing(ra.Permissions))
	b.add("Because:")
	for _, v := range ra.Via {
		b.add("  - %s.", DescribeVia(v, login))
	}
	if ra.Role != "" && len(ra.Via) > 1 {
		b.add("Shares combine: the most permissive role wins, and permissions add up.")
	}
	if c := ra.CappedBy; c != nil {
		line := fmt.Sprintf("The profile %s caps every role at %s", c.Profile, c.MaxRole)
		if c.RoleBefore != "" {
			line += fmt.Sprintf(": the role was %s and is now %s", c.RoleBefore, ra.Role)
		}
		if len(c.Removed) > 0 {
			line += fmt.Sprintf("; it removed %s", listOrNothing(c.Removed))
		}
		b.add("%s. Sharing never overrides the profile.", line)
	}
}

// writeUse writes what using the Connection takes of the user.
func (e *Explanation) writeUse(b *lines, source string) {
	login, name := e.User.Login, e.Resource.Name
	switch e.Use {
	case UseNoConnection:
		b.add("No Connection %s exists in the %s, so nobody but administrators can use it.", name, source)
	case UseNotAdmitted:
		b.add("Connection %s's usableBy does not admit %s, so %s cannot use it whatever a Share or grant says.", name, login, login)
	case UseUnchecked:
		b.add("Connection %s takes each user's own credential (mode PerUser), and the operator has not yet said whether %s has one (User %s's status.credentials).", name, login, e.User.Name)
	case UseReady:
		b.add("Connection %s takes each user's own credential (mode PerUser), and %s's is ready.", name, login)
	case UseInvalid:
		b.add("But Connection %s takes each user's own credential (mode PerUser), and %s has no valid one, so %s cannot use it yet: %s", name, login, login, e.Credential.Message)
	}
}

// roleless names what gives permissions without a role: ResourceGrants
// and a Connection's usableBy.
func roleless(vias []iamv1alpha1.AccessVia) []string {
	var out []string
	for _, v := range vias {
		var s string
		switch v.Kind {
		case iamv1alpha1.ViaResourceGrant:
			s = "ResourceGrant " + v.Name
		case iamv1alpha1.ViaConnection:
			s = "Connection " + v.Name + "'s usableBy"
		default:
			continue
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
