#!/usr/bin/env bash
# hack/checksum.sh prints a checksum per generated file, for `make verify`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Every file under api/v1alpha1/applyconfiguration is generated.
{
	find api config/crd/bases config/rbac config/webhook charts/gatehouse/templates -type f \( -name 'zz_generated*' -o -name '*.yaml' -o -name '_generated*.tpl' \) -print0
	find api/v1alpha1/applyconfiguration -type f -print0
} |
	sort -z | xargs -0 sha256sum
