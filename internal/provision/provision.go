// Package provision builds the server-side apply of a User that a source of
// identities provisions: the Directory sync today, single sign-on's
// just-in-time provisioning later. Both write a User the same way, under
// their own field manager, so that an administrator's fields (local groups,
// organization, authMethod, kubernetesUsername, a profile override) are
// never in the apply and never overwritten. Server-side apply removes what
// a field manager stops applying: a field left out here is given up.
package provision

import (
	"k8s.io/apimachinery/pkg/types"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	iamv1alpha1ac "github.com/gatehouse-dev/gatehouse/api/v1alpha1/applyconfiguration/api/v1alpha1"
)

// User is what a source of identities says of one provisioned User.
type User struct {
	// Namespace and Name are the User's.
	Namespace, Name string
	// UID, when not empty, is the UID of the User the source read: the
	// apply then fails rather than write into a new object of the same
	// name created since the read. Empty for a create.
	UID types.UID
	// Source is spec.source.
	Source iamv1alpha1.UserSource
	// Directory, when not empty, is spec.directory and the LabelDirectory
	// label.
	Directory string
	// Login is spec.login.
	Login string
	// DisplayName and Email are spec.displayName and spec.email; empty
	// leaves them out.
	DisplayName, Email string
	// DirectoryGroups is spec.directoryGroups; empty leaves it out.
	DirectoryGroups []string
	// Profile is spec.profile; empty leaves it out (no profile to give, or
	// an administrator's override to keep).
	Profile string
	// Active is spec.active; nil leaves it out (the source owns it only to
	// deactivate).
	Active *bool
}

// Apply is the server-side apply configuration of u: exactly the fields the
// source owns. Apply it with the source's field manager and force.
func Apply(u User) *iamv1alpha1ac.UserApplyConfiguration {
	spec := iamv1alpha1ac.UserSpec().WithLogin(u.Login).WithSource(u.Source)
	if u.Directory != "" {
		spec.WithDirectory(u.Directory)
	}
	if u.DisplayName != "" {
		spec.WithDisplayName(u.DisplayName)
	}
	if u.Email != "" {
		spec.WithEmail(u.Email)
	}
	if len(u.DirectoryGroups) > 0 {
		spec.WithDirectoryGroups(u.DirectoryGroups...)
	}
	if u.Profile != "" {
		spec.WithProfile(u.Profile)
	}
	if u.Active != nil {
		spec.WithActive(*u.Active)
	}
	ac := iamv1alpha1ac.User(u.Name, u.Namespace).WithSpec(spec)
	if u.Directory != "" {
		ac.WithLabels(map[string]string{iamv1alpha1.LabelDirectory: u.Directory})
	}
	if u.UID != "" {
		ac.WithUID(u.UID)
	}
	return ac
}
