#!/usr/bin/env bash
# cgroup2_payload.sh — runs INSIDE the cgroup2-only test VM (tests/vm/run_vm.sh): a real
# `k8c server` with its in-process agent, busybox from a local registry mirror, and the
# real kubectl; checks that pod resources land in the v2 files (memory.max, cpu.max,
# cpu.weight, pids.max), that an over-limit pod ends OOMKilled, and that exec/logs work.
# K8C_SOURCE_DIR names the tree (its build/k8c is used); exits non-zero on any failure.
set -u
K8C_SOURCE_DIR=${K8C_SOURCE_DIR:-/work/main}
export K8C_SOURCE_DIR
KUBECTL_VERSIONS=1.33
source "$K8C_SOURCE_DIR/tests/e2e/lib.sh"
source "$K8C_SOURCE_DIR/tests/lib/image_fixture.sh"
source "$K8C_SOURCE_DIR/tests/lib/agent_node.sh"
agent_node_init vm v
V=1.33
PIDS_LIMIT=321

save_logs() {
  [ -n "${K8C_VM_WORK:-}" ] && cp "$E2E_TMP"/server.log "$E2E_TMP"/fixture.log "$K8C_VM_WORK/" 2>/dev/null
  return 0
}
trap 'save_logs; agent_node_cleanup $V' EXIT

start=$SECONDS
expect_eq "/sys/fs/cgroup is cgroup2 (and the only hierarchy)" \
  "$(stat -f -c %T /sys/fs/cgroup) $(grep -c ' cgroup ' /proc/mounts)" "cgroup2fs 0"

# the image: built on the host beforehand (K8C_VM_WORK/layout, much faster than under TCG)
# or here
if [ -n "${K8C_VM_WORK:-}" ] && [ -d "$K8C_VM_WORK/layout" ]; then
  LAYOUT=$E2E_TMP/layout
  cp -r "$K8C_VM_WORK/layout" "$LAYOUT"
  if ! { fixture_start_registry "$E2E_TMP" && fixture_push "$LAYOUT" base library/busybox:1.36 &&
    fixture_mirror_config "$E2E_TMP/registries.yaml"; } >"$E2E_TMP/fixture.log" 2>&1; then
    cat "$E2E_TMP/fixture.log" >&2
    echo "FATAL: starting the registry failed" >&2
    exit 1
  fi
else
  agent_node_serve_busybox
fi
echo "images ready after $((SECONDS - start)) s"
agent_node_server_start vm-node --pids-limit "$PIDS_LIMIT"
node_ready() { kc $V get node vm-node -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True; }
wait_for 60 node_ready && pass "node turns Ready" || fail "node not Ready"
echo "node ready after $((SECONDS - start)) s"

cat >"$E2E_TMP/pods.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: limited
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "echo started; exec sleep 3600"]
    resources:
      requests: {cpu: 250m, memory: 64Mi}
      limits: {cpu: 500m, memory: 128Mi}
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
      limits: {memory: 32Mi}
YAML
kc $V apply -f "$E2E_TMP/pods.yaml" >/dev/null
ready() { kc $V get pod limited -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True; }
if wait_for 90 ready; then pass "pod with requests/limits Running and Ready"; else
  fail "limited not Ready: $(kc $V get pod limited -o yaml 2>&1 | tail -30)"
fi
echo "pod ready after $((SECONDS - start)) s"

# the container's cgroup, from its main process
pid=""
for p in $(pgrep -x sleep); do
  grep -q "$CGROUP" "/proc/$p/cgroup" 2>/dev/null && pid=$p
done
cgpath=$(sed -n 's/^0:://p' "/proc/$pid/cgroup" 2>/dev/null)
cg=/sys/fs/cgroup$cgpath
expect_match "container cgroup is under the node's parent (v2 path)" "$cgpath" "^/$CGROUP/kubepods/burstable/pod[0-9a-f-]+/"
expect_eq "memory.max = 128Mi" "$(cat "$cg/memory.max" 2>&1)" 134217728
expect_eq "memory.swap.max = 0 (no swap beyond the limit)" "$(cat "$cg/memory.swap.max" 2>&1)" 0
expect_eq "cpu.max = 500m" "$(cat "$cg/cpu.max" 2>&1)" "50000 100000"
# shares 256 (250m) → weight 1 + (256-2)*9999/262142 = 10 (runc/crun's conversion, as upstream)
expect_eq "cpu.weight from 250m" "$(cat "$cg/cpu.weight" 2>&1)" 10
expect_eq "pids.max = --pids-limit" "$(cat "$cg/pids.max" 2>&1)" "$PIDS_LIMIT"
expect_eq "kubectl logs" "$(kc $V logs limited 2>&1)" started
expect_eq "kubectl exec" "$(kc $V exec limited -- cat /proc/self/cgroup 2>&1)" "0::/"

oom() { kc $V get pod hog -o jsonpath='{.status.containerStatuses[0].state.terminated.reason}' | grep -qx OOMKilled; }
wait_for 60 oom && pass "a process over its memory limit ends OOMKilled" ||
  fail "hog: $(kc $V get pod hog -o jsonpath='{.status}' 2>&1)"

kc $V delete pod limited hog --grace-period=1 >/dev/null 2>&1
gone() { [ -z "$(find /sys/fs/cgroup/"$CGROUP" -mindepth 1 -type d -name 'pod*' 2>/dev/null)" ]; }
wait_for 30 gone && pass "pod cgroups removed after delete" || fail "left: $(find /sys/fs/cgroup/"$CGROUP" -type d)"
echo "all done after $((SECONDS - start)) s"
e2e_finish
