#!/usr/bin/env bash
# A rolling update with maxSurge 1 / maxUnavailable 0 watched from outside: a real
# `kubectl get pods -w` records every pod event while the image changes on a 4-replica
# Deployment (pods turn Ready 300 ms after Running), and the recorded history proves that
# ready pods never drop below 4 and never exceed 5. Then `rollout undo` brings the old
# template back as a new revision and `rollout history` lists all three.
source "$(dirname "$0")/lib.sh"
server_start --simulate 3 --simulate-ready-delay 300
v=1.33
for _ in $(seq 1 100); do
  [ "$(kc $v get nodes --no-headers 2>/dev/null | grep -c ' Ready ')" -ge 3 ] && break
  sleep 0.1
done
cat >"$E2E_TMP/surge.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: surge
spec:
  replicas: 4
  strategy:
    type: RollingUpdate
    rollingUpdate: { maxSurge: 1, maxUnavailable: 0 }
  selector:
    matchLabels: { app: surge }
  template:
    metadata:
      labels: { app: surge }
    spec:
      containers:
      - name: web
        image: nginx:1.27-alpine
YAML
kc $v apply -f "$E2E_TMP/surge.yaml" >/dev/null
out=$(kc $v rollout status deploy/surge --timeout=60s 2>&1)
expect_match "initial rollout" "$out" 'successfully rolled out'

kc $v get pods -l app=surge -w --output-watch-events -o json >"$E2E_TMP/watch.json" 2>"$E2E_TMP/watch.err" &
watch_pid=$!
sleep 1
kc $v set image deploy/surge web=nginx:1.28-alpine >/dev/null
out=$(kc $v rollout status deploy/surge --timeout=60s 2>&1)
expect_match "rollout of the new image" "$out" 'successfully rolled out'
sleep 1
kill "$watch_pid" 2>/dev/null
wait "$watch_pid" 2>/dev/null

# Replays the watch: a pod counts as ready while its Ready condition is True; for the
# lower bound a terminating pod (deletionTimestamp set) no longer counts.
bounds=$(python3 - "$E2E_TMP/watch.json" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
dec, pos, events = json.JSONDecoder(), 0, []
while True:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos >= len(text):
        break
    ev, pos = dec.raw_decode(text, pos)
    events.append(ev)
ready, serving = {}, {}
lo, hi, seen_new, listed = 99, 0, False, False
for ev in events:
    pod = ev["object"]
    name = pod["metadata"]["name"]
    is_ready = any(c["type"] == "Ready" and c["status"] == "True"
                   for c in pod.get("status", {}).get("conditions", []))
    if pod["spec"]["containers"][0]["image"].endswith("1.28-alpine"):
        seen_new = True
    if ev["type"] == "DELETED":
        ready.pop(name, None); serving.pop(name, None)
    else:
        ready[name] = is_ready
        serving[name] = is_ready and "deletionTimestamp" not in pod["metadata"]
    # The watch opens with the current pods, one ADDED event each: the bound applies
    # from the moment all four have been listed.
    listed = listed or sum(serving.values()) >= 4
    if listed:
        lo = min(lo, sum(serving.values()))
    hi = max(hi, sum(ready.values()))
print(f"{lo} {hi} {len(events)} {seen_new}")
PY
)
read -r lo hi nev seen_new <<<"$bounds"
echo "watch: $nev events, ready pods min $lo max $hi" >&2
expect_eq "the watch saw the new template's pods" "$seen_new" "True"
expect_eq "ready pods never below 4" "$lo" "4"
expect_eq "ready pods never above 5" "$hi" "5"

kc $v rollout undo deploy/surge >/dev/null 2>&1
kc $v rollout status deploy/surge --timeout=60s >/dev/null 2>&1
expect_eq "undo brings the old image back" \
  "$(kc $v get deploy surge -o jsonpath='{.spec.template.spec.containers[0].image}')" "nginx:1.27-alpine"
expect_eq "as revision 3" \
  "$(kc $v get deploy surge -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}')" "3"
hist=$(kc $v rollout history deploy/surge 2>&1)
expect_match "history lists revisions 2 and 3" "$hist" $'2 +<none>\n3 +<none>'
kc $v delete -f "$E2E_TMP/surge.yaml" >/dev/null
e2e_finish
