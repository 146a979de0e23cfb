#!/usr/bin/env bash
# kubectl logs / exec / cp / port-forward through the API server to a kubelet streaming
# endpoint (`k8c testing-kubelet-server`: host processes and CRI log files), with
# kubectl 1.27 (SPDY/3.1) and 1.33 (WebSocket v5, SPDY tunnelled in WebSocket for
# port-forward).
source "$(dirname "$0")/lib.sh"
STREAM_VERSIONS=${STREAM_VERSIONS:-"1.27 1.33"}
server_start
LOGS=$E2E_TMP/logs
mkdir -p "$LOGS" "$E2E_TMP/remote"
printf '%s\n' '2024-01-01T00:00:00.000000001Z stdout F first line' \
  '2024-01-01T00:00:01.5Z stderr P joined ' '2024-01-01T00:00:02Z stderr F line' \
  '2024-01-01T00:00:03Z stdout F last line' >"$LOGS/main.log"
printf '%s\n' '2023-12-31T23:59:59Z stdout F before the restart' >"$LOGS/main.previous.log"
: >"$LOGS/side.log"

"$K8C_BIN" testing-kubelet-server --data-dir "$DATA_DIR" --server "https://127.0.0.1:$PORT" \
  --log-dir "$LOGS" --containers main,side >"$E2E_TMP/kubelet.out" 2>"$E2E_TMP/kubelet.log" &
KUBELET_PID=$!
python3 "$(dirname "$0")/helpers/echo_server.py" >"$E2E_TMP/echo.port" &
ECHO_PID=$!
cleanup_streaming() {
  kill "$KUBELET_PID" "$ECHO_PID" 2>/dev/null
  wait "$KUBELET_PID" "$ECHO_PID" 2>/dev/null
  e2e_cleanup
}
trap cleanup_streaming EXIT
for i in $(seq 1 100); do
  grep -q ready "$E2E_TMP/kubelet.out" 2>/dev/null && [ -s "$E2E_TMP/echo.port" ] && break
  sleep 0.1
done
grep -q ready "$E2E_TMP/kubelet.out" || { echo "FATAL: testing kubelet did not start"; cat "$E2E_TMP/kubelet.log"; exit 1; }
ECHO_PORT=$(cat "$E2E_TMP/echo.port")

for v in $STREAM_VERSIONS; do
  # ---- logs ----
  out=$(kc "$v" logs testing-pod -c main 2>&1)
  expect_eq "[$v] logs joins partial lines" "$out" "$(printf 'first line\njoined line\nlast line')"
  out=$(kc "$v" logs testing-pod -c main --tail=1 2>&1)
  expect_eq "[$v] logs --tail=1" "$out" "last line"
  out=$(kc "$v" logs testing-pod -c main --tail=1 --timestamps 2>&1)
  expect_eq "[$v] logs --timestamps" "$out" "2024-01-01T00:00:03Z last line"
  out=$(kc "$v" logs testing-pod -c main --since-time=2024-01-01T00:00:02Z 2>&1)
  expect_eq "[$v] logs --since-time" "$out" "$(printf 'line\nlast line')"
  out=$(kc "$v" logs testing-pod -c main --limit-bytes=5 2>&1)
  expect_eq "[$v] logs --limit-bytes" "$out" "first"
  out=$(kc "$v" logs testing-pod -c main -p 2>&1)
  expect_eq "[$v] logs -p" "$out" "before the restart"
  out=$(kc "$v" logs testing-pod -c side -p 2>&1)
  expect_match "[$v] logs -p without a previous run" "$out" 'previous terminated container "side" in pod "testing-pod" not found'
  out=$(kc "$v" logs testing-pod -c nope 2>&1)
  expect_match "[$v] logs of an unknown container" "$out" 'container nope is not valid for pod testing-pod'
  out=$(kc "$v" logs testing-pod --all-containers 2>&1)
  expect_match "[$v] logs --all-containers" "$out" 'last line'
  rm -f "$LOGS/side.stopped"
  : >"$LOGS/side.log"
  kc "$v" logs -f testing-pod -c side >"$E2E_TMP/follow-$v.out" 2>&1 &
  follow_pid=$!
  sleep 1
  echo "2024-01-01T00:00:04Z stdout F followed $v" >>"$LOGS/side.log"
  sleep 0.5
  touch "$LOGS/side.stopped"
  for i in $(seq 1 50); do kill -0 $follow_pid 2>/dev/null || break; sleep 0.1; done
  if kill -0 $follow_pid 2>/dev/null; then
    fail "[$v] logs -f ends when the container stops"
    kill $follow_pid
  else
    pass "[$v] logs -f ends when the container stops"
  fi
  wait $follow_pid 2>/dev/null
  expect_eq "[$v] logs -f sees appended lines" "$(cat "$E2E_TMP/follow-$v.out")" "followed $v"

  # ---- exec ----
  # stdout and stderr are captured apart: kubectl writes them as they arrive.
  out=$(kc "$v" exec testing-pod -c main -- sh -c 'echo out; echo err >&2; exit 3' 2>"$E2E_TMP/exec-err")
  rc=$?
  expect_eq "[$v] exec propagates the exit code" "$rc" "3"
  expect_eq "[$v] exec relays stdout" "$out" 'out'
  expect_match "[$v] exec relays stderr" "$(cat "$E2E_TMP/exec-err")" '^err'
  out=$(kc "$v" exec testing-pod -c main -- true 2>&1)
  expect_eq "[$v] exec success" "$?:$out" "0:"
  out=$(printf 'abc\ndef\n' | kc "$v" exec -i testing-pod -c main -- sh -c 'cat; echo end' 2>&1)
  expect_eq "[$v] exec -i passes stdin and its end" "$out" "$(printf 'abc\ndef\nend')"
  out=$(kc "$v" exec testing-pod -- true 2>&1)
  expect_match "[$v] exec without -c on a two-container pod defaults" "$?:$out" '^0:'
  out=$(kc "$v" exec testing-pod -c nope -- true 2>&1)
  expect_match "[$v] exec into an unknown container" "$out" 'container nope is not valid for pod testing-pod'
  out=$(kc "$v" exec missing-pod -- true 2>&1)
  expect_match "[$v] exec into a missing pod" "$out" 'pods "missing-pod" not found'

  # ---- cp ----
  head -c 200000 /dev/urandom >"$E2E_TMP/blob-$v"
  kc "$v" cp "$E2E_TMP/blob-$v" "default/testing-pod:$E2E_TMP/remote/blob-$v" -c main >/dev/null 2>&1
  expect_eq "[$v] cp to the pod" "$(cmp "$E2E_TMP/blob-$v" "$E2E_TMP/remote/blob-$v" 2>&1 && echo same)" "same"
  kc "$v" cp "default/testing-pod:$E2E_TMP/remote/blob-$v" "$E2E_TMP/back-$v" -c main >/dev/null 2>&1
  expect_eq "[$v] cp from the pod" "$(cmp "$E2E_TMP/blob-$v" "$E2E_TMP/back-$v" 2>&1 && echo same)" "same"

  # ---- port-forward ----
  lp=$(free_port)
  kc "$v" port-forward pod/testing-pod "$lp:$ECHO_PORT" >"$E2E_TMP/pf-$v.log" 2>&1 &
  pf_pid=$!
  for i in $(seq 1 50); do grep -q Forwarding "$E2E_TMP/pf-$v.log" && break; sleep 0.1; done
  out=$(python3 - "$lp" <<'PY'
import socket, sys
port = int(sys.argv[1])
res = []
for word in (b"hello", b"x" * 100000):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(word)
    got = b""
    while len(got) < len(word):
        d = s.recv(65536)
        if not d:
            break
        got += d
    s.close()
    res.append("ok" if got == word else "bad %d" % len(got))
print(" ".join(res))
PY
)
  expect_eq "[$v] port-forward echoes through two connections" "$out" "ok ok"
  kill $pf_pid 2>/dev/null
  wait $pf_pid 2>/dev/null
done

# Unscheduled pods: empty logs, exec refused in upstream's words.
kc 1.33 run unscheduled --image=busybox --restart=Never --overrides='{"spec":{"schedulerName":"none"}}' >/dev/null 2>&1
out=$(kc 1.33 exec unscheduled -- true 2>&1)
expect_match "exec into an unscheduled pod" "$out" 'does not have a host assigned'
# The kubelet endpoint refuses callers without the API server's client certificate.
kport=$(sed -n 's/ready port=//p' "$E2E_TMP/kubelet.out")
code=$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$kport/containerLogs/default/testing-pod/main")
expect_eq "kubelet endpoint without a client certificate" "$code" "401"
tls=$DATA_DIR/server/tls
code=$(curl -sk -o /dev/null -w '%{http_code}' --cert "$tls/client-kube-apiserver-kubelet.crt" \
  --key "$tls/client-kube-apiserver-kubelet.key" "https://127.0.0.1:$kport/containerLogs/default/testing-pod/main")
expect_eq "kubelet endpoint with the apiserver-kubelet-client certificate" "$code" "200"
kill "$KUBELET_PID" 2>/dev/null
wait "$KUBELET_PID" 2>/dev/null
expect_no_match "no sanitizer report from the testing kubelet" "$(cat "$E2E_TMP/kubelet.log")" 'AddressSanitizer|runtime error'
e2e_finish
