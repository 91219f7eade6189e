package user

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/types"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/statusowner"
)

// The manager's cache does not hold the Users' status.resources: at 10,000
// users those lists are most of the manager's memory, and the controller
// needs only two things of them — whether the list it computes equals the
// one written, and, when it does not, what each resource's role and
// permissions were, for the Event and the audit line. CacheTransform keeps
// exactly that in a WrittenResources beside the cache, keyed by the User
// and valid for the resourceVersion it was taken at, and leaves the cached
// User without its resources and otherwise as the API server sent it (no
// annotation of the cache's own that an Update from the cache would write
// back).

// WrittenResources holds, per User, a digest and a compact copy of the
// status.resources last seen by the cache. Safe for concurrent use.
type WrittenResources struct {
	mu sync.RWMutex
	m  map[types.NamespacedName]writtenEntry
}

// writtenEntry is what the cache saw of one User's resources.
type writtenEntry struct {
	uid             types.UID
	resourceVersion string
	// digest is resourcesDigest of the list, compact its encodeResources.
	digest, compact string
}

// NewWrittenResources returns an empty store.
func NewWrittenResources() *WrittenResources {
	return &WrittenResources{m: map[types.NamespacedName]writtenEntry{}}
}

// defaultWritten is the store of CacheTransform, shared by the User
// reconcilers of the process (entries name their User's UID and
// resourceVersion, so two managers of one process never mistake each
// other's).
var defaultWritten = NewWrittenResources()

// CacheTransform is the manager cache's transform of a User: it drops
// managedFields and kubectl's last-applied-configuration (statusowner.Mark)
// and moves status.resources into the process's WrittenResources.
func CacheTransform(in any) (any, error) { return defaultWritten.Transform(in) }

// Transform is CacheTransform with this store. It is idempotent: a User
// without resources whose entry is of its resourceVersion is left alone.
func (w *WrittenResources) Transform(in any) (any, error) {
	u, ok := in.(*iamv1alpha1.User)
	if !ok {
		return in, nil
	}
	// Which status fields someone else wrote, before managedFields go.
	statusowner.Mark(u)
	key := types.NamespacedName{Namespace: u.Namespace, Name: u.Name}
	if _, ok := w.entry(u); ok && u.Status.Resources == nil {
		return u, nil // transformed already
	}
	digest, err := resourcesDigest(u.Status.Resources)
	if err != nil {
		return nil, err
	}
	e := writtenEntry{uid: u.UID, resourceVersion: u.ResourceVersion, digest: digest, compact: encodeResources(u.Status.Resources)}
	w.mu.Lock()
	w.m[key] = e
	w.mu.Unlock()
	u.Status.Resources = nil
	return u, nil
}

// entry returns the entry of u taken at u's very resourceVersion.
func (w *WrittenResources) entry(u *iamv1alpha1.User) (writtenEntry, bool) {
	w.mu.RLock()
	e, ok := w.m[types.NamespacedName{Namespace: u.Namespace, Name: u.Name}]
	w.mu.RUnlock()
	return e, ok && e.uid == u.UID && e.resourceVersion == u.ResourceVersion
}

// Forget drops the entry of a User that is gone.
func (w *WrittenResources) Forget(key types.NamespacedName) {
	w.mu.Lock()
	delete(w.m, key)
	w.mu.Unlock()
}

// resourcesDigest is the digest of a status.resources list. Two lists with
// equal JSON are equal for the API (nil and empty lists are both left out).
func resourcesDigest(rs []iamv1alpha1.ResourceAccess) (string, error) {
	if len(rs) == 0 {
		return "", nil
	}
	b, err := json.Marshal(rs)
	if err != nil {
		return "", fmt.Errorf("cannot encode status.resources: %w", err)
	}
	sum := sha256.Sum256(b)
	return base64.RawStdEncoding.EncodeToString(sum[:]), nil
}

// errNotStored: the cached User's resources are in the store under a newer
// resourceVersion than the cache holds (the transform of the next version
// ran, its object is on its way to the cache, and its event will follow).
var errNotStored = errors.New("the written resources of this resourceVersion are not in the store")

// Same tells whether want equals the status.resources written on u, as
// the store holds it for u's resourceVersion (or in full, for a User read
// without the cache transform); errNotStored when the store has moved on.
func (w *WrittenResources) Same(u *iamv1alpha1.User, want []iamv1alpha1.ResourceAccess) (bool, error) {
	e, cached := w.entry(u)
	digest := e.digest
	if !cached && u.Status.Resources == nil && u.Status.ResourceCount > 0 {
		return false, errNotStored
	}
	if !cached {
		d, err := resourcesDigest(u.Status.Resources)
		if err != nil {
			return false, err
		}
		digest = d
	}
	d, err := resourcesDigest(want)
	if err != nil {
		return false, err
	}
	return d == digest, nil
}

// Previous returns the written status.resources of u with what the Event
// and the audit line need of each: type, name, role and permissions.
func (w *WrittenResources) Previous(u *iamv1alpha1.User) ([]iamv1alpha1.ResourceAccess, error) {
	e, cached := w.entry(u)
	if !cached {
		return u.Status.Resources, nil
	}
	out, err := decodeResources(e.compact)
	if err != nil {
		return nil, fmt.Errorf("cannot decode the cached resources of User %s/%s: %w", u.Namespace, u.Name, err)
	}
	return out, nil
}

// tokens numbers the catalogue's resource types, roles and permissions, so
// that the cached copy of a resource list spends a byte or two on each
// instead of its name: at 10,000 users the lists hold 2.4 million entries
// of about ten permissions each. The numbering lives only in this process,
// like the cache.
var tokens, tokenIndex = func() ([]string, map[string]uint64) {
	seen := map[string]bool{}
	var all []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			all = append(all, s)
		}
	}
	for _, t := range access.Types() {
		add(string(t))
		roles, _ := access.RolesOf(t)
		for _, r := range roles {
			add(string(r))
		}
		perms, _ := access.PermissionsOf(t)
		for _, p := range perms {
			add(string(p))
		}
	}
	slices.Sort(all)
	index := make(map[string]uint64, len(all))
	for i, s := range all {
		index[s] = uint64(i) + 1
	}
	return all, index
}()

// encodeResources is the compact copy of a resource list: the number of
// entries, then per entry its type, name, role, the number of permissions
// and each permission, every string as a token of the catalogue (its
// number) or, when it is not one (a name), as 0, its length and its bytes;
// base64, so that the annotation stays text.
func encodeResources(rs []iamv1alpha1.ResourceAccess) string {
	b := make([]byte, 0, 16*len(rs))
	b = binary.AppendUvarint(b, uint64(len(rs)))
	str := func(s string) {
		if i, ok := tokenIndex[s]; ok {
			b = binary.AppendUvarint(b, i)
			return
		}
		b = binary.AppendUvarint(b, 0)
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, r := range rs {
		str(string(r.Type))
		b = binary.AppendUvarint(b, uint64(len(r.Name)))
		b = append(b, r.Name...)
		str(string(r.Role))
		b = binary.AppendUvarint(b, uint64(len(r.Permissions)))
		for _, p := range r.Permissions {
			str(string(p))
		}
	}
	return base64.RawStdEncoding.EncodeToString(b)
}

// decodeResources reads what encodeResources wrote.
func decodeResources(enc string) ([]iamv1alpha1.ResourceAccess, error) {
	b, err := base64.RawStdEncoding.DecodeString(enc)
	if err != nil {
		return nil, err
	}
	errCorrupt := errors.New("the encoding is cut short")
	uvarint := func() (uint64, error) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, errCorrupt
		}
		b = b[n:]
		return v, nil
	}
	literal := func() (string, error) {
		n, err := uvarint()
		if err != nil || n > uint64(len(b)) {
			return "", errCorrupt
		}
		s := string(b[:n])
		b = b[n:]
		return s, nil
	}
	str := func() (string, error) {
		i, err := uvarint()
		switch {
		case err != nil:
			return "", err
		case i == 0:
			return literal()
		case i > uint64(len(tokens)):
			return "", fmt.Errorf("token %d is not in the catalogue", i)
		}
		return tokens[i-1], nil
	}
	n, err := uvarint()
	if err != nil || n > uint64(len(b)) {
		return nil, errCorrupt
	}
	out := make([]iamv1alpha1.ResourceAccess, n)
	for k := range out {
		r := &out[k]
		typ, err := str()
		if err != nil {
			return nil, err
		}
		if r.Name, err = literal(); err != nil {
			return nil, err
		}
		role, err := str()
		if err != nil {
			return nil, err
		}
		r.Type, r.Role = iamv1alpha1.ResourceType(typ), iamv1alpha1.Role(role)
		np, err := uvarint()
		if err != nil || np > uint64(len(b)) {
			return nil, errCorrupt
		}
		if np > 0 {
			r.Permissions = make([]iamv1alpha1.Permission, np)
			for i := range r.Permissions {
				p, err := str()
				if err != nil {
					return nil, err
				}
				r.Permissions[i] = iamv1alpha1.Permission(p)
			}
		}
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%d bytes are left over", len(b))
	}
	return out, nil
}
