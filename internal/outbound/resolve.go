package outbound

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// Ref names a credential Secret that an object's spec references: by name
// only, in the object's own namespace, for that object.
type Ref struct {
	// Namespace is the referencing object's namespace, the only one read.
	Namespace string
	// Name is the Secret's name as the spec gives it; it is checked before
	// anything is read.
	Name string
	// Field is the spec field that gives Name ("spec.credentials.secretRef.name"),
	// for messages.
	Field string
	// Kind (ForConnection, ForDirectory) and Object name the referencing
	// object, which the Secret must be marked for (CheckMarked).
	Kind, Object string
	// NotFound is the Result when the Secret does not exist: what its
	// referencing kind tells its administrator to create.
	NotFound Result
}

// ReadError is the error of a read of a Secret that the API server did not
// answer (not a Secret that does not exist: that is Ref.NotFound).
type ReadError struct {
	// Namespace and Name name the Secret.
	Namespace, Name string
	// Err is the client's error.
	Err error
}

// Error names the Secret and the client's error.
func (e *ReadError) Error() string {
	return fmt.Sprintf("cannot read Secret %s/%s: %v", e.Namespace, e.Name, e.Err)
}

// Unwrap returns the client's error.
func (e *ReadError) Unwrap() error { return e.Err }

// Resolve reads the credential Secret ref names, live through reader (an
// API reader: a Secret is read when it is used, never cached whole), with
// a context whose logger discards (Quiet). In order:
//
//   - a Name that cannot be a Secret's name: a not-Ready Result with reason
//     InvalidSpec, and nothing is read;
//   - a Secret that does not exist: ref.NotFound;
//   - a Secret not marked for ref's object, or of a type Gatehouse never
//     uses: CheckMarked's Result, and the Secret is not returned;
//   - otherwise the Secret, with a Ready Result.
//
// The error, a *ReadError, is for a read that failed; it names the Secret.
// No Result or error holds a value of the Secret: read values with the
// typed readers (BasicFrom, ...) or Value.
func Resolve(ctx context.Context, reader client.Reader, ref Ref) (*corev1.Secret, Result, error) {
	if res, ok := checkSecretName(ref); !ok {
		return nil, res, nil
	}
	var secret corev1.Secret
	if err := reader.Get(Quiet(ctx), client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, &secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, ref.NotFound, nil
		}
		return nil, Result{}, &ReadError{Namespace: ref.Namespace, Name: ref.Name, Err: err}
	}
	if res := CheckMarked(&secret, ref.Kind, ref.Object); !res.Ready {
		return nil, res, nil
	}
	return &secret, Result{Ready: true, Reason: ReasonValid}, nil
}

// kindNames are the referencing kinds as messages name them.
var kindNames = map[string]string{ForConnection: "Connection", ForDirectory: "Directory"}

// checkSecretName rejects a reference that cannot name a Secret of the
// object's own namespace, before anything is read: a reference carries a
// name only, and "other-namespace/name" or a path is not a name.
func checkSecretName(ref Ref) (Result, bool) {
	if len(validation.IsDNS1123Subdomain(ref.Name)) == 0 {
		return Result{}, true
	}
	return Result{Reason: iamv1alpha1.ReasonInvalidSpec, Message: fmt.Sprintf(
		"%s %q is not the name of a Secret (lower-case letters, digits, '-' and '.'). Secrets are read in the %s's own namespace %s only: a reference cannot name another namespace.",
		ref.Field, ref.Name, kindNames[ref.Kind], ref.Namespace)}, false
}

// Value returns the value of key in secret as a Secret, and whether it is
// there and not empty. It is the reader of a single-key reference (a
// Directory's bind password, a CA bundle).
func Value(secret *corev1.Secret, key string) (Secret, bool) {
	s := view(secret)
	return s.secret(key), s.has(key)
}
