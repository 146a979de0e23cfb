#!/usr/bin/env bash
# test_pod_bad_input.sh — bad pods on the real in-process node agent (issue 4), each ending
# as a clear status reason and an Event while the node stays Ready and a bystander pod is
# untouched: a command missing from the image, a configMap volume that does not exist
# (then created), a fork bomb under --pids-limit, a full disk (the agent's data dir is a
# small tmpfs, so unpacking a large image fails with ENOSPC), a full memory-backed
# emptyDir (sizeLimit), and a registry that accepts connections and never answers. Also
# `kubectl cp` to and from a real pod (exec + tar). Cleans up even on failure.
source "$(dirname "$0")/lib.sh"
source "$K8C_SOURCE_DIR/tests/lib/image_fixture.sh"
source "$K8C_SOURCE_DIR/tests/lib/agent_node.sh"
agent_node_init bad x

V=1.33
V_OLD=1.27
AGENT_DIR=$E2E_TMP/data/agent
PIDS_LIMIT=48
DISK_MIB=40  # the agent's data dir: room for busybox, not for the 64 MiB image
HANG_PID=

bad_cleanup() {
  set +e
  [ -n "$HANG_PID" ] && kill "$HANG_PID" 2>/dev/null
  agent_node_cleanup $V
}
trap bad_cleanup EXIT

# jp POD JSONPATH: a field of a pod ("" when absent)
jp() { kc $V get pod "$1" -o jsonpath="$2" 2>/dev/null; }
waiting_reason() { jp "$1" '{.status.containerStatuses[0].state.waiting.reason}'; }
events_of() { kc $V get events --field-selector involvedObject.name="$1" -o jsonpath='{range .items[*]}{.reason}: {.message}{"\n"}{end}' 2>/dev/null; }

# ---- images: busybox, and a 64 MiB one (zeros: a tiny blob that unpacks large)
LAYOUT=$E2E_TMP/layout
build_big() {
  local b
  b=$(mktemp -d "$E2E_TMP/bundle.XXXXXX") &&
    umoci tag --image "$LAYOUT:base" big &&
    umoci unpack --image "$LAYOUT:big" "$b/c" >/dev/null &&
    head -c 64M /dev/zero >"$b/c/rootfs/big" &&
    umoci repack --image "$LAYOUT:big" "$b/c" >/dev/null && rm -rf "$b"
}
if ! { fixture_build_busybox "$LAYOUT" base && build_big && fixture_start_registry "$E2E_TMP" &&
  fixture_push "$LAYOUT" base library/busybox:1.36 && fixture_push "$LAYOUT" big library/big:1 &&
  fixture_mirror_config "$E2E_TMP/registries.yaml"; } >"$E2E_TMP/fixture.log" 2>&1; then
  cat "$E2E_TMP/fixture.log" >&2
  echo "FATAL: building the images / starting the registry failed" >&2
  exit 1
fi

# a "registry" that accepts connections and never answers
HANG_PORT=$(free_port)
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
held = []
while True:
    c, _ = s.accept(); held.append(c)
' "$HANG_PORT" &
HANG_PID=$!

mkdir -p "$AGENT_DIR"
mount -t tmpfs -o size=${DISK_MIB}m k8c-e2e-disk "$AGENT_DIR" || { echo "FATAL: cannot mount a tmpfs" >&2; exit 1; }

agent_node_server_start bad-node --pids-limit $PIDS_LIMIT
node_ready() { kc $V get node bad-node -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True; }
wait_for 30 node_ready && pass "node bad-node Ready" || { fail "node not Ready"; e2e_finish; exit 1; }

# ---- a bystander that must not notice anything
kc $V run bystander --image busybox:1.36 -- sh -c 'trap "exit 0" TERM; sleep 3600 & wait' >/dev/null
kc $V wait --for=condition=Ready pod/bystander --timeout=60s >/dev/null 2>&1 &&
  pass "bystander Running" || fail "bystander: $(kc $V get pod bystander 2>&1)"
bystander_cid=$(jp bystander '{.status.containerStatuses[0].containerID}')

# ---- the bad pods, all at once
cat >"$E2E_TMP/bad.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: hang}
spec:
  containers: [{name: main, image: "127.0.0.1:$HANG_PORT/hang:1"}]
---
apiVersion: v1
kind: Pod
metadata: {name: nocmd}
spec:
  containers: [{name: main, image: busybox:1.36, command: ["nope"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: nocm}
spec:
  containers:
  - {name: main, image: busybox:1.36, command: ["sh", "-c", "cat /cfg/k; sleep 3600"], volumeMounts: [{name: cfg, mountPath: /cfg}]}
  volumes: [{name: cfg, configMap: {name: missing}}]
---
apiVersion: v1
kind: Pod
metadata: {name: bomb}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    image: busybox:1.36
    # PID 1 is a sleep that never reaps: the loop forks until the limit stops it, and
    # the sleeps it left (and their zombies) hold the pids while the pod runs
    command: ["sh", "-c", "(while :; do sleep 600 & done) 2>/dev/null & exec sleep 3600"]
    resources: {limits: {cpu: 100m}}
---
apiVersion: v1
kind: Pod
metadata: {name: fulldisk}
spec:
  containers: [{name: main, image: big:1, command: ["sleep", "3600"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: fullvol}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "dd if=/dev/zero of=/scratch/fill bs=1024 count=4096"]
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  volumes: [{name: scratch, emptyDir: {medium: Memory, sizeLimit: 1Mi}}]
YAML
kc $V apply -f "$E2E_TMP/bad.yaml" >/dev/null

# a command that does not exist in the image
nocmd_failed() { [ "$(waiting_reason nocmd)" = RunContainerError ] || [ "$(waiting_reason nocmd)" = CrashLoopBackOff ]; }
if wait_for 60 nocmd_failed; then pass "missing command: $(waiting_reason nocmd)"; else
  fail "missing command: $(jp nocmd '{.status.containerStatuses}')"; fi
expect_match "its message names the executable" \
  "$(jp nocmd '{.status.containerStatuses[0].state.waiting.message}{.status.containerStatuses[0].lastState.terminated.message}')" \
  'exec: "nope": executable file not found in \$PATH'
expect_match "and a Failed event says so" "$(events_of nocmd)" \
  'Failed: Error: .*exec: "nope": executable file not found in \$PATH'

# a configMap volume whose configMap does not exist: ContainerCreating and FailedMount
failed_mount() { events_of nocm | grep -q FailedMount; }
wait_for 60 failed_mount && pass "missing configMap: FailedMount event" || fail "nocm events: $(events_of nocm)"
expect_match "FailedMount carries upstream's message" "$(events_of nocm)" \
  'FailedMount: MountVolume.SetUp failed for volume "cfg" : configmap "missing" not found'
expect_eq "the pod stays Pending" "$(jp nocm '{.status.phase}')" "Pending"
expect_eq "its container is ContainerCreating" "$(waiting_reason nocm)" "ContainerCreating"
expect_match "kubectl shows ContainerCreating" "$(kc $V get pod nocm --no-headers)" ' ContainerCreating '
kc $V create configmap missing --from-literal=k=arrived >/dev/null
nocm_running() { [ "$(jp nocm '{.status.phase}')" = Running ]; }
wait_for 60 nocm_running && pass "creating the configMap lets the pod start" || fail "nocm: $(kc $V get pod nocm 2>&1)"
nocm_log() { kc $V logs nocm | grep -qx arrived; }
wait_for 10 nocm_log && pass "and it reads the value" || fail "nocm logs: $(kc $V logs nocm 2>&1)"

# a fork bomb: bounded by the pids limit; the node goes on starting pods
bomb_running() { [ "$(jp bomb '{.status.phase}')" = Running ]; }
wait_for 60 bomb_running && pass "fork bomb Running" || fail "bomb: $(kc $V get pod bomb 2>&1)"
sleep 3
bomb_uid=$(jp bomb '{.metadata.uid}')
max_pids=0
for f in $(find /sys/fs/cgroup/pids/"$CGROUP" /sys/fs/cgroup/"$CGROUP" -path "*pod$bomb_uid*" -name pids.current 2>/dev/null); do
  n=$(cat "$f")
  [ "$n" -gt "$max_pids" ] && max_pids=$n
done
if [ "$max_pids" -ge $((PIDS_LIMIT - 2)) ] && [ "$max_pids" -le $PIDS_LIMIT ]; then
  pass "the fork bomb is held at $max_pids processes (--pids-limit $PIDS_LIMIT)"
else
  fail "fork bomb processes: $max_pids (limit $PIDS_LIMIT)"
fi
kc $V run during-bomb --image busybox:1.36 --restart Never -- sh -c 'echo alive' >/dev/null
during_ok() { [ "$(jp during-bomb '{.status.phase}')" = Succeeded ]; }
wait_for 60 during_ok && pass "another pod runs to completion beside the bomb" || fail "during-bomb: $(kc $V get pod during-bomb 2>&1)"
bomb_t0=$SECONDS
kc $V delete pod bomb --timeout=60s >/dev/null 2>&1
bomb_gone() { [ -z "$(find /sys/fs/cgroup/pids/"$CGROUP" /sys/fs/cgroup/"$CGROUP" -path "*pod$bomb_uid*" -name cgroup.procs -exec cat {} + 2>/dev/null)" ]; }
wait_for 30 bomb_gone && pass "deleting the bomb kills all its processes ($((SECONDS - bomb_t0)) s)" ||
  fail "bomb processes left: $(find /sys/fs/cgroup/pids/"$CGROUP" -path "*pod$bomb_uid*" -name cgroup.procs -exec cat {} + | wc -l)"

# a full disk: unpacking the image fails with ENOSPC, the partial layer is cleaned away
full_failed() { events_of fulldisk | grep -q 'Error: ErrImagePull'; }
wait_for 90 full_failed && pass "full disk: ErrImagePull" || fail "fulldisk: $(kc $V get pod fulldisk 2>&1) $(events_of fulldisk)"
expect_match "the pull failure names the full disk" "$(events_of fulldisk)" 'Failed to pull image "big:1": .*[Nn]o space left on device'
full_backoff() { [ "$(waiting_reason fulldisk)" = ImagePullBackOff ]; }
wait_for 30 full_backoff && pass "then ImagePullBackOff" || fail "fulldisk: $(waiting_reason fulldisk)"
used_mib=$(df -m --output=used "$AGENT_DIR" | tail -1 | tr -d ' ')
[ "$used_mib" -lt $((DISK_MIB / 2)) ] && pass "the partial image is removed (data dir uses $used_mib MiB of $DISK_MIB)" ||
  fail "data dir still uses $used_mib MiB of $DISK_MIB after the failed pull: $(du -sm "$AGENT_DIR"/* 2>/dev/null | sort -rn | head -3)"
kc $V run after-full --image busybox:1.36 --restart Never -- sh -c 'echo alive >/tmp/x && cat /tmp/x' >/dev/null
after_full() { [ "$(jp after-full '{.status.phase}')" = Succeeded ]; }
wait_for 60 after_full && pass "a pod still runs after the full-disk pull" || fail "after-full: $(kc $V get pod after-full 2>&1)"

# a full memory-backed emptyDir: the tmpfs is sized to sizeLimit, the write fails
fullvol_done() { [ "$(jp fullvol '{.status.phase}')" = Failed ]; }
wait_for 60 fullvol_done && pass "full emptyDir: the writer fails, pod Failed" || fail "fullvol: $(kc $V get pod fullvol 2>&1)"
expect_eq "terminated with reason Error" "$(jp fullvol '{.status.containerStatuses[0].state.terminated.reason}')" "Error"
expect_match "the log says why" "$(kc $V logs fullvol 2>&1)" "No space left on device"

# a registry that never answers: ErrImagePull with a timeout after bounded time, then back-off
hang_failed() { events_of hang | grep -q 'Error: ErrImagePull'; }
# event_time POD REASON MESSAGE-PREFIX: the first such event's time, in epoch seconds
event_time() {
  date -d "$(kc $V get events --field-selector involvedObject.name="$1",reason="$2" \
    -o jsonpath='{range .items[*]}{.firstTimestamp}{" "}{.message}{"\n"}{end}' |
    grep " $3" | head -1 | cut -d' ' -f1)" +%s 2>/dev/null
}
if wait_for 120 hang_failed; then
  pulling=$(event_time hang Pulling Pulling)
  failed=$(event_time hang Failed 'Failed to pull')
  took=$((${failed:-0} - ${pulling:-0}))
  if [ "$took" -ge 5 ] && [ "$took" -le 90 ]; then pass "hanging registry: ErrImagePull $took s after Pulling"
  else fail "hanging registry: Pulling at ${pulling:-?}, Failed at ${failed:-?}"; fi
else
  fail "hang: $(kc $V get pod hang 2>&1) $(events_of hang)"
fi
expect_match "the reason is a timeout" "$(events_of hang)" "Failed to pull image \"127.0.0.1:$HANG_PORT/hang:1\": .*(within [0-9]+ s|[Tt]imeout)"
hang_backoff() { [ "$(waiting_reason hang)" = ImagePullBackOff ]; }
wait_for 30 hang_backoff && pass "then ImagePullBackOff" || fail "hang: $(waiting_reason hang)"
expect_match "kubectl $V_OLD shows the back-off" "$(kc $V_OLD get pod hang --no-headers)" "ErrImagePull|ImagePullBackOff"

# ---- kubectl cp to and from a real pod (exec + tar in the container)
head -c 300000 /dev/urandom >"$E2E_TMP/blob"
mkdir -p "$E2E_TMP/tree/sub" && echo one >"$E2E_TMP/tree/a" && echo two >"$E2E_TMP/tree/sub/b"
kc $V cp "$E2E_TMP/blob" default/bystander:/tmp/blob >/dev/null 2>"$E2E_TMP/cp.err"
expect_eq "kubectl cp to the pod" "$(kc $V exec bystander -- sh -c 'wc -c </tmp/blob' 2>&1 | tr -d ' ')" 300000
kc $V cp default/bystander:/tmp/blob "$E2E_TMP/blob.back" >/dev/null 2>>"$E2E_TMP/cp.err"
expect_eq "kubectl cp from the pod" "$(cmp "$E2E_TMP/blob" "$E2E_TMP/blob.back" 2>&1 && echo same)" "same"
kc $V_OLD cp "$E2E_TMP/tree" default/bystander:/tmp/tree >/dev/null 2>>"$E2E_TMP/cp.err"
expect_eq "kubectl $V_OLD cp of a directory" "$(kc $V exec bystander -- cat /tmp/tree/sub/b 2>&1)" "two"
kc $V_OLD cp default/bystander:/tmp/tree "$E2E_TMP/tree.back" >/dev/null 2>>"$E2E_TMP/cp.err"
expect_eq "and back" "$(cat "$E2E_TMP/tree.back/a" "$E2E_TMP/tree.back/sub/b" 2>&1 | tr '\n' ' ')" "one two "
[ -s "$E2E_TMP/cp.err" ] && echo "     cp stderr: $(head -3 "$E2E_TMP/cp.err")"

# ---- the node and the bystander came through
expect_eq "node still Ready" "$(kc $V get node bad-node -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" "True"
expect_eq "bystander still Running" "$(jp bystander '{.status.phase}')" "Running"
expect_eq "bystander never restarted" "$(jp bystander '{.status.containerStatuses[0].restartCount}')" "0"
expect_eq "bystander is the same container" "$(jp bystander '{.status.containerStatuses[0].containerID}')" "$bystander_cid"
e2e_finish
