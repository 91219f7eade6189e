package access

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/words"
)

// Holder is one user who holds a permission on a resource, and how: an
// answer of WhoCan. Its JSON is the row `gatehouse who-can -o json` prints.
type Holder struct {
	Login string                  `json:"login"`
	Name  string                  `json:"name"`
	Role  iamv1alpha1.Role        `json:"role,omitempty"`
	Via   []iamv1alpha1.AccessVia `json:"via"`
	// Credential is the user's own credential, for `use` of a PerUser
	// Connection; Known is false when the operator has not checked it yet.
	Credential *iamv1alpha1.CredentialStatus `json:"credential,omitempty"`
	Known      *bool                         `json:"credentialKnown,omitempty"`
}

// CredentialLookup says what is known of a user's own credential for conn,
// a Connection of mode PerUser that admits the user. known is false when
// nothing is known of it yet (the operator has not written the User's
// status.credentials). Where the answer comes from is the caller's: the
// credential Secrets of manifests, or the Users' status in a cluster.
type CredentialLookup func(conn *iamv1alpha1.Connection, user string) (st iamv1alpha1.CredentialStatus, known bool)

// WhoCan returns the users of res holding perm on ref, sorted by login
// (holders, never nil). For `use` of a Connection of snap whose mode is
// PerUser, holding it is not enough: a user also needs a valid credential
// of its own (cred), so the users its usableBy admits who have none are
// returned apart (blocked, never nil then; nil for every other question).
func WhoCan(snap *Snapshot, res *Result, perm iamv1alpha1.Permission, ref iamv1alpha1.ResourceRef, cred CredentialLookup) (holders, blocked []Holder) {
	holders = []Holder{}
	var conn *iamv1alpha1.Connection
	if ref.Type == iamv1alpha1.ResourceConnection && perm == "use" {
		if c := snapshotConnection(snap, ref.Name); c != nil && c.Spec.Credentials.Mode == iamv1alpha1.CredentialModePerUser {
			conn, blocked = c, []Holder{}
		}
	}
	for _, u := range UsersByLogin(res) {
		ra := u.Find(ref)
		if ra == nil || !slices.Contains(ra.Permissions, perm) {
			continue
		}
		h := Holder{Login: u.Login, Name: u.Name, Role: ra.Role, Via: ra.Via}
		if conn == nil {
			holders = append(holders, h)
			continue
		}
		st, known := cred(conn, u.Name)
		h.Credential, h.Known = &st, &known
		if known && st.Ready {
			holders = append(holders, h)
		} else {
			blocked = append(blocked, h)
		}
	}
	return holders, blocked
}

// UsersByLogin returns the users of res sorted by login, then by name.
func UsersByLogin(res *Result) []*UserResult {
	out := make([]*UserResult, 0, len(res.Users))
	for _, u := range res.Users {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Login != out[j].Login {
			return out[i].Login < out[j].Login
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// UserByLogin returns the user of res with a login, else the one with that
// object name; nil if there is none. Of several users with one login, the
// first by object name.
func UserByLogin(res *Result, login string) *UserResult {
	for _, n := range res.UserNames() {
		if u := res.Users[n]; u.Login == login {
			return u
		}
	}
	return res.Users[login]
}

// snapshotConnection returns the Connection of snap named name, nil if there
// is none.
func snapshotConnection(snap *Snapshot, name string) *iamv1alpha1.Connection {
	for i := range snap.Connections {
		if c := &snap.Connections[i]; c.Name == name {
			return c
		}
	}
	return nil
}

// DescribeVia puts one contribution to login's access in words, e.g.
// "Share sales-team gives Editor to group data".
func DescribeVia(v iamv1alpha1.AccessVia, login string) string {
	switch v.Kind {
	case iamv1alpha1.ViaShare:
		return fmt.Sprintf("Share %s gives %s to %s", v.Name, v.Role, reachedThrough(v.Subject, login))
	case iamv1alpha1.ViaResourceGrant:
		return fmt.Sprintf("ResourceGrant %s gives %s to %s", v.Name, listOrNothing(v.Permissions), reachedThrough(v.Subject, login))
	case iamv1alpha1.ViaConnection:
		return fmt.Sprintf("Connection %s's usableBy admits %s to %s it", v.Name, reachedThrough(v.Subject, login), listOrNothing(v.Permissions))
	case iamv1alpha1.ViaAdmin:
		return fmt.Sprintf("admin through group %s gives Owner", v.Name)
	}
	return fmt.Sprintf("%s %s", v.Kind, v.Name)
}

// reachedThrough says how a contribution reaches a user, from its subject.
func reachedThrough(subject, login string) string {
	switch {
	case subject == "user":
		return login + " directly"
	case subject == "":
		return "every user"
	case strings.HasPrefix(subject, "group/"):
		return "group " + strings.TrimPrefix(subject, "group/")
	case strings.HasPrefix(subject, "organization/"):
		return "organization " + strings.TrimPrefix(subject, "organization/")
	}
	return subject
}

// listOrNothing joins names as "a, b and c", or "nothing".
func listOrNothing[T ~string](xs []T) string {
	if len(xs) == 0 {
		return "nothing"
	}
	return words.List(xs)
}
