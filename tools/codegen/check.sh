#!/usr/bin/env bash
# check.sh — CI guard: decodes the committed /openapi/v2 protobuf back and compares it with
# the JSON document (openapi_pb_check.py), then re-runs tools/codegen/gen.py into a temporary
# directory and fails if the committed src/api/gen/ differs. Without ../shared/ref/openapi
# beside the repo there is nothing to regenerate from, so that part notes it and passes.
# proto.c comes from the protobuf descriptors inside a kubectl binary (K8C_KUBECTL_FOR_PROTO);
# without that binary only proto.c goes unchecked, and the script says so.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ref="$repo/../shared/ref/openapi"
python3 "$repo/tools/codegen/openapi_pb_check.py" --gen "$repo/src/api/gen"
if [ ! -f "$ref/swagger.json" ]; then
  echo "codegen-check: $ref not present; skipping the generated-code check"
  exit 0
fi

kubectl="${K8C_KUBECTL_FOR_PROTO:-/usr/lib/google-cloud-sdk/bin/kubectl.1.33}"
skip=()
if [ ! -f "$kubectl" ]; then
  echo "codegen-check: $kubectl not present; skipping the check of src/api/gen/proto.c"
  skip=(-x proto.c)
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 "$repo/tools/codegen/gen.py" --ref "$ref" --out "$tmp/gen" --kubectl "$kubectl"
if ! diff -r "${skip[@]}" "$tmp/gen" "$repo/src/api/gen" >"$tmp/diff" 2>&1; then
  head -n 40 "$tmp/diff" | cut -c1-200
  echo "codegen-check: src/api/gen is out of date with tools/codegen; run 'make codegen' and commit" >&2
  exit 1
fi
echo "codegen-check: src/api/gen is up to date"
