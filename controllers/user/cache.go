package user

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
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
	// their via and cappedBy: a JSON list of [type, name, role,
	// permission...].
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
	u.ManagedFields = nil
	delete(u.Annotations, corev1.LastAppliedConfigAnnotation)
	if _, ok := cachedDigest(u); ok && u.Status.Resources == nil {
		return u, nil // transformed already
	}
	delete(u.Annotations, AnnotationCachedDigest)
	delete(u.Annotations, AnnotationCachedResources)
	digest, err := resourcesDigest(u.Status.Resources)
	if err != nil {
		return nil, err
	}
	compact := make([][]string, len(u.Status.Resources))
	for i, r := range u.Status.Resources {
		e := make([]string, 0, 3+len(r.Permissions))
		e = append(e, string(r.Type), r.Name, string(r.Role))
		for _, p := range r.Permissions {
			e = append(e, string(p))
		}
		compact[i] = e
	}
	b, err := json.Marshal(compact)
	if err != nil {
		return nil, fmt.Errorf("cannot encode the resources of User %s/%s for the cache: %w", u.Namespace, u.Name, err)
	}
	if u.Annotations == nil {
		u.Annotations = make(map[string]string, 2)
	}
	u.Annotations[AnnotationCachedDigest] = u.ResourceVersion + ":" + digest
	u.Annotations[AnnotationCachedResources] = string(b)
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
	var compact [][]string
	if err := json.Unmarshal([]byte(u.Annotations[AnnotationCachedResources]), &compact); err != nil {
		return nil, fmt.Errorf("cannot decode the cached resources of User %s/%s: %w", u.Namespace, u.Name, err)
	}
	out := make([]iamv1alpha1.ResourceAccess, 0, len(compact))
	for _, e := range compact {
		if len(e) < 3 {
			return nil, fmt.Errorf("cannot decode the cached resources of User %s/%s: an entry has %d fields", u.Namespace, u.Name, len(e))
		}
		r := iamv1alpha1.ResourceAccess{Type: iamv1alpha1.ResourceType(e[0]), Name: e[1], Role: iamv1alpha1.Role(e[2])}
		if len(e) > 3 {
			r.Permissions = make([]iamv1alpha1.Permission, len(e)-3)
			for i, p := range e[3:] {
				r.Permissions[i] = iamv1alpha1.Permission(p)
			}
		}
		out = append(out, r)
	}
	return out, nil
}
