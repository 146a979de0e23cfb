#!/usr/bin/env bash
# bench/scheduler.sh — scheduling throughput through the API on simulated nodes (issue 3):
# PODS pods (the load generator's nginx pod: requests 50m CPU / 64Mi) created by 16 clients
# onto NODES simulated nodes; reports pods/s from the first create to the last binding
# (median of RUNS) and the server's RSS. Fresh server and temp dir; cleans up on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
K8C=${K8C:-$ROOT/build/k8c}
LOADGEN=${LOADGEN:-$ROOT/build/k8c-loadgen}
KUBECTL=${KUBECTL:-/usr/lib/google-cloud-sdk/bin/kubectl.1.33}
NODES=${SCHED_NODES:-5000}
PODS=${SCHED_PODS:-10000}
RUNS=${SCHED_RUNS:-3}
WORK=$(mktemp -d /tmp/k8c-sched.XXXXXX)
PID=""
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$K8C" server --data-dir "$WORK/data" --https-listen-port "$port" --bind-address 127.0.0.1 \
  --write-kubeconfig "$WORK/kc.yaml" --simulate "$NODES" --cluster-cidr 10.0.0.0/8 \
  >"$WORK/server.log" 2>&1 &
PID=$!
kc() { HOME=$WORK KUBECONFIG=$WORK/kc.yaml "$KUBECTL" --request-timeout=60s "$@"; }
for _ in $(seq 1 1200); do
  [ "$(kc get nodes --no-headers 2>/dev/null | grep -c ' Ready ')" -ge "$NODES" ] && break
  sleep 0.5
done
rates=()
for r in $(seq 1 "$RUNS"); do
  ns=sched-$r
  start=${EPOCHREALTIME/[.,]/}
  "$LOADGEN" create --server "https://127.0.0.1:$port" --tls-dir "$WORK/data/server/tls" \
    --namespace "$ns" --name-prefix p --count "$PODS" --runs 1 --concurrency 16 >/dev/null 2>&1
  for _ in $(seq 1 1200); do
    left=$(kc get pods -n "$ns" --field-selector spec.nodeName= -o name 2>/dev/null | wc -l)
    [ "$left" -eq 0 ] && break
    sleep 0.05
  done
  end=${EPOCHREALTIME/[.,]/}
  rate=$(python3 -c "print(round($PODS / (($end - $start) / 1e6)))")
  rates+=("$rate")
  echo "sched run $r: $PODS pods bound in $(( (end - start) / 1000 )) ms = $rate pods/s" >&2
  kc delete ns "$ns" --wait=false >/dev/null
done
rss=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$PID/status)
median=$(printf '%s\n' "${rates[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
cat <<TABLE
| metric | target | measured (median) | runs |
|---|---|---|---|
| $PODS pods onto $NODES simulated nodes, first create → last bound (plain pods, no affinity) | ≥ 2,000 pods/s | $median pods/s | $RUNS |
| server RSS after the runs | — | $rss MiB | 1 |
TABLE
