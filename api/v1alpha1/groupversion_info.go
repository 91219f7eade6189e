// Package v1alpha1 contains the Gatehouse API: the security model of a
// data-science platform (licences, users, groups, directories, data
// connections, per-resource grants and shares) as Kubernetes objects.
//
// Every kind is namespaced: one namespace is one platform instance.
//
// +kubebuilder:object:generate=true
// +groupName=iam.gatehouse.dev
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of the Gatehouse API.
	GroupVersion = schema.GroupVersion{Group: "iam.gatehouse.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the Gatehouse kinds with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the Gatehouse kinds to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
