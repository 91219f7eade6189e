#!/usr/bin/env bash
# Times `kubectl apply -k config/samples` into a fresh namespace until every
# User, Group, License, Share and ResourceGrant there reports Ready:
#   KUBECONFIG=... hack/time-samples.sh [namespace]
# Run it against `make run` (or any cluster running Gatehouse).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ns=${1:-samples-$(date +%s)}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp -r config/samples "$dir/samples"
rm "$dir/samples/00-namespace.yaml"
sed -i '/00-namespace.yaml/d; /^namespace:/d' "$dir/samples/kustomization.yaml"
printf 'namespace: %s\nresources:\n- samples\n' "$ns" >"$dir/kustomization.yaml"
kubectl create namespace "$ns" >/dev/null
start=$(date +%s%N)
kubectl apply -k "$dir" >/dev/null
applied=$(date +%s%N)
kubectl wait --for=condition=Ready users,groups,licenses,shares,resourcegrants --all -n "$ns" --timeout=120s >/dev/null
ready=$(date +%s%N)
echo "namespace $ns: kubectl apply took $(((applied - start) / 1000000)) ms; all statuses Ready $(((ready - start) / 1000000)) ms after the apply began"
