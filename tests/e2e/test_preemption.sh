#!/usr/bin/env bash
# Priority and preemption on two simulated nodes (8 CPUs each), seen through kubectl:
# low-priority pods fill the cluster; a high-priority pod evicts exactly one of them (a
# Preempted event, DisruptionTarget), is nominated and then bound there; a pod with
# preemptionPolicy Never waits with upstream's message; an unknown class is refused.
source "$(dirname "$0")/lib.sh"
server_start --simulate 2
v=1.33

for _ in $(seq 1 100); do
  [ "$(kc $v get nodes --no-headers 2>/dev/null | grep -c ' Ready ')" -ge 2 ] && break
  sleep 0.1
done

cat >"$E2E_TMP/classes.yaml" <<'YAML'
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: low}
value: 10
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: polite}
value: 2000
preemptionPolicy: Never
YAML
kc $v apply -f "$E2E_TMP/classes.yaml" >/dev/null

pod() { # name class cpu
  cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1, labels: {app: $1}}
spec:
  priorityClassName: $2
  containers:
  - name: c
    image: nginx
    resources: {requests: {cpu: "$3"}}
YAML
}
for i in 1 2 3 4; do pod "filler-$i" low 4 | kc $v apply -f - >/dev/null; done
for _ in $(seq 1 100); do
  [ "$(kc $v get pods --no-headers 2>/dev/null | grep -c Running)" -ge 4 ] && break
  sleep 0.1
done
expect_eq "four fillers running" "$(kc $v get pods --no-headers | grep -c Running)" "4"
expect_eq "priority resolved by admission" "$(kc $v get pod filler-1 -o jsonpath='{.spec.priority}')" "10"

pod vip high 4 | kc $v apply -f - >/dev/null
for _ in $(seq 1 150); do
  [ -n "$(kc $v get pod vip -o jsonpath='{.spec.nodeName}' 2>/dev/null)" ] && break
  sleep 0.1
done
node=$(kc $v get pod vip -o jsonpath='{.spec.nodeName}')
expect_match "vip bound after preemption" "$node" "sim-node-000[01]"
expect_eq "exactly one filler evicted" "$(kc $v get pods --no-headers -l 'app in (filler-1,filler-2,filler-3,filler-4)' | wc -l)" "3"
out=$(kc $v get events --field-selector reason=Preempted -o jsonpath='{.items[*].message}')
expect_match "Preempted event" "$out" "Preempted by pod [0-9a-f-]+ on node $node"

pod waiter polite 4 | kc $v apply -f - >/dev/null
for _ in $(seq 1 100); do
  kc $v get events --field-selector involvedObject.name=waiter,reason=FailedScheduling -o name 2>/dev/null | grep -q . && break
  sleep 0.1
done
out=$(kc $v describe pod waiter 2>&1)
expect_match "preemptionPolicy Never in upstream's words" "$out" \
  "0/2 nodes are available: 2 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never."
expect_eq "the fillers survive a Never pod" "$(kc $v get pods --no-headers -l 'app in (filler-1,filler-2,filler-3,filler-4)' | wc -l)" "3"

out=$(pod ghost does-not-exist 1 | kc $v apply -f - 2>&1 || true)
expect_match "unknown class refused" "$out" \
  'pods "ghost" is forbidden: no PriorityClass with name does-not-exist was found'
e2e_finish
