# Gatehouse. `make help` lists the targets.
#
# Every tool is built from the Go module proxy into bin/ by hack/tools.sh the
# first time it is needed (pinned in hack/tools/*/go.mod), and kept in
# ~/.cache/gatehouse so that a fresh clone on the same machine reuses it.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

K8S_VERSION := $(shell hack/tools.sh k8s-version)
ASSETS := $(CURDIR)/bin/k8s/$(K8S_VERSION)
export KUBEBUILDER_ASSETS := $(ASSETS)

CONTROLLER_GEN := bin/controller-gen
GOLANGCI_LINT := bin/golangci-lint
GO_TEST_FLAGS ?=
LDFLAGS := -s -w

.DEFAULT_GOAL := help

##@ Use

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*##/ { printf "  %-16s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

.PHONY: run
run: build controlplane ## Run Gatehouse on a local control plane with the samples (or on the cluster KUBECONFIG names).
	bin/gatehouse dev --manager bin/manager --manager-arg=--metrics-bind-address=0 \
		--manager-arg=--health-probe-bind-address=127.0.0.1:0 --samples config/samples

.PHONY: build
build: ## Build the manager and the CLI into bin/.
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o bin/manager ./cmd/manager
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o bin/gatehouse ./cmd/gatehouse
	ln -sf gatehouse bin/kubectl-gatehouse

##@ Test

.PHONY: test
# The tools are built before the tests, not inside them (a cold helm build
# would eat into go test's timeout).
test: verify vet lint controlplane deps helm ## Everything CI runs: generated files up to date, vet, lint, unit, envtest and real-server tests.
	go test -timeout 30m $(GO_TEST_FLAGS) ./...

.PHONY: test-e2e
test-e2e: controlplane deps helm ## Only the end-to-end suite: the built binaries driven with kubectl (also part of `make test`).
	go test $(GO_TEST_FLAGS) ./test/e2e/...

.PHONY: test-unit
test-unit: ## Only the tests that need no control plane.
	go test $(GO_TEST_FLAGS) ./internal/access/... ./internal/audit/... ./internal/manifest/... ./internal/outbound/...

.PHONY: bench
bench: ## Go benchmarks of the pure packages (figures in BENCHMARKS.md).
	go test -run='^$$' -bench=. -benchmem -cpu=1 ./internal/...

.PHONY: bench-directory
bench-directory: controlplane deps ## Sync 10,000 users and 1,000 groups from a local slapd, then a no-change resync, a bound stop and an empty-directory stop (figures in BENCHMARKS.md; about 3 minutes).
	GATEHOUSE_LARGE=1 go test -count=1 -timeout 20m -run TestLargeSync -v ./controllers/directory/

.PHONY: bench-scale
bench-scale: build controlplane ## The scale harness (GATEHOUSE_SCALE=full|small|<users>; figures in BENCHMARKS.md).
	GATEHOUSE_SCALE=$${GATEHOUSE_SCALE:-full} go test -count=1 -timeout 150m -run TestScale -v ./test/scale/

.PHONY: vet
vet: ## go vet.
	go vet ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) ## golangci-lint with the curated set of .golangci.yml.
	$(GOLANGCI_LINT) run ./...

##@ Generate

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Regenerate deepcopy, apply configurations, CRDs and RBAC from the markers.
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...
	rm -rf api/v1alpha1/applyconfiguration # the generator never removes the file of a type gone
	$(CONTROLLER_GEN) applyconfiguration:headerFile=hack/boilerplate.go.txt paths=./api/...
	$(CONTROLLER_GEN) crd paths=./api/... output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=gatehouse-manager paths=./... output:rbac:artifacts:config=config/rbac
	$(CONTROLLER_GEN) webhook paths=./internal/webhook/admission/... output:webhook:artifacts:config=config/webhook
	go run ./hack/chartgen

.PHONY: verify
verify: ## Fail if regenerating changes any file (run `make generate` and commit) or if `go mod tidy` would change a go.mod or go.sum.
	@hack/tidy.sh
	@before=$$(hack/checksum.sh); $(MAKE) -s generate; after=$$(hack/checksum.sh); \
	if [ "$$before" != "$$after" ]; then \
		diff <(echo "$$before") <(echo "$$after") || true; \
		echo "generated files were out of date: run 'make generate' and commit the result" >&2; exit 1; fi

##@ Tools

.PHONY: deps
deps: ## Install the Debian packages the real-server tests run (slapd, Samba, PostgreSQL, MariaDB) when missing.
	hack/deps.sh all

.PHONY: controlplane
controlplane: ## Build kube-apiserver, etcd and kube-controller-manager into bin/k8s/<version> (first time: about 11 minutes).
	hack/tools.sh controlplane

$(CONTROLLER_GEN): hack/tools/codegen/go.mod
	hack/tools.sh controller-gen

$(GOLANGCI_LINT): hack/tools/lint/go.mod
	hack/tools.sh golangci-lint

.PHONY: clean
clean: ## Remove bin/ (the build cache in ~/.cache/gatehouse stays).
	rm -rf bin .gatehouse

##@ Helm chart

.PHONY: chart
chart: ## Regenerate charts/gatehouse's CRDs, RBAC and webhooks from config/ (part of make generate).
	go run ./hack/chartgen

.PHONY: helm
helm: ## Build helm into bin/ (first time: about 2 minutes).
	hack/tools.sh helm
