#!/usr/bin/env bash
# bench/scale.sh — control-plane scale figures on simulated nodes (issue 3's targets):
# server RSS with 1,000 simulated nodes, and the time for a 1,000-replica Deployment to be
# fully Ready on them (median of RUNS). Fresh server and temp dir; cleans up on exit.
#   bash bench/scale.sh            (prints a Markdown table; `make bench-scale` appends it)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
NODES=${SCALE_NODES:-1000}
REPLICAS=${SCALE_REPLICAS:-1000}
RUNS=${SCALE_RUNS:-3}
source "$ROOT/bench/sim_server.sh"
sim_server_start scale "$NODES"
sleep 5
idle_rss=$(sim_server_rss_mib)
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
  loaded_rss=$(sim_server_rss_mib)
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
