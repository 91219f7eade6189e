// Package builders builds Gatehouse objects for tests: the unit tests of
// the pure packages and the envtest suites alike (it imports the API types
// only, so any package's tests may use it). The operator those suites run
// is internal/testenv/operator. It is for tests only.
package builders

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// License is the namespace's License with profiles.
func License(ns string, profiles ...iamv1alpha1.Profile) *iamv1alpha1.License {
	return &iamv1alpha1.License{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: ns}, Spec: iamv1alpha1.LicenseSpec{Profiles: profiles}}
}

// Profile is a License profile of seats seats.
func Profile(name string, seats int32) iamv1alpha1.Profile {
	return iamv1alpha1.Profile{Name: name, Seats: seats}
}

// User is a User whose login is its name, of profile, in groups.
func User(ns, name, profile string, groups ...string) *iamv1alpha1.User {
	return &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: iamv1alpha1.UserSpec{Login: name, Profile: profile, Groups: groups}}
}

// Group is a Group with global permissions.
func Group(ns, name string, global ...iamv1alpha1.GlobalPermission) *iamv1alpha1.Group {
	return &iamv1alpha1.Group{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: iamv1alpha1.GroupSpec{GlobalPermissions: global}}
}

// Share shares res ("type/name") with grantees.
func Share(ns, name, res string, grantees ...iamv1alpha1.Grantee) *iamv1alpha1.Share {
	typ, n, _ := strings.Cut(res, "/")
	return &iamv1alpha1.Share{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: iamv1alpha1.ShareSpec{Resource: iamv1alpha1.ResourceRef{Type: iamv1alpha1.ResourceType(typ), Name: n}, Grantees: grantees}}
}

// To is a grantee of a Share.
func To(kind iamv1alpha1.GranteeKind, name string, role iamv1alpha1.Role) iamv1alpha1.Grantee {
	return iamv1alpha1.Grantee{Kind: kind, Name: name, Role: role}
}

// Grant gives subjects perms on res ("type/name").
func Grant(ns, name, res string, subjects []iamv1alpha1.Subject, perms ...iamv1alpha1.Permission) *iamv1alpha1.ResourceGrant {
	typ, n, _ := strings.Cut(res, "/")
	return &iamv1alpha1.ResourceGrant{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: iamv1alpha1.ResourceGrantSpec{Resource: iamv1alpha1.ResourceRef{Type: iamv1alpha1.ResourceType(typ), Name: n}, Subjects: subjects, Permissions: perms}}
}

// Secret is a Secret with data and labels.
func Secret(ns, name string, data map[string]string, labels map[string]string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels}, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}
