#!/usr/bin/env bash
# test_eviction_gc.sh — the node agent's housekeeping with real containers: eviction
# under memory pressure (--eviction-hard set above the machine's available memory, so
# the pressure is real as far as the agent can tell) evicts the BestEffort pod first and
# the Burstable one an interval later, each Failed/Evicted with upstream's message and an
# Event, containers gone, while a system-node-critical pod stays; image GC (thresholds
# 1%/0%, so it runs on this machine) removes the image only a finished pod used and
# keeps the one a running pod uses. Cleans up on failure.
source "$(dirname "$0")/lib.sh"
source "$K8C_SOURCE_DIR/tests/lib/image_fixture.sh"

if [ "$(id -u)" != 0 ]; then
  echo "FATAL: test_eviction_gc.sh needs root (containers, network namespaces, cgroups)" >&2
  exit 1
fi

SUFFIX=$$
BRIDGE=k8cv$((SUFFIX % 100000))
CGROUP=k8cevict-$SUFFIX
RUN_DIR=$E2E_TMP/run
LOG_DIR=$E2E_TMP/pods-logs
CLUSTER_CIDR=10.42.$((20 + (SUFFIX + 7) % 200)).0/24
V=1.33

evict_cleanup() {
  set +e
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kc $V delete pods --all --grace-period=0 --force >/dev/null 2>&1
    for _ in $(seq 1 100); do
      [ -z "$(ls -A "$RUN_DIR/containers" 2>/dev/null)" ] && break
      sleep 0.1
    done
    server_stop
  fi
  fixture_stop_registry
  local cg pid
  for cg in /sys/fs/cgroup/*/"$CGROUP" /sys/fs/cgroup/"$CGROUP"; do
    [ -d "$cg" ] || continue
    for pid in $(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  done
  for pid in $(pgrep -f "$E2E_TMP"); do kill -9 "$pid" 2>/dev/null; done
  sleep 0.2
  grep -o " $E2E_TMP[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  ip link del "$BRIDGE" 2>/dev/null
  for cg in /sys/fs/cgroup/*/"$CGROUP" /sys/fs/cgroup/"$CGROUP"; do
    [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  e2e_cleanup
}
trap evict_cleanup EXIT

wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  while [ $SECONDS -lt $deadline ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.3
  done
  return 1
}

LAYOUT=$E2E_TMP/layout
if ! { fixture_build_busybox "$LAYOUT" base && fixture_add_whiteout_layer "$LAYOUT" base spare &&
  fixture_start_registry "$E2E_TMP" &&
  fixture_push "$LAYOUT" base library/busybox:1.36 &&
  fixture_push "$LAYOUT" spare library/busybox:spare &&
  fixture_mirror_config "$E2E_TMP/registries.yaml"; } >"$E2E_TMP/fixture.log" 2>&1; then
  cat "$E2E_TMP/fixture.log" >&2
  echo "FATAL: building the images / starting the registry failed" >&2
  exit 1
fi

DATA_DIR=$E2E_TMP/data
PORT=$(free_port)
KUBECONFIG_FILE=$E2E_TMP/kubeconfig.yaml
"$K8C_BIN" server --data-dir "$DATA_DIR" --https-listen-port "$PORT" --bind-address 127.0.0.1 \
  --write-kubeconfig "$KUBECONFIG_FILE" --node-name evict-node --cluster-cidr "$CLUSTER_CIDR" \
  --run-dir "$RUN_DIR" --pod-log-dir "$LOG_DIR" --cgroup-parent "$CGROUP" --bridge "$BRIDGE" \
  --private-registry "$E2E_TMP/registries.yaml" --kubelet-port 0 --disable-ingress \
  --eviction-hard 'memory.available<1Ei' --image-gc-high-threshold 1 --image-gc-low-threshold 0 \
  >>"$E2E_TMP/server.log" 2>&1 &
SERVER_PID=$!
wait_for 15 curl -sfk --max-time 1 "https://127.0.0.1:$PORT/readyz" || { echo "FATAL: server not ready" >&2; tail -20 "$E2E_TMP/server.log" >&2; exit 1; }

kc $V apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: critical}
spec:
  priorityClassName: system-node-critical
  terminationGracePeriodSeconds: 0
  containers: [{name: c, image: busybox:1.36, command: [sleep, '3600']}]
---
apiVersion: v1
kind: Pod
metadata: {name: besteffort}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: c, image: busybox:1.36, command: [sleep, '3600']}]
---
apiVersion: v1
kind: Pod
metadata: {name: burstable}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox:1.36
    command: [sleep, '3600']
    resources: {requests: {memory: 64Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: spare}
spec:
  restartPolicy: Never
  containers: [{name: c, image: busybox:spare, command: ['true']}]
YAML

phase() { kc $V get pod "$1" -o jsonpath='{.status.phase}' 2>/dev/null; }
is_phase() { [ "$(phase "$1")" = "$2" ]; }
if wait_for 40 is_phase besteffort Failed; then
  pass "the BestEffort pod is evicted"
  expect_eq "the Burstable pod is not evicted in the same interval" "$(phase burstable)" "Running"
else
  fail "besteffort not evicted: $(kc $V get pods 2>&1)"
fi
expect_eq "evicted pod's reason" "$(kc $V get pod besteffort -o jsonpath='{.status.reason}')" "Evicted"
expect_match "evicted pod's message is upstream's" "$(kc $V get pod besteffort -o jsonpath='{.status.message}')" \
  '^The node was low on resource: memory\. Threshold quantity: 1Ei, available: [0-9]+(Ki|Mi|Gi)?\. Container c was using [0-9]+(Ki|Mi)?, request is 0, has larger consumption of memory\. $'
expect_eq "DisruptionTarget condition" \
  "$(kc $V get pod besteffort -o jsonpath='{.status.conditions[?(@.type=="DisruptionTarget")].reason}')" "TerminationByKubelet"
uid=$(kc $V get pod besteffort -o jsonpath='{.metadata.uid}')
gone() { ! ls "$RUN_DIR/containers" 2>/dev/null | grep -q "^$uid"; }
wait_for 10 gone && pass "the evicted pod's containers are gone" || fail "containers left: $(ls "$RUN_DIR/containers")"
events() { kc $V get events --field-selector involvedObject.name=besteffort,reason=Evicted -o jsonpath='{.items[*].type}'; }
has_event() { [ "$(events)" = Warning ]; }
wait_for 10 has_event && pass "an Evicted Warning event" || fail "no Evicted event: $(kc $V get events 2>&1 | tail -5)"
if wait_for 25 is_phase burstable Failed; then
  pass "the Burstable pod is evicted next"
  expect_eq "its reason" "$(kc $V get pod burstable -o jsonpath='{.status.reason}')" "Evicted"
else
  fail "burstable not evicted: $(kc $V get pods 2>&1)"
fi
# (it may not run: crun cannot lower oom_score_adj to -997 here; it still must not be evicted)
expect_eq "the system-node-critical pod is never evicted" \
  "$(kc $V get pod critical -o jsonpath='{.status.reason}')" ""
expect_no_match "the critical pod is not Failed" "$(phase critical)" "Failed"
pressure() { [ "$(kc $V get node evict-node -o jsonpath='{.status.conditions[?(@.type=="MemoryPressure")].status}')" = True ]; }
wait_for 15 pressure && pass "node reports MemoryPressure" || fail "no MemoryPressure condition"

# ---- image GC: the finished pod's image goes, the running pod's stays
expect_eq "the spare pod finished" "$(phase spare)" "Succeeded"
spare_gone() { ! "$K8C_BIN" image ls --data-dir "$DATA_DIR" | grep -q spare; }
if wait_for 25 spare_gone; then pass "image GC removes the unused image"; else
  fail "unused image still there: $("$K8C_BIN" image ls --data-dir "$DATA_DIR" 2>&1)"
fi
expect_match "image GC keeps the image a running pod uses" "$("$K8C_BIN" image ls --data-dir "$DATA_DIR" 2>&1)" 'busybox +1\.36'
expect_match "the agent logged the GC" "$(cat "$E2E_TMP/server.log")" 'image gc removed 1 image'
e2e_finish
