#!/usr/bin/env bash
# Scheduling on three simulated nodes, seen through kubectl: the seed's web Deployment
# with required pod anti-affinity on the hostname puts one pod on each node, and a fourth
# replica stays Pending with upstream's FailedScheduling message.
source "$(dirname "$0")/lib.sh"
server_start --simulate 3

for _ in $(seq 1 100); do
  [ "$(kc 1.33 get nodes --no-headers 2>/dev/null | grep -c ' Ready ')" -ge 3 ] && break
  sleep 0.1
done

python3 - "$SEED_DIR/web.yaml" >"$E2E_TMP/web-anti.yaml" <<'PY'
import sys
text = open(sys.argv[1]).read()
doc = text.split("\n---\n")[0]
doc = doc.replace("replicas: 3", "replicas: 4")
anti = """      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector:
              matchLabels:
                app: web
            topologyKey: kubernetes.io/hostname
      containers:"""
doc = doc.replace("      containers:", anti, 1)
print(doc)
PY

v=1.33
kc $v apply -f "$E2E_TMP/web-anti.yaml" >/dev/null
for _ in $(seq 1 100); do
  [ "$(kc $v get pods -l app=web --no-headers 2>/dev/null | grep -c Running)" -ge 3 ] && break
  sleep 0.1
done
sleep 1
expect_eq "three pods running" "$(kc $v get pods -l app=web --no-headers | grep -c Running)" "3"
expect_eq "one pod per node" \
  "$(kc $v get pods -l app=web -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | grep . | sort -u | wc -l)" "3"
pending=$(kc $v get pods -l app=web --no-headers | awk '$3=="Pending" {print $1}')
expect_eq "the fourth stays Pending" "$(echo "$pending" | grep -c .)" "1"
out=$(kc $v describe pod "$pending" 2>&1)
expect_match "FailedScheduling in upstream's words" "$out" \
  "FailedScheduling .*0/3 nodes are available: 3 node\(s\) didn't match pod anti-affinity rules"
expect_match "PodScheduled False, Unschedulable" \
  "$(kc $v get pod "$pending" -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].reason}')" "Unschedulable"
out=$(kc $v get events --field-selector reason=Scheduled -o jsonpath='{.items[*].message}')
expect_match "Scheduled events" "$out" 'Successfully assigned default/nginx-deployment-[a-z0-9-]+ to sim-node-000[0-2]'
kc $v delete -f "$E2E_TMP/web-anti.yaml" >/dev/null
e2e_finish
