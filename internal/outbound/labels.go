package outbound

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// ErrNotUserSecret is returned by ParseUserKey for a Secret that carries
// neither label of a per-user credential: it is some other Secret, and the
// Connection controller should leave it alone.
var ErrNotUserSecret = errors.New("not a per-user credential Secret: it has neither label " +
	iamv1alpha1.LabelConnection + " nor label " + iamv1alpha1.LabelUser)

// ErrInvalidUserLabels is wrapped by the errors ParseUserKey returns for a
// Secret that carries one of the labels of a per-user credential but not
// both, or a value that cannot name an object.
var ErrInvalidUserLabels = errors.New("invalid per-user credential labels")

// UserKey names a per-user credential: the Connection it is for and the User
// it belongs to, both in the Secret's namespace.
type UserKey struct {
	// Connection is the name of the Connection.
	Connection string
	// User is the name of the User.
	User string
}

// String returns "connection/user".
func (k UserKey) String() string { return k.Connection + "/" + k.User }

// Labels returns the labels that mark a Secret as k's credential.
func (k UserKey) Labels() map[string]string {
	return map[string]string{iamv1alpha1.LabelConnection: k.Connection, iamv1alpha1.LabelUser: k.User}
}

// IsUserSecret reports whether labels carry either label of a per-user
// credential: such a Secret is the Connection controller's to validate, and
// ParseUserKey says whether its labels are complete.
func IsUserSecret(labels map[string]string) bool {
	_, c := labels[iamv1alpha1.LabelConnection]
	_, u := labels[iamv1alpha1.LabelUser]
	return c || u
}

// ParseUserKey reads the per-user credential key from a Secret's labels
// iam.gatehouse.dev/connection and iam.gatehouse.dev/user. It returns
// ErrNotUserSecret when neither label is there, and an error wrapping
// ErrInvalidUserLabels, whose text says which label to fix, when one is
// missing or empty or its value is not an object name.
func ParseUserKey(labels map[string]string) (UserKey, error) {
	conn, hasConn := labels[iamv1alpha1.LabelConnection]
	user, hasUser := labels[iamv1alpha1.LabelUser]
	switch {
	case !hasConn && !hasUser:
		return UserKey{}, ErrNotUserSecret
	case !hasConn:
		return UserKey{}, fmt.Errorf("%w: label %s is missing; a per-user credential Secret names its Connection with it (label %s names its User)",
			ErrInvalidUserLabels, iamv1alpha1.LabelConnection, iamv1alpha1.LabelUser)
	case !hasUser:
		return UserKey{}, fmt.Errorf("%w: label %s is missing; a per-user credential Secret names its User with it (label %s names its Connection)",
			ErrInvalidUserLabels, iamv1alpha1.LabelUser, iamv1alpha1.LabelConnection)
	}
	if err := checkName(iamv1alpha1.LabelConnection, "Connection", conn); err != nil {
		return UserKey{}, err
	}
	if err := checkName(iamv1alpha1.LabelUser, "User", user); err != nil {
		return UserKey{}, err
	}
	return UserKey{Connection: conn, User: user}, nil
}

// checkName checks that the value of label can be the name of an object of
// kind.
func checkName(label, kind, value string) error {
	if value == "" {
		return fmt.Errorf("%w: label %s is empty; set it to the name of the %s", ErrInvalidUserLabels, label, kind)
	}
	if problems := validation.IsDNS1123Subdomain(value); len(problems) > 0 {
		return fmt.Errorf("%w: label %s is %q, which cannot be the name of a %s: %s",
			ErrInvalidUserLabels, label, value, kind, strings.Join(problems, "; "))
	}
	return nil
}
