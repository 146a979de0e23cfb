#!/usr/bin/env bash
# bench/dns.sh — cluster DNS throughput and latency on loopback (issue 5: target
# >= 50,000 queries/s). `k8c testing-dns-bench` builds a throw-away registry with
# DNS_SERVICES Services, starts the DNS server in process on 127.0.0.1 and sends A
# queries for them over UDP: a throughput run (DNS_WINDOW queries in flight), then a
# latency run (4 in flight, so queueing does not dominate p99). Prints queries/s, p99
# latency and the CPU each query costs. DNS_SERVER=IP:PORT measures a running server.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
K8C=${K8C:-$ROOT/build/k8c}
SERVICES=${DNS_SERVICES:-1000}
DURATION=${DNS_DURATION:-5}
WINDOW=${DNS_WINDOW:-16}
WORKERS=${DNS_WORKERS:-1}
target=()
[ -n "${DNS_SERVER:-}" ] && target=(--server "$DNS_SERVER")

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
out=$("$K8C" testing-dns-bench "${target[@]}" --services "$SERVICES" --duration "$DURATION" \
  --workers "$WORKERS" --window "$WINDOW,4")
echo "$out"
qps=$(awk '/^qps:/ {print $2; exit}' <<<"$out")
p99=$(awk '/^latency_us:/ {v = $7} END {print v}' <<<"$out")
echo "dns: ${qps} queries/s (${WINDOW} in flight), p99 ${p99} us (4 in flight)"
