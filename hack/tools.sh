#!/usr/bin/env bash
# hack/tools.sh TOOL... builds the pinned tools Gatehouse needs from the Go
# module proxy into bin/, once. Nothing is downloaded as a prebuilt binary.
#
#   controlplane   kube-apiserver, etcd and kube-controller-manager into bin/k8s/<version>/
#                  (envtest, gatehouse dev; the controller-manager runs the
#                  namespace controller and garbage collector where a test needs them)
#   controller-gen deepcopy, CRDs and RBAC from markers
#   golangci-lint  make lint
#   helm           lints, renders and installs charts/gatehouse (make test, test/e2e)
#
# Versions are pinned in the modules under hack/tools/. A built binary is also
# kept in $GATEHOUSE_CACHE (default ~/.cache/gatehouse), so a fresh clone on
# the same machine copies it instead of compiling again.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${GATEHOUSE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse}

# version_of MODULE_DIR MODULE prints the version pinned in hack/tools/MODULE_DIR.
version_of() { (cd "$root/hack/tools/$1" && go list -m -f '{{.Version}}' "$2"); }

# build MODULE_DIR PACKAGE DEST LABEL ESTIMATE [go build flags...]
build() {
	local dir=$1 pkg=$2 dest=$3 label=$4 estimate=$5
	shift 5
	[ -x "$dest" ] && return 0
	local cached="$cache/${dest#"$root"/bin/}"
	mkdir -p "$(dirname "$dest")"
	if [ -x "$cached" ]; then
		cp "$cached" "$dest.tmp" && mv "$dest.tmp" "$dest"
		echo ">> $label: copied from the build cache $cached"
		return 0
	fi
	echo ">> building $label from the Go module proxy (first time only; about $estimate on 2 cores)..."
	local start=$SECONDS
	(cd "$root/hack/tools/$dir" && go build "$@" -o "$dest.tmp" "$pkg")
	mv "$dest.tmp" "$dest"
	mkdir -p "$(dirname "$cached")" && cp "$dest" "$cached.tmp" && mv "$cached.tmp" "$cached"
	echo ">> built $label in $((SECONDS - start))s (cached in $cache)"
}

controlplane() {
	local kv ev dir
	kv=$(version_of controlplane k8s.io/kubernetes)
	ev=$(version_of controlplane go.etcd.io/etcd/server/v3)
	dir="$root/bin/k8s/${kv#v}"
	local minor=${kv#v1.}
	minor=${minor%%.*}
	local ver=k8s.io/component-base/version
	build controlplane go.etcd.io/etcd/server/v3 "$dir/etcd" "etcd $ev" "1 minute"
	build controlplane k8s.io/kubernetes/cmd/kube-apiserver "$dir/kube-apiserver" \
		"kube-apiserver $kv" "9 minutes" \
		-ldflags "-s -w -X $ver.gitVersion=$kv -X $ver.gitMajor=1 -X $ver.gitMinor=$minor -X $ver.gitTreeState=clean"
	build controlplane k8s.io/kubernetes/cmd/kube-controller-manager "$dir/kube-controller-manager" \
		"kube-controller-manager $kv" "2 minutes" \
		-ldflags "-s -w -X $ver.gitVersion=$kv -X $ver.gitMajor=1 -X $ver.gitMinor=$minor -X $ver.gitTreeState=clean"
}

for tool in "$@"; do
	case $tool in
	controlplane) controlplane ;;
	controller-gen)
		v=$(version_of codegen sigs.k8s.io/controller-tools)
		build codegen sigs.k8s.io/controller-tools/cmd/controller-gen "$root/bin/controller-gen-$v" "controller-gen $v" "30 seconds"
		ln -sf "controller-gen-$v" "$root/bin/controller-gen"
		;;
	golangci-lint)
		v=$(version_of lint github.com/golangci/golangci-lint/v2)
		build lint github.com/golangci/golangci-lint/v2/cmd/golangci-lint "$root/bin/golangci-lint-$v" "golangci-lint $v" "3 minutes"
		ln -sf "golangci-lint-$v" "$root/bin/golangci-lint"
		;;
	helm)
		# The flags helm's own Makefile sets: its version, and the Kubernetes
		# version `helm lint` and `helm template` assume (that of its client-go).
		v=$(version_of helm helm.sh/helm/v3)
		cg=$(version_of helm k8s.io/client-go)
		minor=${cg#v0.}
		minor=${minor%%.*}
		ld="-s -w -X helm.sh/helm/v3/internal/version.version=$v -X helm.sh/helm/v3/internal/version.metadata="
		ld+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
		for p in pkg/lint/rules pkg/chartutil; do
			ld+=" -X helm.sh/helm/v3/$p.k8sVersionMajor=1 -X helm.sh/helm/v3/$p.k8sVersionMinor=$minor"
		done
		build helm helm.sh/helm/v3/cmd/helm "$root/bin/helm-$v" "helm $v" "2 minutes" -trimpath -ldflags "$ld"
		ln -sf "helm-$v" "$root/bin/helm"
		;;
	k8s-version) v=$(version_of controlplane k8s.io/kubernetes) && echo "${v#v}" ;;
	*)
		echo "hack/tools.sh: unknown tool $tool (controlplane, controller-gen, golangci-lint, helm, k8s-version)" >&2
		exit 2
		;;
	esac
done
