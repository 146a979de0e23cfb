#!/usr/bin/env bash
# The seed's scheduling fragment (snippets.md: nodeSelector disktype=ssd, required
# anti-affinity on the hostname, a toleration for workload=batch:NoSchedule, zone spread
# with maxSkew 1 / DoNotSchedule) on eight simulated nodes whose labels and taints leave
# exactly one placement upstream would choose; the fifth replica stays Pending with
# upstream's FailedScheduling message, reasons counted and sorted as upstream does.
source "$(dirname "$0")/lib.sh"
server_start --simulate 8
v=1.33
for _ in $(seq 1 100); do
  [ "$(kc $v get nodes --no-headers 2>/dev/null | grep -c ' Ready ')" -ge 8 ] && break
  sleep 0.1
done
# Zones come from the simulated nodes: sim-node-000i is in zone-{a,b,c}[i % 3].
#   ssd:      0 (a) 1 (b) 2 (c) 3 (a) 4 (b) 6 (a)        no ssd: 5 (c) 7 (b)
#   taints:   2 workload=batch:NoSchedule (tolerated)    4 other=x:NoSchedule (not)
for i in 0 1 2 3 4 6; do kc $v label node "sim-node-000$i" disktype=ssd >/dev/null; done
kc $v taint node sim-node-0002 workload=batch:NoSchedule >/dev/null
kc $v taint node sim-node-0004 other=x:NoSchedule >/dev/null

cat >"$E2E_TMP/api.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 5
  selector:
    matchLabels: { app: api }
  template:
    metadata:
      labels: { app: api }
    spec:
      nodeSelector:
        disktype: ssd
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector:
              matchLabels: { app: api }
            topologyKey: "kubernetes.io/hostname"
      tolerations:
      - key: "workload"
        operator: "Equal"
        value: "batch"
        effect: "NoSchedule"
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: "topology.kubernetes.io/zone"
        whenUnsatisfiable: DoNotSchedule
        labelSelector:
          matchLabels: { app: api }
      containers:
      - name: api
        image: ghcr.io/example/api:1.2.3
        resources:
          requests: { cpu: 200m, memory: 256Mi }
YAML
kc $v apply -f "$E2E_TMP/api.yaml" >/dev/null
for _ in $(seq 1 100); do
  [ "$(kc $v get pods -l app=api --no-headers 2>/dev/null | grep -c Running)" -ge 4 ] &&
    [ "$(kc $v get events --field-selector reason=FailedScheduling --no-headers 2>/dev/null | wc -l)" -ge 1 ] && break
  sleep 0.1
done
sleep 1
placed=$(kc $v get pods -l app=api -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | grep . | sort)
# Zones a, b, c take one pod each first (a second pod in a zone before the others have
# one would be skew 2); the fourth can only go to zone a (b and c have no other eligible
# node: 4 is tainted, 5 and 7 lack ssd); a fifth would make zone a skew 2.
expect_eq "four pods placed" "$(echo "$placed" | grep -c .)" "4"
expect_eq "zone b: the ssd node without an untolerated taint" "$(echo "$placed" | grep -c 'sim-node-0001')" "1"
expect_eq "zone c: the tainted ssd node whose taint is tolerated" "$(echo "$placed" | grep -c 'sim-node-0002')" "1"
expect_eq "zone a: two pods on two of its three ssd nodes" \
  "$(echo "$placed" | grep -E 'sim-node-000[036]' | sort -u | wc -l)" "2"
expect_eq "never on the untolerated-taint node or nodes without ssd" \
  "$(echo "$placed" | grep -cE 'sim-node-000[457]')" "0"
pending=$(kc $v get pods -l app=api --no-headers | awk '$3=="Pending" {print $1}')
expect_eq "the fifth stays Pending" "$(echo "$pending" | grep -c .)" "1"
msg=$(kc $v get events --field-selector "involvedObject.name=$pending,reason=FailedScheduling" \
  -o jsonpath='{.items[0].message}')
expect_match "FailedScheduling in upstream's words, reasons sorted" "$msg" \
  "^0/8 nodes are available: 1 node\(s\) had untolerated taint \{other: x\}, 2 node\(s\) didn't match Pod's node affinity/selector, 2 node\(s\) didn't match pod anti-affinity rules, 3 node\(s\) didn't match pod topology spread constraints\. preemption: 0/8 nodes are available: 3 Preemption is not helpful for scheduling, 5 No preemption victims found for incoming pod\.$"
kc $v delete -f "$E2E_TMP/api.yaml" >/dev/null
e2e_finish
