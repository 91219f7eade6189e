#!/usr/bin/env bash
# hack/tidy.sh fails when `go mod tidy` would change go.mod or go.sum of any
# module of the repository (the root and every hack/tools/* module), for
# `make verify`. It changes nothing: `go mod tidy -diff` only prints the diff.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

failed=()
for mod in go.mod hack/tools/*/go.mod; do
	dir=$(dirname "$mod")
	if ! (cd "$dir" && go mod tidy -diff); then
		failed+=("$dir")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	for dir in "${failed[@]}"; do
		echo "go.mod or go.sum of the module in $dir is not tidy: run 'cd $dir && go mod tidy' and commit the result" >&2
	done
	exit 1
fi
