package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GroupSpec is a set of users with cumulative global permissions.
type GroupSpec struct {
	// displayName is the group's name for people.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	DisplayName string `json:"displayName,omitempty"`

	// description says what the group is for.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Description string `json:"description,omitempty"`

	// globalPermissions are the global permissions every member holds
	// (within its profile's). Permissions are cumulative across groups.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	GlobalPermissions []GlobalPermission `json:"globalPermissions,omitempty"`

	// ldapGroups are directory groups (DNs or names) whose members belong to
	// this group, matched against Users' spec.directoryGroups. DNs compare
	// case-insensitively.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=100
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=1024
	LDAPGroups []string `json:"ldapGroups,omitempty"`

	// kubernetesGroup is the API-server group name of this group's members
	// (as their client certificates or tokens carry it). The operator binds
	// it in the Roles it projects, such as the one that lets a group read a
	// Connection's details.
	// It never names a system: group (checked here) nor an administrator or
	// break-glass group (checked at admission).
	// +optional
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('system:')",message="kubernetesGroup cannot be a system: group: binding Gatehouse's Roles to it would give them to Kubernetes' own identities (system:authenticated is everyone)"
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[^\\s\\p{C}\\p{Z}]+( [^\\s\\p{C}\\p{Z}]+)*$')",message="kubernetesGroup must be printable: no control characters or bidirectional overrides, no leading, trailing or repeated spaces"
	KubernetesGroup string `json:"kubernetesGroup,omitempty"`
}

// GroupStatus is the observed state of a Group.
type GroupStatus struct {
	// observedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// members is how many active users belong to the group, locally or
	// through the directory. Inactive users (spec.active false, such as
	// those a Directory deactivated) are not counted; the Ready condition
	// says how many were left out.
	// +optional
	Members int32 `json:"members,omitempty"`

	// conditions: Ready, and whether every ldapGroups entry matched users.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Group is a set of users with cumulative global permissions; it may map
// directory groups.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=pg,categories=gatehouse
// +kubebuilder:printcolumn:name="Display Name",type=string,JSONPath=`.spec.displayName`
// +kubebuilder:printcolumn:name="Members",type=integer,JSONPath=`.status.members`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Kubernetes Group",type=string,JSONPath=`.spec.kubernetesGroup`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Group struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the group as declared.
	// +required
	Spec GroupSpec `json:"spec"`

	// status is observed by the operator.
	// +optional
	Status GroupStatus `json:"status,omitempty"`
}

// GroupList is a list of Group.
//
// +kubebuilder:object:root=true
type GroupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Group `json:"items"`
}
