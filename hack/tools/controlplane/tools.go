//go:build tools

// Package controlplane pins the control-plane binaries that the tests and
// `gatehouse dev` run: kube-apiserver from k8s.io/kubernetes and etcd from
// go.etcd.io/etcd/server/v3, and kube-controller-manager (the namespace
// controller and garbage collector) from k8s.io/kubernetes. Nothing here is imported by Gatehouse itself;
// hack/build-controlplane.sh builds them into bin/k8s/<version>/.
package controlplane

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
