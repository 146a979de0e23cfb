#!/usr/bin/env bash
# bench/callgrind_api.sh — instruction count per API request under callgrind: a fresh
# server (API only) runs under valgrind with instrumentation off until warm-up is done,
# then counts exactly the measured creates (or gets). Immune to a busy machine, unlike
# wall-clock throughput, so it is how an optimisation's gain is judged.
#   bash bench/callgrind_api.sh create|get [COUNT]   (prints Ir per request; keeps
#   the callgrind.out file in $CALLGRIND_OUT if set)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
K8C=${K8C_BIN:-$ROOT/build/k8c}
LOADGEN=${K8C_LOADGEN:-$ROOT/build/k8c-loadgen}
SCENARIO=${1:?usage: callgrind_api.sh create|get [COUNT]}
COUNT=${2:-2000}
command -v valgrind >/dev/null || { echo "callgrind_api: valgrind is not installed" >&2; exit 1; }

WORK=$(mktemp -d /tmp/k8c-callgrind.XXXXXX)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=https://127.0.0.1:$port
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$WORK/callgrind.out" \
  "$K8C" server --data-dir "$WORK/data" --https-listen-port "$port" --bind-address 127.0.0.1 \
  --write-kubeconfig "$WORK/data/kubeconfig.yaml" --disable-agent --disable-scheduler \
  --disable-controller-manager >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
"$LOADGEN" ready --server "$url" --timeout 300 --interval-ms 200 >/dev/null
lg() { "$LOADGEN" "$1" --server "$url" --tls-dir "$WORK/data/server/tls" "${@:2}"; }

# Warm-up: namespace, connections, caches, the store's first pages.
lg create --namespace cg --name-prefix warm --count 200 --runs 1 --concurrency 8 >/dev/null 2>&1
callgrind_control -z "$SERVER_PID" >/dev/null
callgrind_control -i on "$SERVER_PID" >/dev/null
case $SCENARIO in
  create) lg create --namespace cg --name-prefix m --count "$COUNT" --runs 1 --concurrency 8 \
            >/dev/null 2>"$WORK/lg.log" ;;
  get) lg get --namespace cg --duration 10 --runs 1 --concurrency 8 >"$WORK/lg.json" 2>"$WORK/lg.log" ;;
  *) echo "callgrind_api: unknown scenario $SCENARIO" >&2; exit 2 ;;
esac
callgrind_control -i off "$SERVER_PID" >/dev/null
callgrind_control -d "$SERVER_PID" >/dev/null
sleep 1
out=$(ls -t "$WORK"/callgrind.out* | head -1)
ir=$(awk '/^totals:/ { print $2 }' "$out")
if [ "$SCENARIO" = get ]; then
  COUNT=$(grep -oE '[0-9]+ gets in' "$WORK/lg.log" | head -1 | cut -d' ' -f1 || true)
  [ -n "$COUNT" ] || { echo "callgrind_api: no get count in the load generator's log" >&2; exit 1; }
fi
# The per-connection work (TLS handshakes, the client certificate's check on a connection's
# first request) is the same whatever the count; a get run's count depends on how fast
# valgrind ran, so Ir_per_request moves with the machine's load. Also report the figure
# without it.
per_conn=$(callgrind_annotate --inclusive=yes "$out" 2>/dev/null |
  awk '/:gnutls_handshake \[|server\.c:authenticate \[/ { gsub(",", "", $1); sum += $1 } END { print sum + 0 }')
echo "scenario=$SCENARIO requests=$COUNT Ir=$ir Ir_per_request=$((ir / COUNT))" \
  "Ir_per_request_without_connection_setup=$(((ir - per_conn) / COUNT))"
[ -z "${CALLGRIND_OUT:-}" ] || cp "$out" "$CALLGRIND_OUT"
