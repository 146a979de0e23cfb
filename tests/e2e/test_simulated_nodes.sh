#!/usr/bin/env bash
# Simulated nodes seen through the real kubectl: `k8c server --simulate 3` gives three
# Ready nodes with upstream's columns and three Leases in kube-node-lease; a pod bound to
# one runs with an IP from its pod CIDR and goes away on delete; the heartbeat label
# stops a node's lease renewals.
source "$(dirname "$0")/lib.sh"
server_start --simulate 3

# Registration is asynchronous: give it a moment (it takes milliseconds).
for _ in $(seq 1 100); do
  n=$(kc 1.33 get leases -n kube-node-lease --no-headers 2>/dev/null | wc -l)
  [ "$n" -ge 3 ] && break
  sleep 0.1
done

for v in $KUBECTL_VERSIONS; do
  out=$(kc "$v" get nodes)
  expect_match "[$v] get nodes: upstream columns" "$(echo "$out" | head -1)" \
    '^NAME +STATUS +ROLES +AGE +VERSION$'
  expect_eq "[$v] get nodes: 3 Ready nodes" \
    "$(echo "$out" | tail -n +2 | awk '$2=="Ready" && $3=="<none>" && $5=="v1.31.0+k8c.0.1.0" {print $1}' | tr '\n' ' ')" \
    "sim-node-0000 sim-node-0001 sim-node-0002 "
  out=$(kc "$v" get leases -n kube-node-lease)
  expect_match "[$v] get leases: columns" "$(echo "$out" | head -1)" '^NAME +HOLDER +AGE$'
  expect_eq "[$v] get leases: one per node, held by it" \
    "$(echo "$out" | tail -n +2 | awk '$1==$2 {print $1}' | tr '\n' ' ')" \
    "sim-node-0000 sim-node-0001 sim-node-0002 "
done

out=$(kc 1.33 get nodes -o wide --no-headers)
expect_match "get nodes -o wide: InternalIP and runtime" "$out" \
  'sim-node-0001 +Ready .* 198\.18\.0\.3 +<none> +k8c simulated node +simulated +sim://'
out=$(kc 1.33 get nodes -L topology.kubernetes.io/zone --no-headers | awk '{print $1, $6}' | tr '\n' ' ')
expect_eq "zones spread over three" "$out" "sim-node-0000 zone-a sim-node-0001 zone-b sim-node-0002 zone-c "
out=$(kc 1.33 get node sim-node-0002 -o jsonpath='{.spec.podCIDR} {.status.capacity.pods} {.status.allocatable.cpu}')
expect_eq "pod CIDR and capacity" "$out" "10.42.2.0/24 110 8"

# A pod placed on a node by spec.nodeName runs there (no scheduler needed).
cat >"$E2E_TMP/pod.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: sim-web
spec:
  nodeName: sim-node-0002
  containers:
  - name: web
    image: nginx:1.25
EOF
kc 1.33 apply -f "$E2E_TMP/pod.yaml" >/dev/null
out=$(kc 1.33 wait --for=condition=Ready pod/sim-web --timeout=20s 2>&1)
expect_match "pod on a simulated node becomes Ready" "$out" "condition met"
out=$(kc 1.33 get pod sim-web -o wide --no-headers)
expect_match "get pod -o wide: Running with an IP of the node's CIDR" "$out" \
  '^sim-web +1/1 +Running +0 +[0-9a-z]+ +10\.42\.2\.[0-9]+ +sim-node-0002 '
out=$(kc 1.33 delete pod sim-web --timeout=20s 2>&1)
expect_match "delete pod completes (the kubelet finishes it)" "$out" 'pod "sim-web" deleted'
expect_eq "pod is gone" "$(kc 1.33 get pods --no-headers 2>/dev/null | wc -l)" "0"

# The heartbeat label: renewals stop while it is there.
kc 1.33 label node sim-node-0001 k8c.io/simulate-heartbeat=stopped >/dev/null
sleep 1
t1=$(kc 1.33 get lease -n kube-node-lease sim-node-0001 -o jsonpath='{.spec.renewTime}')
o1=$(kc 1.33 get lease -n kube-node-lease sim-node-0000 -o jsonpath='{.spec.renewTime}')
sleep 11 # longer than the 10 s renewal period
t2=$(kc 1.33 get lease -n kube-node-lease sim-node-0001 -o jsonpath='{.spec.renewTime}')
o2=$(kc 1.33 get lease -n kube-node-lease sim-node-0000 -o jsonpath='{.spec.renewTime}')
expect_eq "stopped node: no lease renewal" "$t2" "$t1"
expect_no_match "live node: lease renewed meanwhile" "$o2" "^$o1\$"
kc 1.33 label node sim-node-0001 k8c.io/simulate-heartbeat- >/dev/null
sleep 1
t3=$(kc 1.33 get lease -n kube-node-lease sim-node-0001 -o jsonpath='{.spec.renewTime}')
expect_no_match "resumed node: lease renewed at once" "$t3" "^$t1\$"
e2e_finish
