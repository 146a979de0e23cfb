#!/usr/bin/env bash
# test_agent_join.sh — a real `k8c agent` joins a server (--disable-agent) with only the
# join token, on 127.0.0.1 with its own node name, data, run and log dirs, cgroup parent,
# bridge and kubelet port. It fetches its kubelet serving certificate from
# /v1-k8c/serving-kubelet.crt, so `kubectl logs` and `exec` reach its pods through the
# API server; its node networking serves cluster DNS on 10.43.0.10 (interface k8c-dns),
# which is gone again after the agent stops. Cleans up even on failure.
source "$(dirname "$0")/lib.sh"
source "$K8C_SOURCE_DIR/tests/lib/image_fixture.sh"
source "$K8C_SOURCE_DIR/tests/lib/agent_node.sh"
agent_node_init join j

V=1.33
NODE=e2e-joined
AGENT_PID=""

join_cleanup() {
  set +e
  agent_node_drain_pods $V
  if [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
    kill "$AGENT_PID"
    wait "$AGENT_PID"
  fi
  agent_node_teardown
}
trap join_cleanup EXIT

agent_node_serve_busybox

server_start --cluster-cidr "$CLUSTER_CIDR"
TOKEN=$(cat "$DATA_DIR/server/token")

# ---- the endpoint refuses what it must
code=$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/v1-k8c/serving-kubelet.crt")
expect_eq "serving-kubelet.crt without the token: 401" "$code" 401
code=$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
  "https://127.0.0.1:$PORT/v1-k8c/serving-kubelet.crt")
expect_eq "serving-kubelet.crt without a node name: 400" "$code" 400
code=$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
  -H "k8c-Node-Name: $NODE" -H "k8c-Node-IP: not-an-ip" \
  "https://127.0.0.1:$PORT/v1-k8c/serving-kubelet.crt")
expect_eq "serving-kubelet.crt with a bad IP: 400" "$code" 400

"$K8C_BIN" agent --server "https://127.0.0.1:$PORT" --token "$TOKEN" --node-name "$NODE" \
  --data-dir "$E2E_TMP/agent" --run-dir "$RUN_DIR" --pod-log-dir "$LOG_DIR" \
  --cgroup-parent "$CGROUP" --bridge "$BRIDGE" --kubelet-port 0 --node-ip 127.0.0.1 \
  --cluster-cidr "$CLUSTER_CIDR" --private-registry "$E2E_TMP/registries.yaml" \
  >>"$E2E_TMP/agent.log" 2>&1 &
AGENT_PID=$!

node_ready() { kc $V get node $NODE -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True; }
wait_for 30 node_ready && pass "joined node $NODE turns Ready" || fail "node not Ready: $(tail -5 "$E2E_TMP/agent.log")"
expect_no_match "the agent got its serving certificate" "$(cat "$E2E_TMP/agent.log")" "serving certificate"
port=$(kc $V get node $NODE -o jsonpath='{.status.daemonEndpoints.kubeletEndpoint.Port}')
expect_match "the node reports its kubelet port" "$port" '^[1-9][0-9]*$'

# ---- logs and exec through the API server to the joined agent
kc $V run talker --image=busybox:1.36 --restart=Never -- sh -c 'echo hello from the joined node; sleep 300' >/dev/null
running() { kc $V get pod talker -o jsonpath='{.status.phase}' | grep -qx Running; }
wait_for 60 running && pass "pod runs on the joined node" || fail "pod not Running: $(kc $V get pod talker -o wide 2>&1)"
expect_eq "it was scheduled there" "$(kc $V get pod talker -o jsonpath='{.spec.nodeName}')" "$NODE"
has_log() { kc $V logs talker | grep -q 'hello from the joined node'; }
wait_for 15 has_log && pass "kubectl logs reaches the joined agent" || fail "kubectl logs: $(kc $V logs talker 2>&1)"
expect_eq "kubectl exec reaches the joined agent" "$(kc $V exec talker -- echo exec-ok 2>&1)" "exec-ok"

# ---- node networking in agent mode: cluster DNS on its service IP
dns_up() { ip -4 addr show dev k8c-dns | grep -q 'inet 10.43.0.10/32'; }
wait_for 15 dns_up && pass "cluster DNS IP on interface k8c-dns" || fail "no k8c-dns: $(ip addr 2>&1 | tail -3)"
answer() { python3 "$(dirname "$0")/helpers/dns_query.py" 10.43.0.10 kubernetes.default.svc.cluster.local; }
wait_for 10 sh -c "python3 '$(dirname "$0")/helpers/dns_query.py' 10.43.0.10 kubernetes.default.svc.cluster.local | grep -qx 10.43.0.1"
expect_eq "cluster DNS answers for the kubernetes Service" "$(answer 2>&1)" "10.43.0.1"

# ---- a clean stop removes the interface
kc $V delete pod talker --grace-period=0 --force >/dev/null 2>&1
for _ in $(seq 1 100); do
  [ -z "$(ls -A "$RUN_DIR/containers" 2>/dev/null)" ] && break
  sleep 0.1
done
kill "$AGENT_PID"
wait "$AGENT_PID"
AGENT_PID=""
if ip link show k8c-dns >/dev/null 2>&1; then fail "k8c-dns left behind"; else pass "the stopped agent removed k8c-dns"; fi

if grep -q "AddressSanitizer\|runtime error" "$E2E_TMP/agent.log"; then fail "sanitizer report in agent log"; fi
e2e_finish
