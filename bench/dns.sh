#!/usr/bin/env bash
# bench/dns.sh — cluster DNS throughput and latency on loopback (issue 5: target
# >= 50,000 queries/s). `k8c testing-dns-bench` builds a throw-away registry with
# DNS_SERVICES Services, starts the DNS server in process on 127.0.0.1 and sends A
# queries for them over UDP: first a throughput run (DNS_WINDOW queries in flight), then a
# latency run (8 in flight, so queueing does not dominate). Prints queries/s, p99
# latency and the CPU each query costs. Set DNS_SERVER=IP:PORT to measure a running server.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
K8C=${K8C:-$ROOT/build/k8c}
SERVICES=${DNS_SERVICES:-1000}
DURATION=${DNS_DURATION:-5}
WINDOW=${DNS_WINDOW:-128}
WORKERS=${DNS_WORKERS:-1}
target=()
[ -n "${DNS_SERVER:-}" ] && target=(--server "$DNS_SERVER")

run() {
  "$K8C" testing-dns-bench "${target[@]}" --services "$SERVICES" --duration "$DURATION" \
    --workers "$WORKERS" "$@"
}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "== throughput (window $WINDOW) =="
thr=$(run --window "$WINDOW")
echo "$thr"
echo "== latency (window 8) =="
lat=$(run --window 8)
echo "$lat"
qps=$(awk '/^qps:/ {print $2}' <<<"$thr")
p99=$(awk '/^latency_us:/ {print $7}' <<<"$lat")
echo "dns: ${qps} queries/s, p99 ${p99} us (at 8 in flight)"
