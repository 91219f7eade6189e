package user

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/statusowner"
)

// The manager's cache does not hold the Users' status.resources: at 10,000
// users those lists are most of the manager's memory, and the controller
// needs only two things of them — whether the list it computes equals the
// one written, and, when it does not, what each resource's role and
// permissions were, for the Event and the audit line. CacheTransform keeps
// exactly that, in two annotations of the cached copy. They exist only in
// the cache: nothing writes a User from the cache (status is applied from a
// new object, and no controller updates a User's metadata). The digest
// names the resourceVersion it was taken at, so the same annotations set on
// the API server by hand are never mistaken for the cache's.
const (
	// AnnotationCachedDigest is "<resourceVersion>:<SHA-256 of the written
	// status.resources' JSON, base64>".
	AnnotationCachedDigest = "cache.iam.gatehouse.dev/resources-sha256"
	// AnnotationCachedResources is the written status.resources without
	// their via and cappedBy, in the compact form of encodeResources.
	AnnotationCachedResources = "cache.iam.gatehouse.dev/resources"
)

// CacheTransform is the manager cache's transform of a User: it drops
// managedFields and kubectl's last-applied-configuration, and replaces
// status.resources by the two cache annotations. It is idempotent.
func CacheTransform(in any) (any, error) {
	u, ok := in.(*iamv1alpha1.User)
	if !ok {
		return in, nil
	}
	// Which status fields someone else wrote, before managedFields go.
	statusowner.Mark(u)
	if _, ok := cachedDigest(u); ok && u.Status.Resources == nil {
		return u, nil // transformed already
	}
	delete(u.Annotations, AnnotationCachedDigest)
	delete(u.Annotations, AnnotationCachedResources)
	digest, err := resourcesDigest(u.Status.Resources)
	if err != nil {
		return nil, err
	}
	compact := encodeResources(u.Status.Resources)
	if u.Annotations == nil {
		u.Annotations = make(map[string]string, 2)
	}
	u.Annotations[AnnotationCachedDigest] = u.ResourceVersion + ":" + digest
	u.Annotations[AnnotationCachedResources] = compact
	u.Status.Resources = nil
	return u, nil
}

// cachedDigest returns the digest CacheTransform recorded for this very
// resourceVersion of u.
func cachedDigest(u *iamv1alpha1.User) (string, bool) {
	v, ok := u.Annotations[AnnotationCachedDigest]
	if !ok {
		return "", false
	}
	rv, digest, ok := strings.Cut(v, ":")
	if !ok || rv != u.ResourceVersion {
		return "", false
	}
	return digest, true
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

// writtenResources tells whether want equals the status.resources written
// on u, as the cache holds it (or in full, for a User read without the
// cache transform).
func writtenResources(u *iamv1alpha1.User, want []iamv1alpha1.ResourceAccess) (bool, error) {
	digest, cached := cachedDigest(u)
	if !cached {
		d, err := resourcesDigest(u.Status.Resources)
		if err != nil {
			return false, err
		}
		digest = d
	}
	w, err := resourcesDigest(want)
	if err != nil {
		return false, err
	}
	return w == digest, nil
}

// previousResources returns the written status.resources of u with what the
// Event and the audit line need of each: type, name, role and permissions.
func previousResources(u *iamv1alpha1.User) ([]iamv1alpha1.ResourceAccess, error) {
	if _, cached := cachedDigest(u); !cached {
		return u.Status.Resources, nil
	}
	out, err := decodeResources(u.Annotations[AnnotationCachedResources])
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
