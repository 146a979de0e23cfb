#!/usr/bin/env bash
# bench/clusterip.sh — the latency the ClusterIP path adds over reaching a pod by its IP
# (issue 5: target < 50 µs). Runs `k8c testing-clusterip-bench`: a client pod and a
# server pod on a bridge in private network namespaces, the service proxy's real table
# with 1,000 Services, then interleaved 1-byte exchanges to the pod IP and to the
# ClusterIP, on an open connection and on a new connection each time. Root needed.
#   bash bench/clusterip.sh       # prints the JSON line and a summary on stderr
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
K8C=${K8C_BIN:-$ROOT/build/k8c}
[ -x "$K8C" ] || { echo "clusterip.sh: build k8c first ($K8C)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "clusterip.sh: needs root (network namespaces, nftables)" >&2; exit 1; }
"$K8C" testing-clusterip-bench --samples "${CLUSTERIP_SAMPLES:-5000}" --services 1000 |
  python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    print(line.strip())
    print("  open connection: pod IP %.1f us, ClusterIP %.1f us (p50): +%.1f us" % (
        r["direct_rr_p50_us"], r["clusterip_rr_p50_us"], r["added_rr_p50_us"]), file=sys.stderr)
    print("  new connection:  pod IP %.1f us, ClusterIP %.1f us (p50): %+.1f us (target < 50)" % (
        r["direct_conn_p50_us"], r["clusterip_conn_p50_us"], r["added_conn_p50_us"]), file=sys.stderr)
'
