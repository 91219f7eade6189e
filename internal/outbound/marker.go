package outbound

import (
	"context"
	"fmt"

	"github.com/go-logr/logr"

	corev1 "k8s.io/api/core/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// Kinds of object a Secret may be marked for.
const (
	ForConnection = "connection"
	ForDirectory  = "directory"
)

// Marker is the value of iamv1alpha1.LabelCredentialFor that marks a Secret
// for object kind/name ("connection.warehouse").
func Marker(kind, name string) string { return kind + "." + name }

// AllowedTypes are the Secret types Gatehouse ever uses as a credential: a
// service-account-token Secret labelled as one would otherwise hand out a
// ServiceAccount's token.
var AllowedTypes = []corev1.SecretType{corev1.SecretTypeOpaque, corev1.SecretTypeBasicAuth, corev1.SecretTypeSSHAuth, ""}

// TypeAllowed reports whether Gatehouse may use a Secret of type t.
func TypeAllowed(t corev1.SecretType) bool {
	for _, a := range AllowedTypes {
		if t == a {
			return true
		}
	}
	return false
}

// CheckMarked says whether secret may be used for object kind/name: marked
// for it by its owner (label iam.gatehouse.dev/credential-for), and of an
// allowed type. Not Ready: a Result whose message says exactly what to run;
// nothing of the Secret may then be read, sent, bound or granted.
func CheckMarked(secret *corev1.Secret, kind, name string) Result {
	want := Marker(kind, name)
	if !TypeAllowed(secret.Type) {
		return Result{Reason: iamv1alpha1.ReasonSecretTypeNotAllowed, Message: fmt.Sprintf(
			"Secret %s/%s is of type %s, which Gatehouse never uses as a credential (only Opaque, kubernetes.io/basic-auth and kubernetes.io/ssh-auth); put the credential in a Secret of one of those types.",
			secret.Namespace, secret.Name, secret.Type)}
	}
	got, ok := secret.Labels[iamv1alpha1.LabelCredentialFor]
	switch {
	case !ok:
		return Result{Reason: iamv1alpha1.ReasonSecretNotMarked, Message: fmt.Sprintf(
			"Secret %s/%s is not marked for %s %s, so Gatehouse neither reads nor uses nor grants it; if it is meant for it, its owner runs: kubectl label secret %s -n %s %s=%s",
			secret.Namespace, secret.Name, kind, name, secret.Name, secret.Namespace, iamv1alpha1.LabelCredentialFor, want)}
	case got != want:
		return Result{Reason: iamv1alpha1.ReasonSecretNotMarked, Message: fmt.Sprintf(
			"Secret %s/%s is marked for %s, not for %s %s, so Gatehouse neither reads nor uses nor grants it for %s; a Secret serves one object: give %s its own Secret, marked %s=%s.",
			secret.Namespace, secret.Name, got, kind, name, name, name, iamv1alpha1.LabelCredentialFor, want)}
	}
	return Result{Ready: true, Reason: ReasonValid}
}

// Quiet returns ctx with a logger that discards: read Secrets with it.
// client-go logs request and response bodies, a Secret's data included, at
// verbosity 8 through the context's logger, so a manager run at debug level
// would otherwise write credentials into its log.
func Quiet(ctx context.Context) context.Context { return logr.NewContext(ctx, logr.Discard()) }
