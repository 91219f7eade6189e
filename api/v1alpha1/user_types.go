package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// UserSource says where a user's identity comes from.
// +kubebuilder:validation:Enum=Local;LDAP
type UserSource string

// The user sources.
const (
	// UserSourceLocal: the administrator manages the user in Kubernetes.
	UserSourceLocal UserSource = "Local"
	// UserSourceLDAP: a Directory fills in the user's identity and directory
	// groups.
	UserSourceLDAP UserSource = "LDAP"
)

// AuthMethod is how the platform authenticates a user.
// +kubebuilder:validation:Enum=Local;LDAP;SSO
type AuthMethod string

// The authentication methods of DSS.
const (
	AuthMethodLocal AuthMethod = "Local"
	AuthMethodLDAP  AuthMethod = "LDAP"
	AuthMethodSSO   AuthMethod = "SSO"
)

// SeatState is whether a user holds a seat of its profile.
// +kubebuilder:validation:Enum=Granted;Pending;None
type SeatState string

// The seat states.
const (
	// SeatGranted: the user holds a seat and so has its permissions.
	SeatGranted SeatState = "Granted"
	// SeatPending: the user is active but every seat of its profile is taken.
	SeatPending SeatState = "Pending"
	// SeatNone: the user is inactive, has no profile, or there is no valid
	// licence.
	SeatNone SeatState = "None"
)

// UserSpec is one platform user as the administrator (or a Directory) declares
// it.
// +kubebuilder:validation:XValidation:rule="has(self.kubernetesUsername) || !self.login.startsWith('system:')",message="a login that begins with system: cannot stand for the user's Kubernetes identity (system: names belong to Kubernetes): set spec.kubernetesUsername"
// +kubebuilder:validation:XValidation:rule="self.source == 'LDAP' ? has(self.directory) : !has(self.directory)",message="spec.directory names the Directory of an LDAP user: set it when source is LDAP and only then"
type UserSpec struct {
	// login is the user's login on the platform. It is unique in the
	// namespace and cannot change: create a new User to rename someone.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^\S+$`
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[^\\s\\p{C}\\p{Z}]+$')",message="login must be one word of printable characters: no spaces, control characters or bidirectional overrides"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="login is immutable: create a new User for a new login"
	Login string `json:"login"`

	// displayName is the user's full name.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	DisplayName string `json:"displayName,omitempty"`

	// email is the user's e-mail address.
	// +optional
	// +kubebuilder:validation:MaxLength=254
	// +kubebuilder:validation:Pattern=`^[^@\s]+@[^@\s]+$`
	Email string `json:"email,omitempty"`

	// profile is the License profile the user holds a seat of. A user with no
	// profile holds no seat and has no permissions.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Profile string `json:"profile,omitempty"`

	// groups are the user's local groups (names of Groups in the namespace).
	// Groups mapped from the directory are added to these in status.groups.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=253
	Groups []string `json:"groups,omitempty"`

	// directoryGroups are the directory groups the user is a member of (DNs
	// or names), as written by the Directory sync. Groups whose ldapGroups
	// name one of them count the user as a member.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=1024
	// +kubebuilder:validation:items:MaxLength=1024
	DirectoryGroups []string `json:"directoryGroups,omitempty"`

	// organization is the user's organization; shares with an Organization
	// grantee reach every user of it.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Organization string `json:"organization,omitempty"`

	// active is false for a user who may not use the platform. An inactive
	// user holds no seat and has no permissions.
	// +optional
	// +kubebuilder:default=true
	Active *bool `json:"active,omitempty"`

	// source says who manages the user's identity: Local (the administrator)
	// or LDAP (the Directory named in spec.directory).
	// +optional
	// +kubebuilder:default=Local
	Source UserSource `json:"source,omitempty"`

	// directory is the name of the Directory an LDAP user comes from.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Directory string `json:"directory,omitempty"`

	// authMethod is how the platform authenticates the user. Omitted means
	// the method of its source (Local or LDAP).
	// +optional
	AuthMethod AuthMethod `json:"authMethod,omitempty"`

	// kubernetesUsername is the identity the Kubernetes API server sees for
	// this person (the user name of its client certificate or token). It maps
	// requests to this User for the sharing rules and RBAC projection.
	// Omitted means the login. It is unique in the namespace (checked at
	// admission) and never a system: name, which belongs to Kubernetes.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('system:')",message="kubernetesUsername cannot be a system: name: those identities belong to Kubernetes itself"
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[^\\s\\p{C}\\p{Z}]+( [^\\s\\p{C}\\p{Z}]+)*$')",message="kubernetesUsername must be printable: no control characters or bidirectional overrides, no leading, trailing or repeated spaces"
	KubernetesUsername string `json:"kubernetesUsername,omitempty"`
}

// IsActive reports whether the user is active; a missing value means active.
func (s *UserSpec) IsActive() bool { return s.Active == nil || *s.Active }

// KubernetesIdentity returns the API-server user name of the user.
func (s *UserSpec) KubernetesIdentity() string {
	if s.KubernetesUsername != "" {
		return s.KubernetesUsername
	}
	return s.Login
}

// ViaKind is the kind of thing that gave a user access to a resource.
// +kubebuilder:validation:Enum=Share;ResourceGrant;Connection;Admin
type ViaKind string

// The kinds of access provenance.
const (
	// ViaShare: a Share names the user, one of its groups or its organization.
	ViaShare ViaKind = "Share"
	// ViaResourceGrant: a ResourceGrant names the user or one of its groups.
	ViaResourceGrant ViaKind = "ResourceGrant"
	// ViaConnection: the Connection's usableBy admits the user.
	ViaConnection ViaKind = "Connection"
	// ViaAdmin: the user holds the admin global permission through a group.
	ViaAdmin ViaKind = "Admin"
)

// AccessVia is one contribution to a user's access to a resource.
type AccessVia struct {
	// kind is what gave the access.
	// +required
	Kind ViaKind `json:"kind"`

	// name is the name of the Share, ResourceGrant or Connection, or of the
	// Group that holds admin.
	// +required
	Name string `json:"name"`

	// subject is how the object reaches the user: "user", "group/<name>" or
	// "organization/<name>".
	// +optional
	Subject string `json:"subject,omitempty"`

	// role is the role this contribution gives, before the profile cap.
	// +optional
	Role Role `json:"role,omitempty"`

	// permissions are the permissions this contribution gives (with their
	// implications), before the profile cap.
	// +optional
	Permissions []Permission `json:"permissions,omitempty"`
}

// AccessCap records what the user's profile removed from its access to a
// resource ("RBAC overrides sharing").
type AccessCap struct {
	// profile is the License profile whose cap applied.
	// +required
	Profile string `json:"profile"`

	// maxRole is the profile's maxRole.
	// +required
	MaxRole Role `json:"maxRole"`

	// roleBefore is the role the shares gave, when the cap lowered it.
	// +optional
	RoleBefore Role `json:"roleBefore,omitempty"`

	// removed are the permissions the cap removed.
	// +optional
	Removed []Permission `json:"removed,omitempty"`
}

// ResourceAccess is what a user may do on one resource.
type ResourceAccess struct {
	// type is the resource type.
	// +required
	Type ResourceType `json:"type"`

	// name is the resource name.
	// +required
	Name string `json:"name"`

	// role is the highest role the user holds through shares, after the
	// profile cap; empty when only ResourceGrants reach the resource.
	// +optional
	Role Role `json:"role,omitempty"`

	// permissions are the effective permissions, sorted.
	// +optional
	Permissions []Permission `json:"permissions,omitempty"`

	// via lists every contribution to this access.
	// +optional
	Via []AccessVia `json:"via,omitempty"`

	// cappedBy is set when the profile removed something.
	// +optional
	CappedBy *AccessCap `json:"cappedBy,omitempty"`
}

// CredentialStatus is the state of one of the user's per-user connection
// credentials.
type CredentialStatus struct {
	// connection is the name of the Connection.
	// +required
	Connection string `json:"connection"`

	// ready is true when the credential Secret exists and holds the keys the
	// connection's credential type needs.
	// +required
	Ready bool `json:"ready"`

	// reason is a CamelCase word: Configured, Missing or Invalid.
	// +optional
	Reason string `json:"reason,omitempty"`

	// message says what is wrong and how to fix it. It never holds a
	// credential value.
	// +optional
	Message string `json:"message,omitempty"`
}

// UserStatus is the user's effective state as the operator computed it: the
// platform's services read it to decide what the user may do.
type UserStatus struct {
	// observedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// groups are the user's groups, local and directory-mapped, sorted.
	// +optional
	Groups []string `json:"groups,omitempty"`

	// seat says whether the user holds a seat of its profile.
	// +optional
	Seat SeatState `json:"seat,omitempty"`

	// globalPermissions are the user's global permissions: the union over
	// its groups, intersected with its profile's, sorted.
	// +optional
	GlobalPermissions []GlobalPermission `json:"globalPermissions,omitempty"`

	// resources are every resource the user can reach, sorted by type and
	// name. The list is cut at 1000 entries (resourcesTruncated); the
	// gatehouse CLI gives the full answer.
	// +optional
	// +kubebuilder:validation:MaxItems=1000
	Resources []ResourceAccess `json:"resources,omitempty"`

	// resourceCount is the number of resources the user can reach, also when
	// resources was cut.
	// +optional
	ResourceCount int32 `json:"resourceCount,omitempty"`

	// resourcesTruncated is true when resources holds fewer entries than
	// resourceCount.
	// +optional
	ResourcesTruncated bool `json:"resourcesTruncated,omitempty"`

	// credentials report the user's per-user connection credentials.
	// +optional
	// +listType=map
	// +listMapKey=connection
	Credentials []CredentialStatus `json:"credentials,omitempty"`

	// conditions: Ready and Licensed.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// User is one platform user: login, name, e-mail, profile, groups and
// source, and in status everything the user may do and why.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=pu,categories=gatehouse
// +kubebuilder:printcolumn:name="Login",type=string,JSONPath=`.spec.login`
// +kubebuilder:printcolumn:name="Profile",type=string,JSONPath=`.spec.profile`
// +kubebuilder:printcolumn:name="Active",type=boolean,JSONPath=`.spec.active`
// +kubebuilder:printcolumn:name="Seat",type=string,JSONPath=`.status.seat`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Source",type=string,JSONPath=`.spec.source`,priority=1
// +kubebuilder:printcolumn:name="Resources",type=integer,JSONPath=`.status.resourceCount`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type User struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the user as declared.
	// +required
	Spec UserSpec `json:"spec"`

	// status is the user's effective access as computed by the operator.
	// +optional
	Status UserStatus `json:"status,omitempty"`
}

// UserList is a list of User.
//
// +kubebuilder:object:root=true
type UserList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []User `json:"items"`
}
