package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SubjectKind is the kind of a ResourceGrant subject.
// +kubebuilder:validation:Enum=User;Group
type SubjectKind string

// The subject kinds.
const (
	SubjectUser  SubjectKind = "User"
	SubjectGroup SubjectKind = "Group"
)

// Subject is a user (by User name) or a group (by Group name).
type Subject struct {
	// kind is User or Group.
	// +required
	Kind SubjectKind `json:"kind"`

	// name is the User's or Group's object name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[^\\s\\p{C}\\p{Z}]+( [^\\s\\p{C}\\p{Z}]+)*$')",message="a subject's name must be printable: no control characters or bidirectional overrides, no leading, trailing or repeated spaces"
	Name string `json:"name"`
}

// ResourceGrantSpec gives users or groups permissions on one resource (DSS
// per-resource permissions). Grants are cumulative; implications apply
// (writeProjectContent gives readProjectContent, ...).
type ResourceGrantSpec struct {
	// resource is the resource the permissions are on.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="resource is immutable: create a new ResourceGrant for another resource"
	Resource ResourceRef `json:"resource"`

	// subjects are the users and groups that get the permissions.
	// +required
	// +listType=map
	// +listMapKey=kind
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=100
	Subjects []Subject `json:"subjects"`

	// permissions are names from the catalogue for the resource's type
	// (gatehouse explain lists them); an unknown name makes the grant not
	// Ready and gives nothing.
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	Permissions []Permission `json:"permissions"`
}

// ResourceGrantStatus is the observed state of a ResourceGrant.
type ResourceGrantStatus struct {
	// observedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// users is how many users the grant reaches.
	// +optional
	Users int32 `json:"users,omitempty"`

	// conditions: Ready names an unknown permission or subject.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ResourceGrant gives groups or users DSS-style permissions on one resource.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=rg,categories=gatehouse
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.resource.type`
// +kubebuilder:printcolumn:name="Resource",type=string,JSONPath=`.spec.resource.name`
// +kubebuilder:printcolumn:name="Users",type=integer,JSONPath=`.status.users`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ResourceGrant struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the grant as declared.
	// +required
	Spec ResourceGrantSpec `json:"spec"`

	// status is observed by the operator.
	// +optional
	Status ResourceGrantStatus `json:"status,omitempty"`
}

// ResourceGrantList is a list of ResourceGrant.
//
// +kubebuilder:object:root=true
type ResourceGrantList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ResourceGrant `json:"items"`
}
