#!/usr/bin/env bash
# bench/scheduler.sh — scheduling throughput through the API on simulated nodes (issue 3):
# PODS pods (the load generator's nginx pod: requests 50m CPU / 64Mi) created by 16 clients
# onto NODES simulated nodes; reports pods/s from the first create to the last binding
# (median of RUNS) and the server's RSS. Fresh server and temp dir; cleans up on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOADGEN=${LOADGEN:-$ROOT/build/k8c-loadgen}
NODES=${SCHED_NODES:-5000}
PODS=${SCHED_PODS:-10000}
RUNS=${SCHED_RUNS:-3}
source "$ROOT/bench/sim_server.sh"
sim_server_start sched "$NODES" --cluster-cidr 10.0.0.0/8
rates=()
for r in $(seq 1 "$RUNS"); do
  ns=sched-$r
  start=${EPOCHREALTIME/[.,]/}
  "$LOADGEN" create --server "https://127.0.0.1:$PORT" --tls-dir "$WORK/data/server/tls" \
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
rss=$(sim_server_rss_mib)
median=$(printf '%s\n' "${rates[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
cat <<TABLE
| metric | target | measured (median) | runs |
|---|---|---|---|
| $PODS pods onto $NODES simulated nodes, first create → last bound (plain pods, no affinity) | ≥ 2,000 pods/s | $median pods/s | $RUNS |
| server RSS after the runs | — | $rss MiB | 1 |
TABLE
