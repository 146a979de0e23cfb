#!/usr/bin/env bash
# Watch through kubectl (get -w, with Tables) and raw (events from a resourceVersion,
# 410 for a compacted one is covered by the storage suite).
source "$(dirname "$0")/lib.sh"
server_start
for v in $KUBECTL_VERSIONS; do
  kc "$v" create configmap w-$v --from-literal=a=1 >/dev/null
  (kc "$v" get cm -w --output-watch-events >"$E2E_TMP/watch-$v.out" 2>&1 &
   echo $! >"$E2E_TMP/watch-$v.pid")
  sleep 1
  kc "$v" label cm w-$v changed=yes >/dev/null
  kc "$v" delete cm w-$v >/dev/null
  sleep 1
  kill "$(cat "$E2E_TMP/watch-$v.pid")" 2>/dev/null
  out=$(cat "$E2E_TMP/watch-$v.out")
  expect_match "[$v] get -w: initial ADDED" "$out" "ADDED +w-$v"
  expect_match "[$v] get -w: MODIFIED" "$out" "MODIFIED +w-$v"
  expect_match "[$v] get -w: DELETED" "$out" "DELETED +w-$v"
done
rv=$(raw GET /api/v1/namespaces/default/configmaps | python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["resourceVersion"])')
raw POST /api/v1/namespaces/default/configmaps -H 'Content-Type: application/json' -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"late"}}' >/dev/null
out=$(raw GET "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$rv&timeoutSeconds=1")
expect_match "watch from a resourceVersion replays the later create" "$out" '"type":"ADDED","object":\{"apiVersion":"v1","kind":"ConfigMap","metadata":\{"name":"late"|"type":"ADDED".*"name":"late"'
out=$(raw GET "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=1&timeoutSeconds=1")
e2e_finish
