package connection

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/controllers/internal/status"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/outbound"
	"github.com/gatehouse-dev/gatehouse/internal/probe"
	"github.com/gatehouse-dev/gatehouse/internal/words"
)

// This file holds the pure part of the controllers: what the statuses say,
// given the objects read from the cache. Nothing here reads a cluster.

// counts are the per-user credential counts of a Connection's status.
type counts struct{ configured, missing, invalid int32 }

// countCredentials counts the users' credentials for the PerUser connection
// conn; users are the Users that may use it or hold a Secret for it
// (access.Index.ConnectionUsers), secrets the Secrets labelled for conn, by
// user name.
func countCredentials(conn *iamv1alpha1.Connection, users []access.ConnectionUser, secrets map[string][]*corev1.Secret) counts {
	var c counts
	for _, u := range users {
		st, ok := outbound.UserState(conn, u.Name, secrets[u.Name], u.MayUse)
		if !ok {
			continue
		}
		switch st.Reason {
		case iamv1alpha1.CredentialConfigured:
			c.configured++
		case iamv1alpha1.CredentialMissing:
			c.missing++
		default:
			c.invalid++
		}
	}
	return c
}

// credentialsCondition is CredentialsValid from the verdicts on the
// connection's Secrets (the global credential, the OAuth2 client secret;
// nil where the spec has none) and, for PerUser, the counts.
func credentialsCondition(conn *iamv1alpha1.Connection, results []outbound.Result, c counts) metav1.Condition {
	var ok []string
	for _, r := range results {
		if !r.Ready {
			return status.Condition(iamv1alpha1.ConditionCredentialsValid, false, r.Reason, words.FullStop(r.Message))
		}
		ok = append(ok, words.FullStop(r.Message))
	}
	if outbound.IsPerUser(conn) {
		ok = append(ok, fmt.Sprintf("Each user brings its own credential (mode PerUser): %d configured, %d missing, %d invalid; see status.credentials of the Users.",
			c.configured, c.missing, c.invalid))
	}
	return status.Condition(iamv1alpha1.ConditionCredentialsValid, true, outbound.ReasonValid, strings.Join(ok, " "))
}

// reachableCondition is Reachable from a test result.
func reachableCondition(r probe.Result) metav1.Condition {
	c := status.Condition(iamv1alpha1.ConditionReachable, r.Reachable, r.Reason, words.FullStop(r.Message))
	if r.Reason == probe.ReasonNotTestable {
		c.Status = metav1.ConditionUnknown
	}
	return c
}

// notTested is Reachable for a testable connection whose credentials are not
// valid.
func notTested() metav1.Condition {
	c := status.Condition(iamv1alpha1.ConditionReachable, false, iamv1alpha1.ReasonNotTested,
		"The connection was not tested: its credentials are not valid (see condition CredentialsValid).")
	c.Status = metav1.ConditionUnknown
	return c
}

// readyCondition sums up CredentialsValid and SecretAccess. Reachable is not
// part of it: a server that is down does not make the Connection wrong.
func readyCondition(creds, access metav1.Condition) metav1.Condition {
	switch {
	case creds.Status != metav1.ConditionTrue:
		return status.Condition(iamv1alpha1.ConditionReady, false, iamv1alpha1.ReasonCredentialsInvalid, creds.Message)
	case access.Status != metav1.ConditionTrue:
		return status.Condition(iamv1alpha1.ConditionReady, false, iamv1alpha1.ReasonSecretAccessFailed, access.Message)
	}
	return status.Condition(iamv1alpha1.ConditionReady, true, iamv1alpha1.ReasonReconciled, "The connection's credentials are valid and their access is projected into RBAC.")
}
