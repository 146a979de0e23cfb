#!/usr/bin/env bash
# Controllers under bad conditions, through the real kubectl: impossible constraints,
# a selector matching nothing, a user fighting the controllers (relabelling a pod,
# scaling a Deployment's ReplicaSet, deleting it), and a kill -9 of the server in the
# middle of a rollout. Nothing crashes, nothing spins (the server stays near idle while a
# pod can never be scheduled), and everything converges once the cause is gone.
source "$(dirname "$0")/lib.sh"
server_start --simulate 3 --simulate-ready-delay 200
v=1.33
for _ in $(seq 1 100); do
  [ "$(kc $v get nodes --no-headers 2>/dev/null | grep -c ' Ready ')" -ge 3 ] && break
  sleep 0.1
done
# server_cpu_ms: the server's user+system CPU time so far, in milliseconds.
server_cpu_ms() {
  awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$SERVER_PID/stat"
}
# wait_for DESCRIPTION EXPECTED COMMAND...: polls COMMAND's output for up to 20 s.
wait_for() {
  local what=$1 want=$2 got=""
  shift 2
  for _ in $(seq 1 200); do
    got=$("$@" 2>/dev/null)
    [ "$got" = "$want" ] && break
    sleep 0.1
  done
  expect_eq "$what" "$got" "$want"
}

# Impossible constraints: Pending with a reason, and no hot loop.
kc $v run nowhere --image=nginx:1.27-alpine --overrides='{"spec":{"nodeSelector":{"disktype":"none"}}}' >/dev/null
sleep 1
before=$(server_cpu_ms)
sleep 5
used=$(($(server_cpu_ms) - before))
echo "server CPU over 5 s with an unschedulable pod: $used ms" >&2
expect_eq "an unschedulable pod does not make the server spin (< 500 ms CPU in 5 s)" "$((used < 500))" "1"
expect_eq "it stays Pending" "$(kc $v get pod nowhere -o jsonpath='{.status.phase}')" "Pending"
expect_match "with upstream's reason" \
  "$(kc $v get pod nowhere -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].message}')" \
  "0/3 nodes are available: 3 node\(s\) didn't match Pod's node affinity/selector"
kc $v label node sim-node-0001 disktype=none >/dev/null
wait_for "once a node matches, the pod is scheduled there" "sim-node-0001" \
  kc $v get pod nowhere -o jsonpath='{.spec.nodeName}'
kc $v delete pod nowhere --wait=false >/dev/null

# A selector that matches nothing: a Service with no endpoints, and no errors.
kc $v create service clusterip lonely --tcp=80:80 >/dev/null
kc $v set selector service lonely app=nothing >/dev/null
sleep 1
expect_eq "a Service selecting nothing has an empty EndpointSlice" \
  "$(kc $v get endpointslices -l kubernetes.io/service-name=lonely -o jsonpath='{.items[0].endpoints[*].addresses}')" ""

# A user fighting the controllers.
kc $v create deployment fight --image=nginx:1.27-alpine --replicas=3 >/dev/null
kc $v rollout status deploy/fight --timeout=60s >/dev/null 2>&1
victim=$(kc $v get pods -l app=fight -o jsonpath='{.items[0].metadata.name}')
kc $v label pod "$victim" app=escaped --overwrite >/dev/null
wait_for "a relabelled pod is released by its ReplicaSet" "" \
  kc $v get pod "$victim" -o jsonpath='{.metadata.ownerReferences}'
running_fight_pods() { kc $v get pods -l app=fight --no-headers | grep -c Running; }
wait_for "and replaced" "3" running_fight_pods
kc $v delete pod "$victim" >/dev/null
rs=$(kc $v get rs -l app=fight -o jsonpath='{.items[0].metadata.name}')
kc $v scale rs "$rs" --replicas=7 >/dev/null
wait_for "scaling a Deployment's ReplicaSet is undone by the Deployment" "3" \
  kc $v get rs "$rs" -o jsonpath='{.spec.replicas}'
kc $v delete rs "$rs" >/dev/null
wait_for "a deleted ReplicaSet is replaced" "3" kc $v get deploy fight -o jsonpath='{.status.readyReplicas}'

# kill -9 in the middle of a rollout; the restarted server finishes it.
kc $v scale deploy fight --replicas=6 >/dev/null
kc $v rollout status deploy/fight --timeout=60s >/dev/null 2>&1
kc $v set image deploy/fight nginx=nginx:1.28-alpine >/dev/null
sleep 0.3
server_kill9
server_start --simulate 3 --simulate-ready-delay 200
out=$(kc $v rollout status deploy/fight --timeout=60s 2>&1)
expect_match "after a kill -9 mid-rollout, the rollout completes" "$out" 'successfully rolled out'
expect_eq "every pod runs the new image" \
  "$(kc $v get pods -l app=fight -o jsonpath='{range .items[*]}{.spec.containers[0].image}{"\n"}{end}' | sort -u)" \
  "nginx:1.28-alpine"
expect_eq "six ready" "$(kc $v get deploy fight -o jsonpath='{.status.readyReplicas}')" "6"
kc $v delete deploy fight >/dev/null
kc $v delete svc lonely >/dev/null
e2e_finish
