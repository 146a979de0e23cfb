#!/usr/bin/env bash
# bench/components.sh — the node and network components' figures (issues 4 and 5), as a
# markdown section for bench/RESULTS.md: cluster DNS queries/s and p99 (bench/dns.sh),
# service-proxy full syncs and endpoint-change latency (bench/proxy.sh), the latency the
# ClusterIP path adds (bench/clusterip.sh), image pulls/s from
# a local registry (bench/image_pull.sh) and, when the node agent is built, pod start-up
# (bench/pod_startup.sh). Each figure is the median of COMPONENT_RUNS runs (default 3).
# Needs root (network namespaces, nftables, containers).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${COMPONENT_RUNS:-3}
WORK=$(mktemp -d /tmp/k8c-components.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

dns_qps=() dns_p99=()
for _ in $(seq 1 "$RUNS"); do
  out=$(bash "$ROOT/bench/dns.sh" 2>/dev/null)
  dns_qps+=("$(awk '/^qps:/ {print $2; exit}' <<<"$out")")
  dns_p99+=("$(awk '/^latency_us:/ {v = $7} END {print v}' <<<"$out")")
done

sync1k=() sync10k=() cpu10k=() change_p99=()
for _ in $(seq 1 "$RUNS"); do
  bash "$ROOT/bench/proxy.sh" >"$WORK/proxy.jsonl" 2>/dev/null
  read -r a b c d < <(python3 - "$WORK/proxy.jsonl" <<'PY'
import json, sys
full, change = {}, {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["figure"] == "full_sync":
        full[r["services"]] = r
    else:
        change[r["services"]] = r
print(full[1000]["sync_ms"], full[10000]["sync_ms"], full[10000]["sync_cpu_ms"], change[10000]["p99_ms"])
PY
  )
  sync1k+=("$a") sync10k+=("$b") cpu10k+=("$c") change_p99+=("$d")
done

added_rr=() added_conn=()
for _ in $(seq 1 "$RUNS"); do
  line=$(bash "$ROOT/bench/clusterip.sh" 2>/dev/null | grep '^{')
  added_rr+=("$(jq -r .added_rr_p50_us <<<"$line")")
  added_conn+=("$(jq -r .added_conn_p50_us <<<"$line")")
done

pulls=$(IMAGE_RUNS=$RUNS bash "$ROOT/bench/image_pull.sh" 2>/dev/null | tail -2)
cold=$(awk '/cold/ {print $(NF-1)}' <<<"$pulls")
warm=$(awk '/warm/ {print $(NF-1)}' <<<"$pulls")

cat <<TABLE
| metric | target | measured (median) | runs |
|---|---|---|---|
| cluster DNS, A queries/s on loopback (1,000 Services, 16 in flight) | ≥ 50,000 | $(median "${dns_qps[@]}") | $RUNS |
| cluster DNS latency p99, 4 in flight (µs) | — | $(median "${dns_p99[@]}") | $RUNS |
| service proxy full sync, 1,000 Services × 10 endpoints (ms, wall) | — | $(median "${sync1k[@]}") | $RUNS |
| service proxy full sync, 10,000 Services × 10 endpoints (ms, wall) | < 1,000 | $(median "${sync10k[@]}") | $RUNS |
| the same, CPU of the syncing process (ms) | — | $(median "${cpu10k[@]}") | $RUNS |
| endpoint change → rules in the kernel, p99, 10,000 Services present (ms) | < 100 | $(median "${change_p99[@]}") | $RUNS |
| latency the ClusterIP path adds over the pod IP, open connection, p50 (µs) | < 50 | $(median "${added_rr[@]}") | $RUNS |
| the same, a new connection each time (connect, exchange, close), p50 (µs) | < 50 | $(median "${added_conn[@]}") | $RUNS |
| image pulls/s from a local registry, cold store (busybox, one process per pull) | — | ${cold:-?} | $RUNS |
| image pulls/s, image already present | — | ${warm:-?} | $RUNS |
TABLE
if [ -f "$ROOT/bench/pod_startup.sh" ]; then
  p50=() p99=() rss_idle=() rss_pods=() conmon=()
  for _ in $(seq 1 "$RUNS"); do
    out=$(bash "$ROOT/bench/pod_startup.sh" 2>/dev/null)
    p50+=("$(grep '^{' <<<"$out" | jq -r .p50_ms)")
    p99+=("$(grep '^{' <<<"$out" | jq -r .p99_ms)")
    rss_idle+=("$(sed -n 's/^agent RSS idle: \([0-9]*\) MiB.*/\1/p' <<<"$out")")
    rss_pods+=("$(sed -n 's/.*with [0-9]* pods: \([0-9]*\) MiB.*/\1/p' <<<"$out")")
    conmon+=("$(sed -n 's/^conmon: .* \([0-9]*\) KiB RSS each/\1/p' <<<"$out")")
  done
  cat <<TABLE
| pod start-up on a real node agent, create → Ready p50, 100 pods created at 10/s (ms) | < 150 | $(median "${p50[@]}") | $RUNS |
| the same, p99 (ms) | < 500 | $(median "${p99[@]}") | $RUNS |
| agent RSS idle / with 100 pods (MiB) | < 20 / < 40 | $(median "${rss_idle[@]}") / $(median "${rss_pods[@]}") | $RUNS |
| conmon RSS per container (KiB) | — | $(median "${conmon[@]}") | $RUNS |
TABLE
fi
echo
echo "Load average after the component runs: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores."
