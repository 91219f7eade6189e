package outbound

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// IsPerUser reports whether conn takes per-user credentials (and is not
// being deleted).
func IsPerUser(conn *iamv1alpha1.Connection) bool {
	return conn.Spec.Credentials.Mode == iamv1alpha1.CredentialModePerUser && conn.DeletionTimestamp == nil
}

// ListUserSecrets lists the cached per-user credential Secrets of a
// namespace matching opts, sorted by name, leaving out those with invalid
// labels (ParseUserKey) or being deleted.
func ListUserSecrets(ctx context.Context, c client.Reader, namespace string, opts ...client.ListOption) ([]*corev1.Secret, error) {
	var list corev1.SecretList
	if err := c.List(ctx, &list, append(opts, client.InNamespace(namespace))...); err != nil {
		return nil, fmt.Errorf("cannot list the credential Secrets of namespace %s: %w", namespace, err)
	}
	var out []*corev1.Secret
	for i := range list.Items {
		sec := &list.Items[i]
		if _, err := ParseUserKey(sec.Labels); err != nil || sec.DeletionTimestamp != nil {
			continue
		}
		out = append(out, sec)
	}
	slices.SortFunc(out, func(a, b *corev1.Secret) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
