//go:build tools

// Package helm pins the Helm CLI, which lints, renders and installs
// charts/gatehouse in `make test` and test/e2e.
package helm

import (
	_ "helm.sh/helm/v3/cmd/helm"
)
