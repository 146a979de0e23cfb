# bench/sim_server.sh — sourced by the benchmarks that need a full server with simulated
# nodes (scale.sh, scheduler.sh): a temp dir, a free port, the server, a kubectl wrapper
# `kc`, waiting until NODES nodes are Ready, and cleanup on exit.
#   sim_server_start NAME NODES [extra k8c server flags...]   sets WORK, PORT, PID
K8C=${K8C:-$ROOT/build/k8c}
KUBECTL=${KUBECTL:-/usr/lib/google-cloud-sdk/bin/kubectl.1.33}
WORK=""
PID=""

sim_server_cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  [ -n "$WORK" ] && rm -rf "$WORK"
}
trap sim_server_cleanup EXIT

kc() { HOME=$WORK KUBECONFIG=$WORK/kc.yaml "$KUBECTL" --request-timeout=60s "$@"; }

sim_server_rss_mib() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$PID/status"; }

sim_server_start() {
  local name=$1 nodes=$2
  shift 2
  WORK=$(mktemp -d "/tmp/k8c-$name.XXXXXX")
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$K8C" server --data-dir "$WORK/data" --https-listen-port "$PORT" --bind-address 127.0.0.1 \
    --write-kubeconfig "$WORK/kc.yaml" --disable-agent --simulate "$nodes" "$@" >"$WORK/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 1200); do
    [ "$(kc get nodes --no-headers 2>/dev/null | grep -c ' Ready ')" -ge "$nodes" ] && return 0
    sleep 0.25
  done
  echo "bench: $nodes simulated nodes not Ready in time; server log:" >&2
  tail -20 "$WORK/server.log" >&2
  exit 1
}
