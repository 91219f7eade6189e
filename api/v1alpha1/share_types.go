package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GranteeKind is the kind of a Share grantee.
// +kubebuilder:validation:Enum=User;Group;Organization
type GranteeKind string

// The grantee kinds.
const (
	GranteeUser         GranteeKind = "User"
	GranteeGroup        GranteeKind = "Group"
	GranteeOrganization GranteeKind = "Organization"
)

// Grantee is one collaborator of a shared resource.
type Grantee struct {
	// kind is User, Group or Organization.
	// +required
	Kind GranteeKind `json:"kind"`

	// name is the User's or Group's object name, or the organization name
	// as Users carry it in spec.organization.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[^\\s\\p{C}\\p{Z}]+( [^\\s\\p{C}\\p{Z}]+)*$')",message="a grantee's name must be printable: no control characters or bidirectional overrides, no leading, trailing or repeated spaces"
	Name string `json:"name"`

	// role is Consumer, Editor or Owner (an environment has no Editor).
	// +required
	Role Role `json:"role"`

	// allowSharing lets a non-Owner share the resource onward, up to its own
	// role.
	// +optional
	AllowSharing bool `json:"allowSharing,omitempty"`

	// canUseData gives data access on datasets and connections (Consumer
	// becomes CA, Editor EA); it has no effect on other types.
	// +optional
	CanUseData bool `json:"canUseData,omitempty"`
}

// ShareSpec shares one resource with users, groups or organizations at a
// role (DataRobot sharing).
// +kubebuilder:validation:XValidation:rule="self.resource.type != 'environment' || self.grantees.all(g, g.role != 'Editor')",message="environments have no Editor role: share an environment as Consumer or Owner"
type ShareSpec struct {
	// resource is the shared resource.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="resource is immutable: create a new Share for another resource"
	Resource ResourceRef `json:"resource"`

	// grantees are the collaborators, at most 100 per Share (as DataRobot
	// allows per request); a resource may have many Shares.
	// +required
	// +listType=map
	// +listMapKey=kind
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=100
	Grantees []Grantee `json:"grantees"`

	// note is sent to the collaborators, up to 500 characters: the Shared
	// Event the operator records on each new User grantee's User quotes it.
	// +optional
	// +kubebuilder:validation:MaxLength=500
	Note string `json:"note,omitempty"`
}

// ShareStatus is the observed state of a Share.
type ShareStatus struct {
	// observedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// users is how many users the share reaches.
	// +optional
	Users int32 `json:"users,omitempty"`

	// conditions: Ready names an unknown grantee or a role the type lacks.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// notifiedUsers are the User grantees the operator has told of this
	// Share, sorted: a Shared Event on each one's User names the resource,
	// the role and the note. A User grantee not listed is new: it is
	// notified once its User exists. A grantee removed from spec.grantees
	// leaves the list, so that adding it again notifies it again.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MaxLength=253
	NotifiedUsers []string `json:"notifiedUsers,omitempty"`

	// notifiedGeneration is the generation of the spec that notifiedUsers
	// accounts for. 0 with an observedGeneration means an operator without
	// notifications reconciled the Share last: its User grantees are taken
	// as told, not notified again.
	// +optional
	NotifiedGeneration int64 `json:"notifiedGeneration,omitempty"`
}

// Share shares one resource with users, groups or organizations at a role.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=share,categories=gatehouse
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.resource.type`
// +kubebuilder:printcolumn:name="Resource",type=string,JSONPath=`.spec.resource.name`
// +kubebuilder:printcolumn:name="Users",type=integer,JSONPath=`.status.users`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Share struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the share as declared.
	// +required
	Spec ShareSpec `json:"spec"`

	// status is observed by the operator.
	// +optional
	Status ShareStatus `json:"status,omitempty"`
}

// ShareList is a list of Share.
//
// +kubebuilder:object:root=true
type ShareList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Share `json:"items"`
}
