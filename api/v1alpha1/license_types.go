package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LicenseSpec is the platform licence of one namespace: how many seats each
// user profile has and what each profile may ever do.
type LicenseSpec struct {
	// profiles are the user profiles the licence sells, in order of
	// precedence: when a directory user matches several profile mappings, the
	// profile listed first here wins.
	// +required
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	Profiles []Profile `json:"profiles"`

	// expiresAt is when the licence ends. From that moment no user holds a
	// seat and so no user has any permission. Omitted means it does not
	// expire.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`
}

// Profile is one user profile of the licence (DSS "user profile", DataRobot
// RBAC role): a number of seats and a cap on what its users may do.
type Profile struct {
	// name identifies the profile; Users name it in spec.profile.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// seats is how many active users may hold this profile at once. Users
	// beyond it wait Pending, in order of creation.
	// +required
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000000
	Seats int32 `json:"seats"`

	// maxRole is the highest role any share or grant can give this profile's
	// users ("RBAC overrides sharing"): a profile with maxRole Consumer is
	// read-only however a resource is shared with its users.
	// +optional
	// +kubebuilder:default=Owner
	MaxRole Role `json:"maxRole,omitempty"`

	// globalPermissions are the global permissions this profile's users may
	// hold; a user's global permissions from its groups are intersected with
	// this list. Omitted means every global permission; an empty list means
	// none.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	GlobalPermissions []GlobalPermission `json:"globalPermissions"`
}

// ProfileStatus is the seat use of one profile.
type ProfileStatus struct {
	// name is the profile's name.
	// +required
	Name string `json:"name"`

	// seats is the profile's number of seats, as in spec.
	// +required
	Seats int32 `json:"seats"`

	// used is how many users hold a seat of this profile.
	// +required
	Used int32 `json:"used"`

	// pending is how many active users of this profile wait for a seat.
	// +required
	Pending int32 `json:"pending"`
}

// LicenseStatus is the observed state of a License.
type LicenseStatus struct {
	// observedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// profiles report the seat use of each profile, in spec order.
	// +optional
	// +listType=map
	// +listMapKey=name
	Profiles []ProfileStatus `json:"profiles,omitempty"`

	// conditions: Ready, and warnings when a profile is full or
	// over-committed.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// License holds the seats per user profile of one platform instance and what
// each profile may ever do. There is one License per namespace.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=lic,categories=gatehouse
// +kubebuilder:printcolumn:name="Expires",type=date,JSONPath=`.spec.expiresAt`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type License struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the licence as bought.
	// +required
	Spec LicenseSpec `json:"spec"`

	// status is the seat use observed by the operator.
	// +optional
	Status LicenseStatus `json:"status,omitempty"`
}

// LicenseList is a list of License.
//
// +kubebuilder:object:root=true
type LicenseList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []License `json:"items"`
}
