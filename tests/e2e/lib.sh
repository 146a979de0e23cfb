# lib.sh — shared helpers for the e2e tests: start a real k8c server on a free port with
# its own data dir, drive it with a chosen real kubectl, assert, and clean up on exit.
# Each test script sources this, defines its checks, and ends with e2e_finish.
set -u

K8C_BIN=${K8C_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/k8c}
K8C_SOURCE_DIR=${K8C_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
KUBECTL_DIR=/usr/lib/google-cloud-sdk/bin
KUBECTL_VERSIONS=${KUBECTL_VERSIONS:-"1.27 1.32 1.33"}
SEED_DIR=${SEED_DIR:-$K8C_SOURCE_DIR/tests/e2e/seed}

E2E_PASSED=0
E2E_FAILED=0
E2E_TMP=$(mktemp -d /tmp/k8c-e2e.XXXXXX)
SERVER_PID=""

e2e_cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  rm -rf "$E2E_TMP"
}
trap e2e_cleanup EXIT

# The kubectl binary for a version; fails loudly when it is missing (CI must have it).
kubectl_bin() {
  local bin="$KUBECTL_DIR/kubectl.$1"
  if [ ! -x "$bin" ]; then
    echo "FATAL: $bin not found: the e2e tests need the real kubectl $1" >&2
    exit 1
  fi
  echo "$bin"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Starts a server (data dir kept across restarts of the same test).
server_start() {
  DATA_DIR=${DATA_DIR:-$E2E_TMP/data}
  PORT=${PORT:-$(free_port)}
  KUBECONFIG_FILE=$E2E_TMP/kubeconfig.yaml
  "$K8C_BIN" server --data-dir "$DATA_DIR" --https-listen-port "$PORT" --bind-address 127.0.0.1 \
    --write-kubeconfig "$KUBECONFIG_FILE" --disable-agent ${INGRESS_FLAGS---disable-ingress} "$@" >>"$E2E_TMP/server.log" 2>&1 &
  SERVER_PID=$!
  server_wait_ready
}

# server_wait_ready [SECONDS] — waits (10 s unless told) for the server just started
# (SERVER_PID on PORT) to answer /readyz; ends the test when it exits or stays unready.
server_wait_ready() {
  local secs=${1:-10} start=$SECONDS
  while [ $((SECONDS - start)) -lt "$secs" ]; do
    if curl -sk --max-time 1 "https://127.0.0.1:$PORT/readyz" 2>/dev/null | grep -q ok; then
      return 0
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "FATAL: server exited during start-up:" >&2
      tail -20 "$E2E_TMP/server.log" >&2
      exit 1
    fi
    sleep 0.02
  done
  echo "FATAL: server not ready after $secs s" >&2
  tail -20 "$E2E_TMP/server.log" >&2
  exit 1
}

# wait_for SECONDS COMMAND... — polls (every 0.3 s) until COMMAND succeeds; 1 when it
# did not within SECONDS.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  while [ $SECONDS -lt $deadline ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.3
  done
  return 1
}

server_kill9() {
  kill -9 "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=""
}

server_stop() {
  kill "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=""
}

# kc VERSION ARGS... — runs that kubectl against the test server with its own cache.
kc() {
  local v=$1
  shift
  HOME=$E2E_TMP/home-$v KUBECONFIG=$KUBECONFIG_FILE "$(kubectl_bin "$v")" --request-timeout=20s "$@"
}

# raw METHOD PATH [curl args...] — an authenticated HTTPS request; prints the body and
# leaves the status code in $E2E_TMP/status.
raw() {
  local method=$1 path=$2
  shift 2
  local tls=$DATA_DIR/server/tls
  curl -s --max-time 20 --cacert "$tls/server-ca.crt" --cert "$tls/client-admin.crt" \
    --key "$tls/client-admin.key" -X "$method" -o "$E2E_TMP/body" -w '%{http_code}' \
    "https://127.0.0.1:$PORT$path" "$@" >"$E2E_TMP/status"
  cat "$E2E_TMP/body"
}
raw_status() { cat "$E2E_TMP/status"; }

pass() {
  E2E_PASSED=$((E2E_PASSED + 1))
  echo "ok   $*"
}
fail() {
  E2E_FAILED=$((E2E_FAILED + 1))
  echo "FAIL $*"
}

# expect_eq DESCRIPTION ACTUAL EXPECTED
expect_eq() {
  if [ "$2" == "$3" ]; then pass "$1"; else fail "$1: got [$2], want [$3]"; fi
}
# expect_match DESCRIPTION TEXT REGEX
expect_match() {
  if printf '%s' "$2" | grep -Eq -- "$3"; then pass "$1"; else fail "$1: [$2] does not match /$3/"; fi
}
expect_no_match() {
  if printf '%s' "$2" | grep -Eq -- "$3"; then fail "$1: [$2] matches /$3/"; else pass "$1"; fi
}

e2e_finish() {
  echo "$E2E_PASSED passed, $E2E_FAILED failed"
  if [ -s "$E2E_TMP/server.log" ] && grep -q "AddressSanitizer\|runtime error" "$E2E_TMP/server.log"; then
    echo "FAIL sanitizer report in server log"
    grep -A20 "AddressSanitizer\|runtime error" "$E2E_TMP/server.log" | head -40
    exit 1
  fi
  [ "$E2E_FAILED" -eq 0 ]
}
