#!/usr/bin/env bash
# bench/scale.sh — control-plane scale figures on simulated nodes (issue 3's targets):
# server RSS with 1,000 simulated nodes, the time for a 1,000-replica Deployment to be
# fully Ready on them (median of RUNS), and the server's RSS once RSS_PODS more pods
# (k8c-loadgen, 16 clients) are bound and running there, and again SETTLE_S (60) seconds
# later, when the cluster is at rest. Fresh server and temp dir;
# cleans up on exit.
#   bash bench/scale.sh            (prints a Markdown table; `make bench-scale` appends it)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
NODES=${SCALE_NODES:-1000}
REPLICAS=${SCALE_REPLICAS:-1000}
RUNS=${SCALE_RUNS:-3}
RSS_PODS=${SCALE_RSS_PODS:-30000}
SETTLE_S=${SCALE_SETTLE_S:-60}
LOADGEN=${LOADGEN:-$ROOT/build/k8c-loadgen}
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
pods_rss="(skipped)"
settled_rss="(skipped)"
if [ "$RSS_PODS" -gt 0 ]; then
  "$LOADGEN" create --server "https://127.0.0.1:$PORT" --tls-dir "$WORK/data/server/tls" \
    --namespace scale-rss --name-prefix p --count "$RSS_PODS" --runs 1 --concurrency 16 >/dev/null 2>&1
  for _ in $(seq 1 1200); do # bound, then Running (the simulated kubelets' status writes)
    [ "$(kc get pods -n scale-rss --field-selector status.phase!=Running -o name 2>/dev/null | wc -l)" -eq 0 ] && break
    sleep 0.5
  done
  sleep 2
  pods_rss="$(sim_server_rss_mib) MiB"
  echo "scale: RSS with $RSS_PODS more pods running: $pods_rss" >&2
  # The same cluster a minute later, nothing changing: the watch cache has compressed the
  # objects idle for 15 s (src/storage/watchcache/cooler.c), as it does in a cluster at rest.
  sleep "$SETTLE_S"
  settled_rss="$(sim_server_rss_mib) MiB"
  echo "scale: RSS $SETTLE_S s later: $settled_rss" >&2
fi
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
cat <<TABLE
| metric | target | measured (median) | runs |
|---|---|---|---|
| server RSS, $NODES simulated nodes, idle | < 100 MB | $idle_rss MiB | 1 |
| Deployment of $REPLICAS replicas: create → all Ready (kubectl polling every 50 ms) | < 5 s | $median ms | $RUNS |
| server RSS with those $REPLICAS pods running | — | $loaded_rss MiB (last run) | 1 |
| server RSS with $RSS_PODS pods running on the $NODES nodes (after the runs), 2 s after the last is Running | < 400 MB | $pods_rss | 1 |
| the same, $SETTLE_S s later (cluster at rest) | < 400 MB | $settled_rss | 1 |

Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average before: $(cut -d' ' -f1-3 /proc/loadavg).
TABLE
