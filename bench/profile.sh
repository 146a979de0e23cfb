#!/usr/bin/env bash
# bench/profile.sh — profiles the API server under one load-generator scenario with
# `perf record -g` and prints the hottest functions (self and children), so a missed
# target in RESULTS.md comes with the place to look.
#   bash bench/profile.sh create|get|list|watch [extra k8c-loadgen flags]
# Uses a fresh server on 127.0.0.1 and a temp dir, both removed on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
K8C=${K8C_BIN:-$ROOT/build/k8c}
LOADGEN=${K8C_LOADGEN:-$ROOT/build/k8c-loadgen}
SCENARIO=${1:?usage: profile.sh create|get|list|watch [k8c-loadgen flags]}
shift
# The API scenarios measure the API server alone, as bench/run.sh does (with no nodes a
# scheduler would answer every created pod with a status write); override to profile more.
SERVER_FLAGS=${PROFILE_SERVER_FLAGS:---disable-scheduler --disable-controller-manager}
command -v perf >/dev/null || { echo "profile: perf is not installed" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

WORK=$(mktemp -d /tmp/k8c-profile.XXXXXX)
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
"$K8C" server --data-dir "$WORK/data" --https-listen-port "$port" --bind-address 127.0.0.1 \
  --write-kubeconfig "$WORK/data/kubeconfig.yaml" --disable-agent $SERVER_FLAGS >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
"$LOADGEN" ready --server "$url" --timeout 60 >/dev/null
lg() { "$LOADGEN" "$1" --server "$url" --tls-dir "$WORK/data/server/tls" "${@:2}"; }

# Data the read scenarios need, created before recording starts.
case $SCENARIO in
  get) lg create --namespace bench-create --count 9000 --runs 1 >/dev/null ;;
  list) lg create --namespace bench-list --count 1000 --runs 1 >/dev/null ;;
esac

# DWARF unwinding: the RelWithDebInfo build keeps no frame pointers.
perf record -F 499 --call-graph dwarf,16384 -o "$WORK/perf.data" -p "$SERVER_PID" 2>"$WORK/perf.log" &
PERF_PID=$!
sleep 0.5
case $SCENARIO in
  create) lg create --namespace bench-create --count 5000 --runs 2 "$@" ;;
  get) lg get --namespace bench-create --duration 5 --runs 1 "$@" ;;
  list) lg list --namespace bench-list --runs 21 "$@" ;;
  watch) lg watch --namespace bench-watch --watchers 1000 --events 200 --rate 100 --runs 1 "$@" ;;
  *) echo "profile: unknown scenario $SCENARIO" >&2; exit 2 ;;
esac
kill -INT "$PERF_PID"
wait "$PERF_PID" || true
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  echo "profile: the server died during the run; its log:" >&2
  tail -n 40 "$WORK/server.log" >&2
fi
echo "== hottest functions by self time (% of server cycles) =="
perf report -i "$WORK/perf.data" --no-children --percent-limit 1.5 --stdio -g none \
  --sort symbol,dso 2>/dev/null | grep -v '^#' | grep -v '^$' | head -40
echo "== including callees (% of server cycles) =="
perf report -i "$WORK/perf.data" --children --percent-limit 2 --stdio -g none \
  --sort dso,symbol 2>/dev/null | grep -E '^ +[0-9.]+%' | grep -v '\[k\]' | head -50
