// Package controllers holds one package per reconciler (controllers/<kind>),
// each a thin loop that gathers inputs from the cache, calls internal/access
// and writes status. This file carries the RBAC the manager itself needs,
// whatever controllers run: leader election and Events.
//
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
package controllers
