#!/usr/bin/env bash
# bench/run.sh — `make bench`: measures k8c's API server on this machine and writes
# bench/RESULTS.md. Every figure is the median of several runs against a fresh server
# on 127.0.0.1 (random free port, temporary data dir, both removed on exit).
# Knobs (environment): K8C_BIN, K8C_LOADGEN, BENCH_RESULTS (output file), BENCH_QUICK=1
# (small counts, for checking the script itself), BENCH_CLIENT (raw|curl: the load
# generator's HTTP client for the create and get figures; the other one is measured too,
# for its cost per request), and the BENCH_* sizes below.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
K8C=${K8C_BIN:-$ROOT/build/k8c}
LOADGEN=${K8C_LOADGEN:-$ROOT/build/k8c-loadgen}
RESULTS=${BENCH_RESULTS:-$ROOT/bench/RESULTS.md}

if [ "${BENCH_QUICK:-0}" = 1 ]; then
  defaults=(STARTS=2 CREATE_PODS=300 CREATE_RUNS=2 LIST_PODS=100 GET_SECONDS=1 GET_RUNS=2
            LIST_RUNS=3 WATCHERS=50 WATCH_EVENTS=20 WATCH_RUNS=2 RSS_PODS=1000 COMPARE_RUNS=1)
else
  defaults=(STARTS=5 CREATE_PODS=1800 CREATE_RUNS=5 LIST_PODS=1000 GET_SECONDS=5 GET_RUNS=5
            LIST_RUNS=21 WATCHERS=1000 WATCH_EVENTS=200 WATCH_RUNS=5 RSS_PODS=10000
            COMPARE_RUNS=3)
fi
for kv in "${defaults[@]}"; do
  var=BENCH_${kv%%=*}
  [ -n "${!var:-}" ] || printf -v "$var" '%s' "${kv#*=}"
done
CONCURRENCY=${BENCH_CONCURRENCY:-16}
WATCH_RATE=${BENCH_WATCH_RATE:-100}
WATCHER_THREADS=${BENCH_WATCHER_THREADS:-2}
CLIENT=${BENCH_CLIENT:-raw}
case $CLIENT in
  raw) OTHER_CLIENT=curl ;;
  curl) OTHER_CLIENT=raw ;;
  *) echo "bench: BENCH_CLIENT must be raw or curl" >&2; exit 2 ;;
esac

for bin in "$K8C" "$LOADGEN"; do
  [ -x "$bin" ] || { echo "bench: $bin not built (run make build)" >&2; exit 1; }
done
# The raw client's response parser checks itself before any figure depends on it.
"$LOADGEN" selftest >/dev/null || { echo "bench: k8c-loadgen selftest failed" >&2; exit 1; }
# A thousand watch streams need a thousand descriptors on both ends.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true

WORK=$(mktemp -d /tmp/k8c-bench.XXXXXX)
JSONL=$WORK/results.jsonl
SERVER_PID=""
SERVER_DIR=""
SERVER_URL=""

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  kill -9 "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
cleanup() {
  stop_server
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server NAME [FLAGS...]: fresh data dir and port; sets SERVER_PID/DIR/URL and READY_MS.
start_server() {
  SERVER_DIR=$WORK/$1
  shift
  mkdir -p "$SERVER_DIR"
  local port
  port=$(free_port)
  SERVER_URL=https://127.0.0.1:$port
  local exec_us=${EPOCHREALTIME/[.,]/}
  "$K8C" server --data-dir "$SERVER_DIR" --https-listen-port "$port" --bind-address 127.0.0.1 \
    --write-kubeconfig "$SERVER_DIR/kubeconfig.yaml" --disable-agent "$@" >"$SERVER_DIR/server.log" 2>&1 &
  SERVER_PID=$!
  local line
  if ! line=$("$LOADGEN" ready --server "$SERVER_URL" --since-unix-us "$exec_us" --interval-ms 2 \
              --timeout 60 2>>"$WORK/loadgen.log"); then
    echo "bench: server did not become ready; its log:" >&2
    tail -n 30 "$SERVER_DIR/server.log" >&2
    exit 1
  fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then # /readyz answered, but not our server
    echo "bench: server exited during start-up; its log:" >&2
    tail -n 30 "$SERVER_DIR/server.log" >&2
    exit 1
  fi
  READY_MS=$(jq -r .ready_ms <<<"$line")
}

rss_mib() {
  awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$SERVER_PID/status"
}

loadgen() {
  local scenario=$1
  shift
  "$LOADGEN" "$scenario" --server "$SERVER_URL" --tls-dir "$SERVER_DIR/server/tls" \
    --server-pid "$SERVER_PID" "$@"
}

record() { # record SCENARIO ARGS...: runs the scenario, keeps its JSON line
  local out
  if ! out=$(loadgen "$@"); then
    echo "bench: scenario $1 failed" >&2
    exit 1
  fi
  printf '%s\n' "$out" >>"$JSONL"
}

record_comparison() { # the same, marked as the other client's cost measurement
  local out
  if ! out=$(loadgen "$@"); then
    echo "bench: scenario $1 (comparison) failed" >&2
    exit 1
  fi
  jq -c '. + {comparison: true}' <<<"$out" >>"$JSONL"
}

started=$(date +%s)
# Other work on the machine skews every figure; the table records how busy it was.
LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench: $BENCH_STARTS fresh starts (time to /readyz, idle RSS)" >&2
ready=() idle=()
for i in $(seq "$BENCH_STARTS"); do
  start_server "start$i"
  sleep 1 # let start-up work (controllers' first lists) settle before reading RSS
  ready+=("$READY_MS")
  idle+=("$(rss_mib)")
  echo "  start $i: ready in $READY_MS ms, idle RSS ${idle[-1]} MiB" >&2
  stop_server
  rm -rf "$SERVER_DIR"
done
jq -cn --argjson r "$(printf '%s\n' "${ready[@]}" | jq -s .)" \
  --argjson m "$(printf '%s\n' "${idle[@]}" | jq -s .)" \
  '{scenario: "startup", ready_ms_runs: $r, idle_rss_mib_runs: $m}' >>"$JSONL"

echo "bench: scenarios against one server" >&2
# The API figures measure the API server alone: with no nodes, a scheduler would answer
# every benchmark pod with a FailedScheduling event and status write, which is not what a
# user's cluster does. Start-up and idle RSS above are of the full server.
start_server main --disable-scheduler --disable-controller-manager
# 1,000 pods for the list scenario in a namespace of their own.
loadgen create --namespace bench-list --name-prefix list --count "$BENCH_LIST_PODS" --runs 1 \
  --concurrency "$CONCURRENCY" >/dev/null
record create --namespace bench-create --name-prefix create --count "$BENCH_CREATE_PODS" \
  --runs "$BENCH_CREATE_RUNS" --concurrency "$CONCURRENCY"
# Top up to the stored-pod figure for the RSS measurement.
stored=$((BENCH_LIST_PODS + BENCH_CREATE_PODS * BENCH_CREATE_RUNS))
if [ "$stored" -lt "$BENCH_RSS_PODS" ]; then
  loadgen create --namespace bench-fill --name-prefix fill --count $((BENCH_RSS_PODS - stored)) \
    --runs 1 --concurrency "$CONCURRENCY" --client "$CLIENT" >/dev/null
  stored=$BENCH_RSS_PODS
fi
record get --namespace bench-create --duration "$BENCH_GET_SECONDS" --runs "$BENCH_GET_RUNS" \
  --concurrency "$CONCURRENCY" --client "$CLIENT"
record_comparison get --namespace bench-create --duration "$BENCH_GET_SECONDS" \
  --runs "$BENCH_COMPARE_RUNS" --concurrency "$CONCURRENCY" --client "$OTHER_CLIENT"
record list --namespace bench-list --count "$BENCH_LIST_PODS" --runs "$BENCH_LIST_RUNS"
sleep 1
rss_samples=()
for _ in 1 2 3; do
  rss_samples+=("$(rss_mib)")
  sleep 0.5
done
jq -cn --argjson m "$(printf '%s\n' "${rss_samples[@]}" | jq -s .)" --argjson pods "$stored" \
  '{scenario: "rss_stored", pods: $pods, rss_mib_runs: $m}' >>"$JSONL"
record watch --namespace bench-watch --name-prefix watch --watchers "$BENCH_WATCHERS" \
  --events "$BENCH_WATCH_EVENTS" --runs "$BENCH_WATCH_RUNS" --rate "$WATCH_RATE" \
  --watcher-threads "$WATCHER_THREADS" --timeout 60
# Last, so the pods it adds change no figure above: the other client's cost per create.
record_comparison create --namespace bench-compare --name-prefix compare \
  --count "$BENCH_CREATE_PODS" --runs "$BENCH_COMPARE_RUNS" --concurrency "$CONCURRENCY" \
  --client "$OTHER_CLIENT"
stop_server

elapsed=$(($(date +%s) - started))
jq -cn --arg at_start "$LOADAVG_START" --arg at_end "$(cut -d' ' -f1-3 /proc/loadavg)" \
  '{scenario: "machine_load", loadavg_start: $at_start, loadavg_end: $at_end}' >>"$JSONL"
python3 "$ROOT/bench/render_results.py" "$JSONL" "$elapsed" >"$RESULTS.tmp"
if [ "${BENCH_SCALE:-1}" != 0 ]; then
  echo "bench: control-plane scale on simulated nodes (bench/scale.sh)" >&2
  {
    echo
    echo "## Control plane on simulated nodes (bench/scale.sh)"
    echo
    echo "The full server (API, controllers, scheduler) with in-process simulated nodes."
    echo
    bash "$ROOT/bench/scale.sh"
    echo
    echo "## Scheduling throughput on 5,000 simulated nodes (bench/scheduler.sh)"
    echo
    bash "$ROOT/bench/scheduler.sh"
  } >>"$RESULTS.tmp"
fi
if [ "${BENCH_COMPONENTS:-1}" != 0 ]; then
  echo "bench: node and network components (bench/components.sh)" >&2
  {
    echo
    echo "## Node and network components (bench/components.sh)"
    echo
    bash "$ROOT/bench/components.sh"
  } >>"$RESULTS.tmp"
fi
mv "$RESULTS.tmp" "$RESULTS"
echo "bench: wrote $RESULTS in ${elapsed} s" >&2
cat "$RESULTS"
