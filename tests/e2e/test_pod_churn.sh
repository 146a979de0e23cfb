#!/usr/bin/env bash
# test_pod_churn.sh — nothing leaks (issue 4): 200 pods created and deleted on the real
# in-process node agent, in batches of varied pods (plain; Burstable with emptyDir,
# configMap and secret volumes and an init container; a container that fails once and is
# restarted; a hostPort; some deleted while still starting, some force-deleted), then
# every trace a pod leaves is compared with a baseline taken before the first pod: mounts
# under the agent's run/data/log dirs, bound namespaces, cgroups under the cgroup parent
# (every v1 controller and the unified hierarchy), veths on the bridge, conmon/crun/
# container processes, host-local IP leases, portmap NAT rules, the agent's files and open
# file descriptors. Cleans up even on failure.
source "$(dirname "$0")/lib.sh"
source "$K8C_SOURCE_DIR/tests/lib/image_fixture.sh"
source "$K8C_SOURCE_DIR/tests/lib/agent_node.sh"
agent_node_init churn c

V=1.33
CYCLES=${CHURN_CYCLES:-200}
BATCH=${CHURN_BATCH:-50}
AGENT_DIR=$E2E_TMP/data/agent
HOSTPORT_BASE=$((30000 + SUFFIX % 20000))

trap "agent_node_cleanup $V" EXIT

# ---- what a pod can leave behind, one line per trace (sorted, so snapshots diff)
snapshot() {
  # mounts of the agent (its mount namespace is the server's) under its dirs
  awk -v a="$E2E_TMP/" 'index($5, a) == 1 {print "mount " $5}' "/proc/$SERVER_PID/mountinfo"
  awk -v a="$E2E_TMP/" 'index($5, a) == 1 {print "host-mount " $5}' /proc/self/mountinfo
  # bound namespaces, sandbox/container records, OCI runtime state, pod dirs, log dirs
  local d
  for d in "$RUN_DIR/netns" "$RUN_DIR/sandboxes" "$RUN_DIR/containers" "$RUN_DIR"/oci/* \
    "$AGENT_DIR/pods" "$AGENT_DIR/containers" "$LOG_DIR"; do
    [ -d "$d" ] && find "$d" -mindepth 1 -maxdepth 1 -printf "file %p\n"
  done
  # cgroups in every v1 controller and the unified hierarchy; the QoS-level cgroups
  # (kubepods, burstable, besteffort) are the node's, as upstream's kubelet keeps them
  local cg
  for cg in /sys/fs/cgroup/*/"$CGROUP" /sys/fs/cgroup/"$CGROUP"; do
    [ -d "$cg" ] && find "$cg" -mindepth 1 -type d -printf "cgroup $cg/%P\n" |
      grep -Ev "/kubepods(/burstable|/besteffort)?$"
  done
  # veths on the pod bridge
  ip -o link show master "$BRIDGE" 2>/dev/null | awk '{print "veth " $2}'
  # processes: conmon/crun of this agent, anything in its cgroups
  local pid
  for pid in $(pgrep -f "$RUN_DIR"); do echo "process $pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"; done
  for cg in /sys/fs/cgroup/pids/"$CGROUP" /sys/fs/cgroup/unified/"$CGROUP" /sys/fs/cgroup/"$CGROUP"; do
    [ -d "$cg" ] && find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | sed 's/^/cgroup-process /'
  done
  # host-local leases (one file per IP; last_reserved_ip.* and lock are the allocator's)
  [ -d "$AGENT_DIR/cni/ipam" ] && find "$AGENT_DIR/cni/ipam" -type f ! -name 'last_reserved_ip*' \
    ! -name lock -printf "lease %P\n"
  # portmap's NAT rules name the sandbox; sandboxes are named by pod UID
  iptables-save -t nat 2>/dev/null | grep -F -f "$E2E_TMP/uids" 2>/dev/null | sed 's/^/nat /'
  true
}

# ---- images and the server with its in-process agent
agent_node_serve_busybox
agent_node_server_start churn-node
node_ready() { kc $V get node churn-node -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True; }
wait_for 30 node_ready && pass "node churn-node Ready" || { fail "node not Ready"; e2e_finish; exit 1; }
kc $V create configmap churn-cm --from-literal=k=v >/dev/null
kc $V create secret generic churn-secret --from-literal=s=t >/dev/null
: >"$E2E_TMP/uids"

snapshot | sort >"$E2E_TMP/before"
fds_before=$(ls "/proc/$SERVER_PID/fd" | wc -l)
threads_before=$(ls "/proc/$SERVER_PID/task" | wc -l)
rss_before=$(awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status")

# pod_yaml BATCH INDEX: one of four kinds of pod, by index (out of every ten: six plain,
# two with volumes and an init container, one restarted once, one with a hostPort)
pod_yaml() {
  local b=$1 i=$2
  local name=churn-$b-$i
  # sh as PID 1 ends on SIGTERM only with a trap; the sleep runs in the background
  local main='trap "exit 0" TERM; sleep 3600 & wait'
  local kind=0
  case $((i % 10)) in
  1 | 6) kind=1 ;;
  3) kind=2 ;;
  8) kind=3 ;;
  esac
  case $kind in
  0) cat <<Y
---
apiVersion: v1
kind: Pod
metadata: {name: $name, labels: {batch: "b$b"}}
spec:
  containers:
  - {name: main, image: busybox:1.36, command: ["sh", "-c", '$main']}
Y
    ;;
  1) cat <<Y
---
apiVersion: v1
kind: Pod
metadata: {name: $name, labels: {batch: "b$b"}}
spec:
  initContainers:
  - {name: init, image: busybox:1.36, command: ["sh", "-c", "echo init >/work/init"], volumeMounts: [{name: work, mountPath: /work}]}
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", '$main']
    resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 64Mi}}
    volumeMounts:
    - {name: work, mountPath: /work}
    - {name: mem, mountPath: /mem}
    - {name: cm, mountPath: /cm}
    - {name: sec, mountPath: /sec}
  volumes:
  - {name: work, emptyDir: {}}
  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 1Mi}}
  - {name: cm, configMap: {name: churn-cm}}
  - {name: sec, secret: {secretName: churn-secret}}
Y
    ;;
  2) cat <<Y
---
apiVersion: v1
kind: Pod
metadata: {name: $name, labels: {batch: "b$b"}}
spec:
  restartPolicy: OnFailure
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", 'test -f /state/ran || { touch /state/ran; exit 1; }; $main']
    volumeMounts: [{name: state, mountPath: /state}]
  volumes: [{name: state, emptyDir: {}}]
Y
    ;;
  3) cat <<Y
---
apiVersion: v1
kind: Pod
metadata: {name: $name, labels: {batch: "b$b"}}
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", '$main']
    ports: [{containerPort: 8080, hostPort: $((HOSTPORT_BASE + b * BATCH + i))}]
Y
    ;;
  esac
}

batch_yaml() {
  local b=$1 i
  for i in $(seq 0 $((BATCH - 1))); do pod_yaml "$b" "$i"; done
}

n_batches=$(((CYCLES + BATCH - 1) / BATCH))
started=$SECONDS
created=0
churn_ok=1
for b in $(seq 1 "$n_batches"); do
  t0=$SECONDS
  if ! batch_yaml "$b" | kc $V apply -f - >"$E2E_TMP/apply.log" 2>&1; then
    churn_ok=0
    fail "batch $b: apply: $(tail -3 "$E2E_TMP/apply.log")"
    break
  fi
  created=$((created + BATCH))
  kc $V get pods -l batch=b$b -o jsonpath='{range .items[*]}{.metadata.uid}{"\n"}{end}' >>"$E2E_TMP/uids"
  case $((b % 4)) in
  0)
    # deleted while still being set up: no wait for Ready
    sleep 1
    kc $V delete pods -l batch=b$b --wait=false >/dev/null
    ;;
  1)
    # force-deleted once Running: the API object is gone before the containers are
    if ! kc $V wait --for=condition=Ready pod -l batch=b$b --timeout=90s >/dev/null 2>&1; then
      churn_ok=0
      fail "batch $b not Ready: $(kc $V get pods -l batch=b$b --no-headers | grep -v Running | head -3)"
    fi
    # the snapshot sees every kind of trace while pods run (so its silence later means something)
    if [ "$b" = 1 ]; then
      snapshot >"$E2E_TMP/during"
      missing=
      for kind in mount host-mount file cgroup veth process cgroup-process lease nat; do
        [ "$kind" = nat ] && [ "$BATCH" -lt 9 ] && continue
        grep -q "^$kind " "$E2E_TMP/during" || missing="$missing $kind"
      done
      [ -z "$missing" ] && pass "with pods running, the snapshot sees each kind of trace ($(wc -l <"$E2E_TMP/during") lines)" ||
        fail "the snapshot misses running pods' traces:$missing"
    fi
    kc $V delete pods -l batch=b$b --grace-period=0 --force >/dev/null 2>&1
    ;;
  *)
    if ! kc $V wait --for=condition=Ready pod -l batch=b$b --timeout=90s >/dev/null 2>&1; then
      churn_ok=0
      fail "batch $b not Ready: $(kc $V get pods -l batch=b$b --no-headers | grep -v Running | head -3)"
    fi
    kc $V delete pods -l batch=b$b --wait=false >/dev/null
    ;;
  esac
  echo "     batch $b: $((SECONDS - t0)) s"
done
no_pods() { [ -z "$(kc $V get pods --no-headers 2>/dev/null)" ]; }
wait_for 90 no_pods || fail "pods left: $(kc $V get pods --no-headers 2>&1 | head -5)"
[ "$churn_ok" = 1 ] && pass "$created pods created and deleted in $n_batches batches ($((SECONDS - started)) s)"

# ---- the node is back where it started
same_as_before() { snapshot | sort >"$E2E_TMP/after" && diff -q "$E2E_TMP/before" "$E2E_TMP/after" >/dev/null; }
if wait_for 30 same_as_before; then
  pass "no mount, netns, cgroup, veth, process, IP lease, NAT rule or record left behind"
else
  fail "left behind after $created cycles ($(diff "$E2E_TMP/before" "$E2E_TMP/after" | grep -c '^>') traces):"
  diff "$E2E_TMP/before" "$E2E_TMP/after" | grep '^[<>]' | awk '{print $1, $2, $3}' |
    sed -E 's/[0-9a-f]{8}-[0-9a-f-]{27}/UID/g; s/[0-9]{3,}/N/g' | sort | uniq -c | sort -rn | head -20
fi
fds_after=$(ls "/proc/$SERVER_PID/fd" | wc -l)
threads_after=$(ls "/proc/$SERVER_PID/task" | wc -l)
rss_after=$(awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status")
echo "     server+agent: fds $fds_before -> $fds_after, threads $threads_before -> $threads_after, RSS $((rss_before / 1024)) -> $((rss_after / 1024)) MiB"
# a leak per pod would be hundreds; a few connections and pooled threads come and go
[ "$fds_after" -le $((fds_before + 20)) ] && pass "no file descriptor leak ($fds_before -> $fds_after)" ||
  fail "file descriptors grew from $fds_before to $fds_after: $(ls -l "/proc/$SERVER_PID/fd" | awk '{print $NF}' | sed -E 's/[0-9]+/N/g' | sort | uniq -c | sort -rn | head -5)"
[ "$threads_after" -le $((threads_before + 20)) ] && pass "no thread leak ($threads_before -> $threads_after)" ||
  fail "threads grew from $threads_before to $threads_after"

# the node still works: one more pod runs
kc $V run after --image busybox:1.36 --restart Never -- sh -c 'echo alive' >/dev/null
done_ok() { kc $V get pod after -o jsonpath='{.status.phase}' | grep -qx Succeeded; }
wait_for 60 done_ok && pass "a pod still runs to completion afterwards" || fail "after: $(kc $V get pod after 2>&1)"
expect_eq "node still Ready" "$(kc $V get node churn-node -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" "True"
e2e_finish
