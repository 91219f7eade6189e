package input

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/manifest"
	"github.com/gatehouse-dev/gatehouse/internal/outbound"
)

// perUserSecrets returns the per-user credential Secrets (labelled with
// iam.gatehouse.dev/connection and iam.gatehouse.dev/user) among docs that
// belong to namespace ns, by the connection and user they name; a Secret
// without a namespace belongs to every namespace read, as `kubectl apply
// -n` would place it. A Secret whose labels are incomplete names no one.
// Their values are only ever checked for shape, never printed.
func perUserSecrets(docs []manifest.Document, ns string) (map[outbound.UserKey][]*corev1.Secret, error) {
	out := map[outbound.UserKey][]*corev1.Secret{}
	for _, d := range docs {
		o := d.Object
		if o.GetAPIVersion() != "v1" || o.GetKind() != "Secret" || !outbound.IsUserSecret(o.GetLabels()) {
			continue
		}
		if n := o.GetNamespace(); n != "" && n != ns {
			continue
		}
		k, err := outbound.ParseUserKey(o.GetLabels())
		if err != nil {
			continue
		}
		var s corev1.Secret
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &s); err != nil {
			return nil, fmt.Errorf("%s: does not decode as a Secret: %w", d.Source(), err)
		}
		out[k] = append(out[k], &s)
	}
	return out, nil
}

// CredentialOf says what is known of a user's own credential for the
// PerUser connection conn, which admits the user: from manifests, what the
// operator would find in the Secrets they hold (outbound.UserState, the
// rule the controllers apply); from a cluster, what the operator wrote in
// the User's status.credentials. known is false when the User's status says
// nothing of conn yet (the operator has not reconciled it).
func (l *Loaded) CredentialOf(conn *iamv1alpha1.Connection, user string) (st iamv1alpha1.CredentialStatus, known bool) {
	if !l.FromCluster {
		st, _ = outbound.UserState(conn, user, l.credentials[outbound.UserKey{Connection: conn.Name, User: user}], true)
		return st, true
	}
	if l.users == nil {
		l.users = make(map[string]*iamv1alpha1.User, len(l.Snap.Users))
		for i := range l.Snap.Users {
			l.users[l.Snap.Users[i].Name] = &l.Snap.Users[i]
		}
	}
	if u := l.users[user]; u != nil {
		for _, c := range u.Status.Credentials {
			if c.Connection == conn.Name {
				return c, true
			}
		}
	}
	return iamv1alpha1.CredentialStatus{Connection: conn.Name}, false
}

// Source names where the namespace was read from: "manifests" or
// "cluster".
func (l *Loaded) Source() string {
	if l.FromCluster {
		return "cluster"
	}
	return "manifests"
}
