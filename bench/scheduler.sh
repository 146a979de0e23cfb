#!/usr/bin/env bash
# bench/scheduler.sh — scheduling throughput through the API on simulated nodes (issue 3):
# PODS pods (requests 50m CPU / 64Mi; `k8c-loadgen create --sched-mix`: a third with
# required hostname anti-affinity within one of 50 groups, a third with a zone spread
# constraint) created by 16 clients onto NODES simulated nodes; reports pods/s from the
# first create to the last binding (median of RUNS), the scheduler's own latency figures
# for each run (the "scheduler stats" line it logs when a burst is over: scheduling cycle
# and queued-to-bound p99), and the server's RSS. Fresh server and temp dir.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LOADGEN=${LOADGEN:-$ROOT/build/k8c-loadgen}
NODES=${SCHED_NODES:-5000}
PODS=${SCHED_PODS:-10000}
RUNS=${SCHED_RUNS:-3}
source "$ROOT/bench/sim_server.sh"
sim_server_start sched "$NODES" --cluster-cidr 10.0.0.0/8
rates=()
cycle_p99s=()
e2e_p99s=()
cpu_p99s=()
seen=0
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq 1 "$RUNS"); do
  ns=sched-$r
  start=${EPOCHREALTIME/[.,]/}
  "$LOADGEN" create --server "https://127.0.0.1:$PORT" --tls-dir "$WORK/data/server/tls" \
    --namespace "$ns" --name-prefix p --count "$PODS" --runs 1 --concurrency 16 --sched-mix >/dev/null 2>&1
  # One keep-alive connection asks for an unbound pod every 20 ms (a kubectl process per
  # poll cost ~70 ms of CPU, taken from the server being measured).
  bound_ms=$("$LOADGEN" bound --server "https://127.0.0.1:$PORT" --tls-dir "$WORK/data/server/tls" \
    --namespace "$ns" --since-unix-us "$start" --interval-ms 20 --timeout 120 2>/dev/null |
    jq -r .bound_ms)
  end=$(python3 -c "print(int($start + $bound_ms * 1000))")
  rate=$(python3 -c "print(round($PODS / (($end - $start) / 1e6)))")
  rates+=("$rate")
  stats=""
  for _ in $(seq 1 100); do # the run's largest burst line (a pause may split a run in two)
    stats=$( (grep "scheduler stats" "$WORK/server.log" || true) | tail -n +$((seen + 1)) |
      awk -F'stats: ' '{split($2, a, " "); print a[1] "\t" $0}' | sort -n -r | sed -n 1p | cut -f2-)
    [ -n "$stats" ] && break
    sleep 0.1
  done
  seen=$(grep -c "scheduler stats" "$WORK/server.log" || true)
  [ -n "$stats" ] || stats="stats: (no scheduler stats line)"
  cycle_p99s+=("$(sed -n 's/.*cycle p50 [0-9.]* ms p99 \([0-9.]*\) ms.*/\1/p' <<<"$stats")")
  e2e_p99s+=("$(sed -n 's/.*bound p50 [0-9.]* ms p99 \([0-9.]*\) ms.*/\1/p' <<<"$stats")")
  cpu_p99s+=("$(sed -n 's/.*CPU time p50 [0-9.]* ms p99 \([0-9.]*\) ms.*/\1/p' <<<"$stats")")
  echo "sched run $r: $PODS pods bound in $(( (end - start) / 1000 )) ms = $rate pods/s; ${stats#*stats: }" >&2
  kc delete ns "$ns" --timeout=300s >/dev/null # gone before the next run starts
done
rss=$(sim_server_rss_mib)
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
median=$(med "${rates[@]}")
cycle_p99=$(med "${cycle_p99s[@]}")
e2e_p99=$(med "${e2e_p99s[@]}")
cpu_p99=$(med "${cpu_p99s[@]}")
cat <<TABLE
| metric | target | measured (median) | runs |
|---|---|---|---|
| $PODS pods onto $NODES simulated nodes, first create → last bound (a third anti-affinity, a third zone spread) | ≥ 2,000 pods/s | $median pods/s | $RUNS |
| scheduling latency p99: one scheduling cycle (filters + scores) | < 10 ms | $cycle_p99 ms | $RUNS |
| scheduling latency p99: queued → bound (incl. the binding write) | < 10 ms | $e2e_p99 ms | $RUNS |
| one scheduling cycle's CPU time p99 (the loop thread's own; no lock or CPU waits) | — | $cpu_p99 ms | $RUNS |
| server RSS after the runs | — | $rss MiB | 1 |

Load average before / after: $load_before / $(cut -d' ' -f1-3 /proc/loadavg).
TABLE
