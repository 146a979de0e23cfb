#!/usr/bin/env bash
# bench/proxy.sh — the service proxy's nftables syncs (issue 5, Performance): a full sync
# of 1,000 and 10,000 Services with 10 endpoints each (target < 1 s at 10,000) and the
# time for one endpoint change to be in the kernel with all Services present (target
# p99 < 100 ms). Runs `k8c testing-proxy-bench`, which works in a private network
# namespace (root needed; the host's rules are never touched). sync_ms is wall time,
# sync_cpu_ms this process's CPU (user + kernel), which shared machines do not inflate.
#   bash bench/proxy.sh            # both sizes
#   PROXY_SIZES="1000" bash bench/proxy.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
K8C=${K8C_BIN:-$ROOT/build/k8c}
SIZES=${PROXY_SIZES:-"1000 10000"}
ENDPOINTS=${PROXY_ENDPOINTS:-10}
CHANGES=${PROXY_CHANGES:-200}
[ -x "$K8C" ] || { echo "proxy.sh: build k8c first ($K8C)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "proxy.sh: needs root (network namespace, nftables)" >&2; exit 1; }

for n in $SIZES; do
  "$K8C" testing-proxy-bench --services "$n" --endpoints "$ENDPOINTS" --changes "$CHANGES"
done | python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    print(line.strip())
    if r["figure"] == "full_sync":
        print("  full sync, %6d services x %d endpoints: %8.1f ms wall, %8.1f ms CPU%s" % (
            r["services"], r["endpoints_per_service"], r["sync_ms"], r["sync_cpu_ms"],
            "  (target < 1000 ms)" if r["services"] == 10000 else ""), file=sys.stderr)
    else:
        print("  endpoint change, %6d services: p50 %.2f ms, p99 %.2f ms (target p99 < 100 ms)" % (
            r["services"], r["p50_ms"], r["p99_ms"]), file=sys.stderr)
'
