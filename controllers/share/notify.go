package share

import (
	"fmt"
	"slices"
	"sync"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/types"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// EventShared is the Normal Event on a User that a Share newly names as a
// grantee: it names the Share, the resource, the role and quotes the note
// (seed 002: the note is included in the notification).
const EventShared = "Shared"

// How the reconciler knows which User grantees are new.
//
// status.notifiedUsers lists the User grantees already told, and
// status.notifiedGeneration the spec generation that list accounts for. A
// grantee not in the list whose User exists is notified, then added; a
// grantee no longer in spec.grantees is dropped, so that removing and adding
// it again notifies it again. The record is status, not an annotation: it
// is the operator's, written with the rest of the status by its own field
// manager, so it survives operator restarts; no user can edit it, whereas an
// annotation is editable by whoever may change the grantees (the status
// webhook admits the operator alone, and a field someone else writes there
// is repaired); and writing it is no metadata change for the Share webhook
// to judge. What it does not survive is the loss of the whole status (a
// restore without status): the Share then reads as never reconciled and its
// User grantees are told once more, the lesser evil to telling nobody.
//
// Three cases refine what counts as already told:
//   - an operator without notifications left observedGeneration but no
//     notifiedGeneration: the grantees of such a Share are taken as told
//     (an upgrade does not notify every grantee of every Share);
//   - a field of the record someone else wrote is no history (SPEC: a
//     repaired field never is): the reconciler's own memory of its last
//     write counts instead, or, after a restart, the grantees are taken as
//     told, as for an upgrade;
//   - the cache may not show the reconciler's last write yet (a reconcile
//     can run while it is on its way): that memory bridges it, so a
//     grantee is not notified twice.

// ownFields are the status fields of the notification record.
var ownFields = []string{"notifiedUsers", "notifiedGeneration"}

// written is what the reconciler last wrote of one Share's record.
type written struct {
	uid        types.UID
	generation int64
	users      []string
}

// memory remembers, per Share, the notification record the reconciler last
// wrote, until the cache shows it. Safe for concurrent use; the zero value
// is ready.
type memory struct {
	mu sync.Mutex
	m  map[types.NamespacedName]written
}

// told returns the users already told of s and whether they are known. The
// record read from the cache counts unless it is older than the last write
// or was written by someone else (repaired).
func (m *memory) told(s *iamv1alpha1.Share, repaired []string) ([]string, bool) {
	key := types.NamespacedName{Namespace: s.Namespace, Name: s.Name}
	m.mu.Lock()
	defer m.mu.Unlock()
	w, ok := m.m[key]
	if ok && w.uid != s.UID {
		delete(m.m, key)
		ok = false
	}
	forged := slices.ContainsFunc(ownFields, func(f string) bool { return slices.Contains(repaired, f) })
	st := s.Status
	if ok && !forged && st.NotifiedGeneration >= w.generation && slices.Equal(st.NotifiedUsers, w.users) {
		delete(m.m, key) // the cache has caught up
	}
	switch {
	case ok:
		return w.users, true
	case forged:
		return nil, false
	case st.NotifiedGeneration == 0 && st.ObservedGeneration != 0:
		return nil, false
	}
	return st.NotifiedUsers, true
}

// wrote records a write of the record of s.
func (m *memory) wrote(s *iamv1alpha1.Share, generation int64, users []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[types.NamespacedName]written{}
	}
	m.m[types.NamespacedName{Namespace: s.Namespace, Name: s.Name}] = written{uid: s.UID, generation: generation, users: users}
}

// forget drops the record of a Share that is gone.
func (m *memory) forget(key types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, key)
}

// newGrantees decides, from the spec, the users already told (known: false
// when that is unknown, and then every User grantee that exists is taken
// as told) and which Users exist, the User grantees to notify and the
// record to write: every User grantee told before or now, sorted. A User
// grantee whose User does not exist is not told and not recorded (its User
// appearing reconciles the Share again), nor one whose role the resource
// type lacks (it gets nothing; fixing the role notifies it).
func newGrantees(spec *iamv1alpha1.ShareSpec, told []string, known bool, exists func(string) bool) (notify []iamv1alpha1.Grantee, record []string) {
	for _, g := range spec.Grantees {
		if g.Kind != iamv1alpha1.GranteeUser || access.ValidRole(spec.Resource.Type, g.Role) != nil {
			continue
		}
		switch {
		case known && slices.Contains(told, g.Name):
			record = append(record, g.Name)
		case exists(g.Name):
			record = append(record, g.Name)
			if known {
				notify = append(notify, g)
			}
		}
	}
	slices.Sort(record)
	return notify, slices.Compact(record)
}

// noteLimit is the longest Event note the API server accepts (1 kB).
const noteLimit = 1024

// sharedMessage is the note of the Shared Event: the Share, the resource,
// the role, and the Share's note quoted (Go syntax, so that a newline or a
// control character in it stays visible and on one line), shortened to
// keep the Event under the API server's limit. It names nothing else.
func sharedMessage(s *iamv1alpha1.Share, g iamv1alpha1.Grantee) string {
	msg := fmt.Sprintf("Share %s gives you %s on %s", s.Name, g.Role, s.Spec.Resource)
	if s.Spec.Note == "" {
		return msg + "."
	}
	note := s.Spec.Note
	out := fmt.Sprintf("%s: %q", msg, note)
	for len(out) > noteLimit && note != "" {
		_, size := utf8.DecodeLastRuneInString(note)
		note = note[:len(note)-size]
		out = fmt.Sprintf("%s: %q", msg, note+"…")
	}
	return out
}
