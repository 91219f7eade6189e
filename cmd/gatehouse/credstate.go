package main

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/credentials"
	"github.com/gatehouse-dev/gatehouse/internal/manifest"
)

// perUserSecrets returns the per-user credential Secrets (labelled with
// iam.gatehouse.dev/connection and iam.gatehouse.dev/user) among docs that
// belong to namespace ns, by the connection and user they name; a Secret
// without a namespace belongs to every namespace read, as `kubectl apply
// -n` would place it. A Secret whose labels are incomplete names no one.
// Their values are only ever checked for shape, never printed.
func perUserSecrets(docs []manifest.Document, ns string) (map[credentials.UserKey][]*corev1.Secret, error) {
	out := map[credentials.UserKey][]*corev1.Secret{}
	for _, d := range docs {
		o := d.Object
		if o.GetAPIVersion() != "v1" || o.GetKind() != "Secret" || !credentials.IsUserSecret(o.GetLabels()) {
			continue
		}
		if n := o.GetNamespace(); n != "" && n != ns {
			continue
		}
		k, err := credentials.ParseUserKey(o.GetLabels())
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

// connection returns the Connection named name, nil if there is none.
func (l *loaded) connection(name string) *iamv1alpha1.Connection {
	for i := range l.snap.Connections {
		if c := &l.snap.Connections[i]; c.Name == name {
			return c
		}
	}
	return nil
}

// credentialOf says what is known of a user's own credential for the
// PerUser connection conn, which admits the user: from manifests, what the
// operator would find in the Secrets they hold (credentials.UserState, the
// rule the controllers apply); from a cluster, what the operator wrote in
// the User's status.credentials. known is false when the User's status says
// nothing of conn yet (the operator has not reconciled it).
func (l *loaded) credentialOf(conn *iamv1alpha1.Connection, user string) (st iamv1alpha1.CredentialStatus, known bool) {
	if !l.fromCluster {
		st, _ = credentials.UserState(conn, user, l.credentials[credentials.UserKey{Connection: conn.Name, User: user}], true)
		return st, true
	}
	if l.users == nil {
		l.users = make(map[string]*iamv1alpha1.User, len(l.snap.Users))
		for i := range l.snap.Users {
			l.users[l.snap.Users[i].Name] = &l.snap.Users[i]
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

// describeCredential puts a credential's state in a few words for a table.
func describeCredential(st iamv1alpha1.CredentialStatus, known bool) string {
	switch {
	case !known:
		return "not yet checked by the operator"
	case st.Ready:
		return "own credential ready"
	case st.Reason == iamv1alpha1.CredentialMissing:
		return "no credential"
	}
	return "credential invalid"
}
