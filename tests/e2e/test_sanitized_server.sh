#!/usr/bin/env bash
# Runs the AddressSanitizer/UBSan build of the server through a realistic session (the
# seed manifests, patches, server-side apply, watches, bad requests, a vanished watcher)
# and a clean shutdown, then fails on any sanitizer or leak report.
source "$(dirname "$0")/lib.sh"
K8C_BIN=${K8C_ASAN_BIN:-$K8C_SOURCE_DIR/build-asan/k8c}
if [ ! -x "$K8C_BIN" ]; then
  echo "FATAL: $K8C_BIN not built (make test builds build-asan first)" >&2
  exit 1
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
server_start
v=1.33
for f in web api storage statefulset networkpolicy pdb; do
  out=$(kc $v apply -f "$SEED_DIR/$f.yaml" 2>&1)
  expect_no_match "apply $f.yaml under ASan" "$out" 'Error|error'
done
kc $v apply --server-side --force-conflicts -f "$SEED_DIR/app.yaml" >/dev/null 2>&1
kc $v patch deploy api --type=json -p '[{"op":"replace","path":"/spec/replicas","value":2}]' >/dev/null
kc $v patch deploy api -p '{"spec":{"template":{"spec":{"containers":[{"name":"api","image":"x:2"}]}}}}' >/dev/null
kc $v get all -o wide >/dev/null
kc $v describe deploy api >/dev/null
timeout 1 curl -sk --cert "$DATA_DIR/server/tls/client-admin.crt" --key "$DATA_DIR/server/tls/client-admin.key" \
  "https://127.0.0.1:$PORT/api/v1/namespaces/default/configmaps?watch=1" >/dev/null 2>&1
raw POST /api/v1/namespaces/default/configmaps -H 'Content-Type: application/json' -d '{"kind":' >/dev/null
expect_eq "bad JSON under ASan: 400" "$(raw_status)" "400"
raw GET '/api/v1/pods?labelSelector=a%20in%20(' >/dev/null
expect_eq "bad selector under ASan: 400" "$(raw_status)" "400"
kc $v delete -f "$SEED_DIR/app.yaml" >/dev/null 2>&1
server_stop
if grep -q "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" "$E2E_TMP/server.log"; then
  fail "sanitizer report from the server"
  grep -A30 "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" "$E2E_TMP/server.log" | head -60
else
  pass "no sanitizer or leak report after a clean shutdown"
fi
e2e_finish
