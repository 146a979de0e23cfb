#!/usr/bin/env bash
# `k8c agent --simulate` joins a server over HTTPS with only the join token (the CA is
# fetched from /cacerts and pinned by the token's hash): its nodes turn Ready, a
# Deployment's pods run on them, the token grants no more than a kubelet needs, and
# when the agent dies its nodes go NotReady/Unknown within the node monitor grace.
source "$(dirname "$0")/lib.sh"
server_start --node-monitor-grace-period 3

AGENT_PID=""
agent_cleanup() {
  if [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
    kill -9 "$AGENT_PID" 2>/dev/null
    wait "$AGENT_PID" 2>/dev/null
  fi
  e2e_cleanup
}
trap agent_cleanup EXIT

TOKEN=$(cat "$DATA_DIR/server/token")
# (without --simulate the agent is the real kubelet: tests/e2e/test_real_pods.sh)
out=$("$K8C_BIN" agent --server "https://127.0.0.1:$PORT" --token "$TOKEN" --runtime nope 2>&1)
expect_match "the real agent refuses an unknown --runtime" "$out" 'invalid value "nope"'
out=$("$K8C_BIN" agent --server "https://127.0.0.1:$PORT" --data-dir "$E2E_TMP/bad" \
  --token "K10$(printf '%064d' 0)::server:x" --simulate 1 2>&1)
expect_match "a token whose CA hash does not match the server's CA is refused" "$out" \
  'does not match the token'

"$K8C_BIN" agent --server "https://127.0.0.1:$PORT" --token "$TOKEN" --simulate 3 \
  --data-dir "$E2E_TMP/agent" >>"$E2E_TMP/agent.log" 2>&1 &
AGENT_PID=$!

for v in 1.33 1.27; do
  ready=0
  for _ in $(seq 1 150); do
    ready=$(kc $v get nodes --no-headers 2>/dev/null | grep -c ' Ready ')
    [ "$ready" -ge 3 ] && break
    sleep 0.1
  done
  expect_eq "kubectl $v: the agent's 3 nodes are Ready" "$ready" "3"
done
expect_eq "the fetched CA is the server's" "$(cmp -s "$E2E_TMP/agent/agent/server-ca.crt" \
  "$DATA_DIR/server/tls/server-ca.crt" && echo same)" "same"

v=1.33
kc $v create deployment web --image=nginx --replicas=3 >/dev/null
kc $v rollout status deploy/web --timeout=60s >/dev/null 2>&1
running=$(kc $v get pods -l app=web --field-selector=status.phase=Running -o \
  jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | grep -c '^sim-node-000[0-2]$')
expect_eq "3 pods run on the agent's nodes" "$running" "3"
ready=$(kc 1.27 get deploy web -o jsonpath='{.status.readyReplicas}')
expect_eq "kubectl 1.27: the Deployment has 3 ready replicas" "$ready" "3"

# The token is the node agent's credential: kubelet rights, nothing more.
tls=$DATA_DIR/server/tls
as_agent() {
  curl -s --max-time 20 --cacert "$tls/server-ca.crt" -H "Authorization: Bearer $TOKEN" \
    -o /dev/null -w '%{http_code}' "$@"
}
expect_eq "the token may list pods" "$(as_agent "https://127.0.0.1:$PORT/api/v1/pods")" "200"
expect_eq "the token may not list deployments" \
  "$(as_agent "https://127.0.0.1:$PORT/apis/apps/v1/deployments")" "403"
expect_eq "the token may not delete a node" \
  "$(as_agent -X DELETE "https://127.0.0.1:$PORT/api/v1/nodes/sim-node-0000")" "403"

# Kill the agent: its nodes stop heartbeating and turn NotReady (Unknown conditions).
kill -9 "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
AGENT_PID=""
start=$(date +%s)
notready=0
for _ in $(seq 1 300); do
  notready=$(kc $v get nodes --no-headers 2>/dev/null | grep -c ' NotReady ')
  [ "$notready" -ge 3 ] && break
  sleep 0.1
done
took=$(($(date +%s) - start))
expect_eq "the dead agent's 3 nodes turn NotReady" "$notready" "3"
expect_match "within the grace (3 s) plus a monitor period (took ${took}s)" "$took" '^([0-9]|1[0-5])$'
cond=$(kc 1.27 get node sim-node-0001 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')
expect_eq "kubectl 1.27: their Ready condition is Unknown" "$cond" "Unknown"

kc $v delete deployment web >/dev/null
if grep -q "AddressSanitizer\|runtime error" "$E2E_TMP/agent.log"; then
  fail "sanitizer report in agent log"
  grep -A20 "AddressSanitizer\|runtime error" "$E2E_TMP/agent.log" | head -40
fi
e2e_finish
