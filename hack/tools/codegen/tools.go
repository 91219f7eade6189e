//go:build tools

// Package codegen pins controller-gen, which generates deepcopy, CRDs and
// RBAC from the markers in api/ and controllers/.
package codegen

import (
	_ "sigs.k8s.io/controller-tools/cmd/controller-gen"
)
