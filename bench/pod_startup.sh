#!/usr/bin/env bash
# bench/pod_startup.sh — real pod start-up (issue 4): `k8c server --disable-agent` plus a
# separate `k8c agent` joined with the server's token (so the agent's RSS is its own),
# a busybox image served by a local docker-registry as docker.io's mirror and pulled once
# beforehand (images cached, as upstream's SLO), then PODS pods (default 100) created at
# RATE/s (default 10) in a fresh namespace while a watch notes when each turns Ready.
# Reports create → Ready p50/p90/p99/max, the agent's RSS idle and with the pods running,
# conmon's RSS per pod, and image pulls/s from the local registry. Cleans up everything
# (pods, processes, mounts, bridge, cgroups, temp dir) even on failure.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
K8C=${K8C_BIN:-$ROOT/build/k8c}
PODS=${PODS:-100}
RATE=${RATE:-10}
source "$ROOT/tests/lib/image_fixture.sh"
WORK=$(mktemp -d /tmp/k8c-bench-pods.XXXXXX)
CG=k8cbench-$$
BR=k8cb$(($$ % 100000))
SERVER_PID= AGENT_PID=
export KUBECONFIG=$WORK/kubeconfig.yaml
kc() { HOME=$WORK /usr/lib/google-cloud-sdk/bin/kubectl.1.33 --request-timeout=30s "$@"; }

cleanup() {
  [ -n "${KEEP_AGENT_LOG:-}" ] && cp "$WORK/agent.log" "$KEEP_AGENT_LOG"
  set +e
  if [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
    kc delete ns bench --wait=false >/dev/null 2>&1
    kc delete pods --all -A --grace-period=0 --force >/dev/null 2>&1
    for _ in $(seq 1 300); do
      [ -z "$(ls -A "$WORK/run/containers" 2>/dev/null)" ] && [ -z "$(ls -A "$WORK/run/sandboxes" 2>/dev/null)" ] && break
      sleep 0.1
    done
    kill "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null
  fi
  [ -n "$SERVER_PID" ] && { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null; }
  fixture_stop_registry
  local cg pid
  for cg in /sys/fs/cgroup/*/"$CG"; do
    [ -d "$cg" ] || continue
    for pid in $(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  done
  for pid in $(pgrep -f "$WORK/run"); do kill -9 "$pid" 2>/dev/null; done
  sleep 0.2
  grep -o " $WORK[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  ip link del "$BR" 2>/dev/null
  for cg in /sys/fs/cgroup/*/"$CG"; do [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# "SELF CHILDREN": CPU clock ticks of the process and of its reaped children (crun, CNI
# plugins; not the conmons, which live on) — a cost per pod that does not move with load
cpu_ticks() { awk '{print $14 + $15, $16 + $17}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# "anon A MiB + file F MiB": private memory vs. mapped binary and libraries
rss_split() { awk '/^RssAnon/ {a=$2} /^RssFile/ {f=$2} END {printf "anon %d MiB + file %d MiB", a/1024, f/1024}' "/proc/$1/status"; }

{ fixture_build_busybox "$WORK/layout" base && fixture_start_registry "$WORK" &&
  fixture_push "$WORK/layout" base library/busybox:1.36 &&
  fixture_mirror_config "$WORK/registries.yaml"; } >"$WORK/fixture.log" 2>&1 ||
  { cat "$WORK/fixture.log" >&2; echo "FATAL: image fixture failed" >&2; exit 1; }

PORT=$(fixture_free_port)
"$K8C" server --data-dir "$WORK/data" --https-listen-port "$PORT" --bind-address 127.0.0.1 \
  --write-kubeconfig "$KUBECONFIG" --disable-agent --cluster-cidr 10.42.$((30 + $$ % 200)).0/24 \
  >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 500); do
  curl -sk --max-time 1 "https://127.0.0.1:$PORT/readyz" | grep -q ok && break
  sleep 0.02
done
"$K8C" agent --server "https://127.0.0.1:$PORT" --token "$(cat "$WORK/data/server/token")" \
  --data-dir "$WORK/agent" --node-name bench-node --run-dir "$WORK/run" --pod-log-dir "$WORK/logs" \
  --cgroup-parent "$CG" --bridge "$BR" --private-registry "$WORK/registries.yaml" ${AGENT_FLAGS:-} \
  >"$WORK/agent.log" 2>&1 &
AGENT_PID=$!
for _ in $(seq 1 300); do
  kc get node bench-node -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -qx True && break
  sleep 0.1
done
kc get node bench-node >/dev/null || { tail "$WORK/agent.log" >&2; echo "FATAL: agent did not join" >&2; exit 1; }
kc create ns bench >/dev/null

# pulls/s: repeated pulls of the (small) image by `k8c image pull` into a scratch store
pull_start=${EPOCHREALTIME/[.,]/}
PULLS=10
for i in $(seq 1 $PULLS); do
  "$K8C" image pull --data-dir "$WORK/pullstore-$i" --private-registry "$WORK/registries.yaml" \
    busybox:1.36 >/dev/null 2>&1 || PULLS=0
done
pull_end=${EPOCHREALTIME/[.,]/}

# warm-up: the image in the agent's store, the first sandbox made
kc -n bench run warm --image busybox:1.36 --image-pull-policy IfNotPresent --restart Never -- sleep 3600 >/dev/null
kc -n bench wait --for=condition=Ready pod/warm --timeout=60s >/dev/null
kc -n bench delete pod warm --grace-period=1 >/dev/null
# idle = no pods and the agent past its periodic heap trim (every 5 s, src/cmd/agent.c):
# measured sooner, the RSS still holds the warm-up pod's freed heap (5-14 MiB anon)
sleep 6
rss_idle=$(rss_kib "$AGENT_PID")
split_idle=$(rss_split "$AGENT_PID")

cpu_before=$(cpu_ticks "$AGENT_PID")
result=$(python3 "$ROOT/bench/pod_startup.py" "https://127.0.0.1:$PORT" "$WORK/data/server/tls" bench "$PODS" "$RATE" busybox:1.36)
cpu_after=$(cpu_ticks "$AGENT_PID")
sleep 3
rss_pods=$(rss_kib "$AGENT_PID")
split_pods=$(rss_split "$AGENT_PID")
conmon_kib=0
n_conmon=0
for p in $(pgrep -f "conmon.*$WORK/run"); do
  conmon_kib=$((conmon_kib + $(rss_kib "$p"))); n_conmon=$((n_conmon + 1))
done
echo "$result"
echo "agent RSS idle: $((rss_idle / 1024)) MiB ($split_idle); with $PODS pods: $((rss_pods / 1024)) MiB ($split_pods)"
read -r self0 kids0 <<<"$cpu_before"
read -r self1 kids1 <<<"$cpu_after"
tick=$(getconf CLK_TCK)
python3 -c "print('agent CPU per pod: %.1f ms in the agent + %.1f ms in the commands it ran and reaped (crun, CNI plugins)' % (($self1 - $self0) * 1000 / $tick / $PODS, ($kids1 - $kids0) * 1000 / $tick / $PODS))"
[ "$n_conmon" -gt 0 ] && echo "conmon: $n_conmon processes, $((conmon_kib / n_conmon)) KiB RSS each"
[ "$PULLS" -gt 0 ] && python3 -c "print('pulls/s from the local registry (busybox, 1 layer, cold store): %.1f' % ($PULLS / (($pull_end - $pull_start) / 1e6)))"
