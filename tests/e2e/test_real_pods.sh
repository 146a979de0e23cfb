#!/usr/bin/env bash
# test_real_pods.sh — the in-process node agent runs real containers: `k8c server` without
# --disable-agent (its own data, run and log dirs, cgroup parent and bridge), a local
# docker-registry serving as docker.io's mirror (registries.yaml) with an nginx image built
# by the fixture under the seed's name, so the seed's web.yaml runs unchanged. Checks: 3
# pods Running 1/1 with nginx in separate network namespaces, each pod IP answers HTTP,
# logs/exec/port-forward through the API server, breaking the readiness path flips READY,
# killing nginx shows RESTARTS 1 (and
# `logs -p` the previous run), a crashing pod goes to CrashLoopBackOff, a memory hog ends
# OOMKilled, env from
# $(VAR) and fieldRef, deleting the Deployment leaves nothing behind (containers, netns,
# mounts, veths, cgroups, processes, logs). Cleans up even on failure.
source "$(dirname "$0")/lib.sh"
source "$K8C_SOURCE_DIR/tests/lib/image_fixture.sh"
source "$K8C_SOURCE_DIR/tests/lib/agent_node.sh"
agent_node_init e2e e

V_NEW=1.33
V_OLD=1.27

trap "agent_node_cleanup $V_NEW" EXIT

# ---- images: busybox and the seed's nginx, pushed to a local registry mirroring docker.io
LAYOUT=$E2E_TMP/layout
if ! { fixture_build_busybox "$LAYOUT" base && fixture_build_nginx "$LAYOUT" nginx &&
  fixture_start_registry "$E2E_TMP" &&
  fixture_push "$LAYOUT" base library/busybox:1.36 &&
  fixture_push "$LAYOUT" nginx library/nginx:1.27-alpine &&
  fixture_mirror_config "$E2E_TMP/registries.yaml"; } >"$E2E_TMP/fixture.log" 2>&1; then
  cat "$E2E_TMP/fixture.log" >&2
  echo "FATAL: building the images / starting the registry failed" >&2
  exit 1
fi

AGENT_NODE_INGRESS="" agent_node_server_start e2e-node

node_ready() { kc $V_NEW get node e2e-node -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True; }
wait_for 30 node_ready && pass "node e2e-node registers and turns Ready" || fail "node not Ready"
expect_eq "node got a pod CIDR" "$(kc $V_NEW get node e2e-node -o jsonpath='{.spec.podCIDR}')" "$CLUSTER_CIDR"
expect_eq "node Lease in kube-node-lease" "$(kc $V_NEW -n kube-node-lease get lease e2e-node -o jsonpath='{.spec.holderIdentity}')" "e2e-node"

# ---- the seed's web.yaml, unchanged
kc $V_NEW apply -f "$SEED_DIR/web.yaml" >/dev/null
three_ready() { [ "$(kc $V_NEW get pods -l app=web --no-headers 2>/dev/null | grep -c ' 1/1 *Running')" = 3 ]; }
if wait_for 60 three_ready; then pass "web.yaml: 3 pods Running 1/1"; else
  fail "web.yaml pods not ready: $(kc $V_NEW get pods -o wide 2>&1)"
  kc $V_NEW describe pods >&2
fi
expect_eq "kubectl $V_OLD sees them Running" "$(kc $V_OLD get pods -l app=web --no-headers | grep -c Running)" 3

ips=$(kc $V_NEW get pods -l app=web -o jsonpath='{.items[*].status.podIP}')
n_ok=0
for ip in $ips; do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://$ip/")
  [ "$code" = 200 ] && n_ok=$((n_ok + 1))
done
expect_eq "each pod IP answers HTTP 200 from the host" "$n_ok" 3

masters=$(pgrep -f "nginx: master" | while read -r p; do
  grep -q "$CGROUP" /proc/$p/cgroup 2>/dev/null && echo "$p"; done)
expect_eq "3 nginx master processes in the pods' cgroups" "$(echo "$masters" | grep -c .)" 3
netns=$(for p in $masters; do readlink /proc/$p/ns/net; done | sort -u | grep -c .)
expect_eq "in 3 separate network namespaces" "$netns" 3
expect_eq "endpoints list the 3 ready pods" \
  "$(kc $V_NEW get endpoints web-svc -o jsonpath='{.subsets[*].addresses[*].ip}' | wc -w)" 3

node_images() { kc $V_OLD get node e2e-node -o jsonpath='{.status.images[*].names}' | grep -q nginx; }
wait_for 15 node_images && pass "node status lists the pulled images" || fail "no images in node status"

# ---- logs, exec (WebSocket with 1.33, SPDY with 1.27), port-forward through the API server
first=$(kc $V_NEW get pods -l app=web -o jsonpath='{.items[0].metadata.name}')
expect_match "kubectl logs shows nginx's start-up" "$(kc $V_NEW logs "$first" 2>&1)" "start worker process"
expect_eq "kubectl $V_NEW exec runs in the pod" "$(kc $V_NEW exec "$first" -- cat /etc/hostname 2>&1)" "$first"
expect_eq "kubectl $V_OLD exec with stdin" "$(echo piped | kc $V_OLD exec -i "$first" -- cat 2>&1)" "piped"
# resolv.conf as dnsPolicy says: ClusterFirst (the cluster DNS, the namespace's search
# list, ndots:5), and None with dnsConfig (exactly what the pod asks for).
expect_eq "ClusterFirst: resolv.conf points at cluster DNS with the search list" \
  "$(kc $V_NEW exec "$first" -- cat /etc/resolv.conf 2>&1 | grep -v '^#')" \
  "$(printf 'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.43.0.10\noptions ndots:5')"
kc $V_NEW run dns-none --image=nginx:1.27-alpine --restart=Never --overrides='{"spec":{"dnsPolicy":"None",
  "dnsConfig":{"nameservers":["192.0.2.53"],"searches":["corp.example"],"options":[{"name":"ndots","value":"2"},{"name":"edns0"}]}}}' >/dev/null
dns_none_up() { kc $V_NEW get pod dns-none --no-headers | grep -q ' Running'; }
wait_for 30 dns_none_up || true
expect_eq "None + dnsConfig: resolv.conf is exactly the pod's dnsConfig" \
  "$(kc $V_NEW exec dns-none -- cat /etc/resolv.conf 2>&1 | grep -v '^#')" \
  "$(printf 'search corp.example\nnameserver 192.0.2.53\noptions ndots:2 edns0')"
kc $V_NEW delete pod dns-none --grace-period=0 --force >/dev/null 2>&1
fwd_port=$(free_port)
kc $V_NEW port-forward "pod/$first" "$fwd_port:80" >"$E2E_TMP/pf.log" 2>&1 &
PF_PID=$!
fwd() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$fwd_port/")" = 200 ]; }
wait_for 10 fwd && pass "kubectl port-forward reaches nginx" || fail "port-forward: $(cat "$E2E_TMP/pf.log")"
kill "$PF_PID" 2>/dev/null
wait "$PF_PID" 2>/dev/null

# ---- breaking the readiness path flips READY to 0/1 (and out of the endpoints); mending it flips back
kc $V_NEW exec "$first" -- sh -c "mv /usr/share/nginx/html/index.html /usr/share/nginx/html/moved.html"
unready() { kc $V_NEW get pod "$first" --no-headers | grep -q ' 0/1 '; }
wait_for 30 unready && pass "a failing readiness probe shows READY 0/1" || fail "still ready: $(kc $V_NEW get pod "$first")"
expect_eq "and the endpoints drop it" \
  "$(kc $V_NEW get endpoints web-svc -o jsonpath='{.subsets[*].addresses[*].ip}' | wc -w)" 2
kc $V_NEW exec "$first" -- sh -c "mv /usr/share/nginx/html/moved.html /usr/share/nginx/html/index.html"
ready_again() { kc $V_NEW get pod "$first" --no-headers | grep -q ' 1/1 '; }
wait_for 20 ready_again && pass "mending it makes the pod Ready again" || fail "not ready again"
expect_match "Unhealthy events name the readiness probe" \
  "$(kc $V_OLD get events --field-selector involvedObject.name="$first" 2>&1)" "Readiness probe failed: HTTP probe failed with statuscode: 40[34]"

# ---- kill nginx in one container: the kubelet restarts it
victim=$(echo "$masters" | head -1)
kill -9 "$victim"
restarted() { kc $V_NEW get pods -l app=web --no-headers | awk '{print $4}' | grep -qx 1; }
wait_for 20 restarted && pass "killing nginx shows RESTARTS 1" || fail "no restart: $(kc $V_NEW get pods 2>&1)"
wait_for 20 three_ready && pass "and the pod is Ready again" || fail "not ready again"
victim_pod=$(kc $V_NEW get pods -l app=web --no-headers | awk '$4 == "1" {print $1}' | head -1)
expect_match "kubectl logs -p shows the previous run" "$(kc $V_OLD logs -p "$victim_pod" 2>&1)" "start worker process"

# ---- a pod whose command expands $(VAR) and reads its own name; a crashing pod
cat >"$E2E_TMP/pods.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: envpod
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "echo greeting=$(GREETING) pod=$POD_NAME"]
    env:
    - name: GREETING
      value: hello
    - name: POD_NAME
      valueFrom:
        fieldRef:
          fieldPath: metadata.name
---
apiVersion: v1
kind: Pod
metadata:
  name: hog
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo done"]
    resources:
      limits:
        memory: 32Mi
---
apiVersion: v1
kind: Pod
metadata:
  name: crasher
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "exit 3"]
YAML
kc $V_NEW apply -f "$E2E_TMP/pods.yaml" >/dev/null
succeeded() { kc $V_NEW get pod envpod -o jsonpath='{.status.phase}' | grep -qx Succeeded; }
wait_for 30 succeeded && pass "restartPolicy Never pod ends Succeeded" || fail "envpod: $(kc $V_NEW get pod envpod 2>&1)"
log=$(cat "$LOG_DIR"/default_envpod_*/main/0.log 2>/dev/null)
expect_match "its CRI log has the expanded env" "$log" "stdout F greeting=hello pod=envpod"
oom() { kc $V_NEW get pod hog -o jsonpath='{.status.containerStatuses[0].state.terminated.reason}' | grep -qx OOMKilled; }
wait_for 30 oom && pass "a process over its memory limit ends OOMKilled" || fail "hog: $(kc $V_NEW get pod hog -o jsonpath='{.status}' 2>&1)"
expect_eq "and the pod Failed" "$(kc $V_NEW get pod hog -o jsonpath='{.status.phase}')" "Failed"
backoff() { kc $V_NEW get pod crasher --no-headers | grep -q CrashLoopBackOff; }
wait_for 30 backoff && pass "a crashing container goes to CrashLoopBackOff" || fail "crasher: $(kc $V_NEW get pod crasher 2>&1)"
expect_match "with the exit code in lastState" \
  "$(kc $V_NEW get pod crasher -o jsonpath='{.status.containerStatuses[0].lastState.terminated.exitCode}')" "^3$"
expect_match "and a BackOff event" "$(kc $V_OLD get events --field-selector involvedObject.name=crasher 2>&1)" \
  "Back-off restarting failed container main"

# ---- deleting everything leaves nothing behind
kc $V_NEW delete deployment nginx-deployment >/dev/null
kc $V_OLD delete pod envpod crasher hog --wait=false >/dev/null
gone() { [ -z "$(kc $V_NEW get pods --no-headers 2>/dev/null)" ]; }
wait_for 60 gone && pass "pods are deleted for good" || fail "pods left: $(kc $V_NEW get pods 2>&1)"
nothing_left() {
  [ -z "$(ls -A "$RUN_DIR/containers" "$RUN_DIR/sandboxes" "$RUN_DIR/netns" 2>/dev/null | grep -v ':$' | grep .)" ]
}
wait_for 10 nothing_left && pass "no container, sandbox or netns left" || fail "left: $(ls -R "$RUN_DIR" | head)"
expect_eq "no veth on the bridge" "$(ip -o link show master "$BRIDGE" 2>/dev/null | wc -l)" 0
expect_eq "no pod cgroup" "$(find /sys/fs/cgroup/memory/"$CGROUP" -mindepth 2 -type d -name 'pod*' 2>/dev/null | wc -l)" 0
expect_eq "no nginx process" "$(pgrep -f 'nginx: ' | while read -r p; do grep -l "$CGROUP" /proc/$p/cgroup 2>/dev/null; done | wc -l)" 0
expect_eq "no overlay mounts" "$(grep -c " $E2E_TMP/run/containers/[^ ]*/rootfs" /proc/self/mountinfo)" 0
expect_eq "no pod log dirs" "$(ls -A "$LOG_DIR" | wc -l)" 0

e2e_finish
