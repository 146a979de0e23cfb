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
source "$K8C_SOURCE_DIR/tests/lib/agent_node.sh"
agent_node_init evict v

V=1.33

trap "agent_node_cleanup $V" EXIT

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

agent_node_server_start evict-node --eviction-hard 'memory.available<1Ei' \
  --image-gc-high-threshold 1 --image-gc-low-threshold 0

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
