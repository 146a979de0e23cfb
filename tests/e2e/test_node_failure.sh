#!/usr/bin/env bash
# A node that stops heartbeating (simulated): within the configured grace it turns
# NotReady/Unknown and is tainted unreachable, its pod is evicted after the pod's
# tolerationSeconds, and the ReplicaSet's replacement runs on another node.
source "$(dirname "$0")/lib.sh"
server_start --simulate 3 --node-monitor-grace-period 2

for _ in $(seq 1 100); do
  [ "$(kc 1.33 get nodes --no-headers 2>/dev/null | grep -c ' Ready ')" -ge 3 ] && break
  sleep 0.1
done
v=1.33
kc $v apply -f - >/dev/null <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata: {name: survivor}
spec:
  replicas: 2
  selector: {matchLabels: {app: survivor}}
  template:
    metadata: {labels: {app: survivor}}
    spec:
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: survivor}}
            topologyKey: kubernetes.io/hostname
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 1}
      containers:
      - {name: c, image: nginx}
Y
kc $v rollout status deploy/survivor --timeout=60s >/dev/null 2>&1
victim=$(kc $v get pods -l app=survivor -o jsonpath='{.items[0].spec.nodeName}')
victim_pod=$(kc $v get pods -l app=survivor -o jsonpath='{.items[0].metadata.name}')
expect_match "a pod runs on a simulated node" "$victim" '^sim-node-000[0-2]$'
kc $v label node "$victim" k8c.io/simulate-heartbeat=stopped >/dev/null

for _ in $(seq 1 150); do
  status=$(kc $v get node "$victim" --no-headers | awk '{print $2}')
  [ "$status" = "NotReady" ] && break
  sleep 0.1
done
expect_eq "the silent node turns NotReady" "$status" "NotReady"
expect_match "it is tainted unreachable" "$(kc $v get node "$victim" -o jsonpath='{.spec.taints[*].key}')" \
  'node.kubernetes.io/unreachable'

for _ in $(seq 1 200); do
  others=$(kc $v get pods -l app=survivor -o jsonpath='{range .items[?(@.metadata.deletionTimestamp)]}{.metadata.name}{end}')
  running=$(kc $v get pods -l app=survivor --field-selector=status.phase=Running -o jsonpath='{range .items[*]}{.spec.nodeName}{" "}{.metadata.deletionTimestamp}{"\n"}{end}' | awk 'NF==1 {print $1}' | sort -u | grep -vc "^$victim$")
  [ "$running" -ge 2 ] && break
  sleep 0.1
done
expect_match "its pod was evicted" "$others" "$victim_pod"
expect_eq "two replicas run again, away from the silent node" "$running" "2"
out=$(kc $v get events --field-selector reason=TaintManagerEviction -o jsonpath='{.items[*].message}')
expect_match "eviction event" "$out" "Marking for deletion Pod default/$victim_pod"
e2e_finish
