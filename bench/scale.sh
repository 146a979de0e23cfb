#!/usr/bin/env bash
# bench/scale.sh — control-plane scale figures on simulated nodes (issue 3's targets):
# server RSS with 1,000 simulated nodes, and the time for a 1,000-replica Deployment to be
# fully Ready on them (median of RUNS). Fresh server and temp dir; cleans up on exit.
#   bash bench/scale.sh            (prints a Markdown table; `make bench-scale` appends it)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
K8C=${K8C:-$ROOT/build/k8c}
KUBECTL=${KUBECTL:-/usr/lib/google-cloud-sdk/bin/kubectl.1.33}
NODES=${SCALE_NODES:-1000}
REPLICAS=${SCALE_REPLICAS:-1000}
RUNS=${SCALE_RUNS:-3}
WORK=$(mktemp -d /tmp/k8c-scale.XXXXXX)
PID=""
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$K8C" server --data-dir "$WORK/data" --https-listen-port "$port" --bind-address 127.0.0.1 \
  --write-kubeconfig "$WORK/kc.yaml" --simulate "$NODES" >"$WORK/server.log" 2>&1 &
PID=$!
kc() { HOME=$WORK KUBECONFIG=$WORK/kc.yaml "$KUBECTL" --request-timeout=30s "$@"; }
for _ in $(seq 1 600); do
  [ "$(kc get nodes --no-headers 2>/dev/null | grep -c ' Ready ')" -ge "$NODES" ] && break
  sleep 0.1
done
sleep 5
idle_rss=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$PID/status)
times=()
for r in $(seq 1 "$RUNS"); do
  start=${EPOCHREALTIME/[.,]/}
  kc create deployment "scale-$r" --image=nginx --replicas="$REPLICAS" >/dev/null
  for _ in $(seq 1 600); do
    [ "$(kc get deploy "scale-$r" -o jsonpath='{.status.readyReplicas}')" = "$REPLICAS" ] && break
    sleep 0.05
  done
  end=${EPOCHREALTIME/[.,]/}
  times+=("$(( (end - start) / 1000 ))")
  loaded_rss=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$PID/status)
  kc delete deployment "scale-$r" --wait=true >/dev/null
  echo "scale run $r: ${times[-1]} ms, RSS with the pods ${loaded_rss} MiB" >&2
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
cat <<TABLE
| metric | target | measured (median) | runs |
|---|---|---|---|
| server RSS, $NODES simulated nodes, idle | < 100 MB | $idle_rss MiB | 1 |
| Deployment of $REPLICAS replicas: create → all Ready (kubectl polling every 50 ms) | < 5 s | $median ms | $RUNS |
| server RSS with those $REPLICAS pods running | — | $loaded_rss MiB (last run) | 1 |

Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average before: $(cut -d' ' -f1-3 /proc/loadavg).
TABLE
