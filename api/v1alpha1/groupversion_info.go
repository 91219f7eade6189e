// Package v1alpha1 contains the Gatehouse API: the security model of a
// data-science platform (licences, users, groups, directories, data
// connections, per-resource grants and shares) as Kubernetes objects.
//
// Every kind is namespaced: one namespace is one platform instance. The
// package depends only on the standard library and k8s.io/apimachinery, so
// the platform's services can import it cheaply.
//
// +kubebuilder:object:generate=true
// +kubebuilder:ac:generate=true
// +groupName=iam.gatehouse.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of the Gatehouse API.
	GroupVersion = schema.GroupVersion{Group: "iam.gatehouse.dev", Version: "v1alpha1"}

	// SchemeGroupVersion is GroupVersion under the name the generated
	// apply configurations (applyconfiguration.ForKind) use.
	SchemeGroupVersion = GroupVersion

	// SchemeBuilder registers the Gatehouse kinds with a runtime.Scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the Gatehouse kinds to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&License{}, &LicenseList{},
		&User{}, &UserList{},
		&Group{}, &GroupList{},
		&Directory{}, &DirectoryList{},
		&Connection{}, &ConnectionList{},
		&ResourceGrant{}, &ResourceGrantList{},
		&Share{}, &ShareList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
