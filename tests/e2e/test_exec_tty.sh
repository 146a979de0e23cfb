#!/usr/bin/env bash
# test_exec_tty.sh — interactive sessions with real containers, driven by the real kubectl
# on a terminal of its own (helpers/pty_drive.py), for kubectl 1.27 (SPDY) and 1.33
# (WebSocket v5): `exec -it` gets a /dev/pts terminal whose size follows the client's
# (the first size and a resize), the exit code comes back; `attach -it` reaches a
# tty: true container's shell and resizes it; `attach -i` feeds a stdin: true container
# without a terminal (stdinOnce: its stdin ends with the session). Cleans up on failure.
source "$(dirname "$0")/lib.sh"
source "$K8C_SOURCE_DIR/tests/lib/image_fixture.sh"
source "$K8C_SOURCE_DIR/tests/lib/agent_node.sh"
agent_node_init tty t

VERSIONS=${TTY_VERSIONS:-"1.27 1.33"}
DRIVE="python3 $K8C_SOURCE_DIR/tests/e2e/helpers/pty_drive.py"

trap "agent_node_cleanup 1.33" EXIT

# kcmd VERSION: the kubectl command line kc would run, for pty_drive.
kcmd() {
  echo "env HOME=$E2E_TMP/home-$1 KUBECONFIG=$KUBECONFIG_FILE $(kubectl_bin "$1") --request-timeout=20s"
}

agent_node_serve_busybox

agent_node_server_start tty-node

pods_yaml() {
  local tag
  echo "apiVersion: v1
kind: Pod
metadata: {name: shell}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: c, image: busybox:1.36, command: [sleep, '3600']}]"
  for v in $VERSIONS; do
    tag=${v/./}
    echo "---
apiVersion: v1
kind: Pod
metadata: {name: tty-$tag}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: c, image: busybox:1.36, command: [sh], tty: true, stdin: true}]
---
apiVersion: v1
kind: Pod
metadata: {name: in-$tag}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox:1.36
    stdin: true
    stdinOnce: true
    command: [sh, -c, 'while read l; do echo \"got \$l\"; done; echo bye']"
  done
}
pods_yaml | kc 1.33 apply -f - >/dev/null
all_running() { [ "$(kc 1.33 get pods --no-headers 2>/dev/null | grep -c Running)" = "$(pods_yaml | grep -c '^kind: Pod')" ]; }
if wait_for 60 all_running; then pass "pods Running"; else
  fail "pods not running: $(kc 1.33 get pods 2>&1)"
fi

for v in $VERSIONS; do
  tag=${v/./}
  # ---- exec -it: a terminal, its size, a resize, the exit code
  out=$($DRIVE 30 77 'expect:[#$] ' 'send:tty; busybox stty size\n' 'expect:30 77' \
    'resize:40,100' 'sleep:0.5' 'send:busybox stty size\n' 'expect:40 100' 'send:exit 3\n' \
    -- $(kcmd "$v") exec -it shell -- sh 2>&1)
  expect_match "[$v] exec -it gets a /dev/pts terminal" "$out" '/dev/pts/[0-9]+'
  expect_match "[$v] exec -it: the terminal has the client's size" "$out" '30 77'
  expect_match "[$v] exec -it: a resize reaches the terminal" "$out" '40 100'
  expect_match "[$v] exec -it relays the exit code" "$out" 'exit=3'
  expect_no_match "[$v] exec -it finished in time" "$out" 'TIMEOUT'

  # ---- attach -it to a tty: true container
  out=$($DRIVE 33 88 'sleep:1' 'send:busybox tty; busybox stty size\n' 'expect:33 88' \
    'resize:44,99' 'sleep:0.5' 'send:busybox stty size\n' 'expect:44 99' 'kill:' \
    -- timeout 25 $(kcmd "$v") attach -it "tty-$tag" 2>&1)
  expect_match "[$v] attach -it reaches the container's terminal" "$out" '/dev/pts/[0-9]+'
  expect_match "[$v] attach -it: the terminal has the client's size" "$out" '33 88'
  expect_match "[$v] attach -it: a resize reaches the terminal" "$out" '44 99'
  expect_no_match "[$v] attach -it answered in time" "$out" 'TIMEOUT'

  # ---- attach -i without a terminal: stdin in, stdout out; stdinOnce ends the input
  out=$(printf 'one\ntwo\n' | timeout 25 $(kcmd "$v") attach -i "in-$tag" 2>/dev/null)
  expect_eq "[$v] attach -i feeds stdin and relays stdout" "$out" "$(printf 'got one\ngot two\nbye')"
  done_in() { [ "$(kc 1.33 get pod "in-$tag" -o jsonpath='{.status.phase}')" = Succeeded ]; }
  wait_for 20 done_in && pass "[$v] stdinOnce: the container ends with its input" ||
    fail "[$v] in-$tag phase: $(kc 1.33 get pod "in-$tag" -o jsonpath='{.status.phase}')"
done
e2e_finish
