package outbound

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/words"
)

// UserState is the state of a user's credential for the PerUser connection
// conn, given the Secrets labelled as that credential (iam.gatehouse.dev/
// connection and iam.gatehouse.dev/user) and whether the user may use the
// connection (access.Index.MayUse: the engine decides). ok is false when
// there is nothing to report: the user may not use it and has no Secret for
// it. The Connection controllers write it into User.status.credentials and
// count it; the CLI computes it from manifests. No message holds a value.
func UserState(conn *iamv1alpha1.Connection, user string, secrets []*corev1.Secret, admitted bool) (st iamv1alpha1.CredentialStatus, ok bool) {
	st.Connection = conn.Name
	typ := EffectiveType(conn.Spec.Credentials)
	switch len(secrets) {
	case 0:
		if !admitted {
			return st, false
		}
		st.Reason = iamv1alpha1.CredentialMissing
		st.Message = fmt.Sprintf("No credential for Connection %s: create a Secret in namespace %s with labels %s=%s and %s=%s holding %s.",
			conn.Name, conn.Namespace, iamv1alpha1.LabelConnection, conn.Name, iamv1alpha1.LabelUser, user, Needs(typ))
		return st, true
	case 1:
		res := Validate(typ, secrets[0])
		if !res.Ready {
			st.Reason = iamv1alpha1.CredentialInvalid
			st.Message = words.FullStop(res.Message)
			return st, true
		}
		st.Ready = true
		st.Reason = iamv1alpha1.CredentialConfigured
		st.Message = words.FullStop(res.Message)
		if !admitted {
			st.Message += fmt.Sprintf(" The user may not use Connection %s (its spec.usableBy does not admit the user, or the user is inactive or holds no seat): the credential is not used.", conn.Name)
		}
		return st, true
	default:
		names := make([]string, len(secrets))
		for i, s := range secrets {
			names[i] = s.Name
		}
		slices.Sort(names)
		st.Reason = iamv1alpha1.CredentialInvalid
		st.Message = fmt.Sprintf("Secrets %s are all labelled as the credential of user %s for Connection %s: keep one.",
			strings.Join(names, ", "), user, conn.Name)
		return st, true
	}
}
