#!/usr/bin/env bash
# StatefulSet and DaemonSet through the real kubectl on three simulated nodes: a
# StatefulSet of 3 behind a headless Service gets web-0, web-1, web-2 in order (each only
# once the previous is Ready), hostname/subdomain and claims from volumeClaimTemplates,
# endpoint hostnames for DNS, scales down from the highest ordinal keeping the claims and
# rolls an image change; a DaemonSet gets one pod per node, keeps its pod on a node newly
# tainted NoSchedule but does not replace it there unless tolerated, and rolls an image
# change that `kubectl rollout status` follows to the end. Both record ControllerRevisions:
# `kubectl rollout history` lists them and shows a revision's template, `kubectl rollout
# undo` patches the set back to one (which the controller re-uses with the next number), a
# partitioned StatefulSet recreates pods below the partition from the current revision, and
# revisionHistoryLimit prunes revisions no pod uses.
source "$(dirname "$0")/lib.sh"
server_start --simulate 3

for _ in $(seq 1 100); do
  n=$(kc 1.33 get nodes --no-headers 2>/dev/null | grep -c ' Ready ')
  [ "$n" -ge 3 ] && break
  sleep 0.1
done

cat >"$E2E_TMP/web.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  clusterIP: None
  selector:
    app: web
  ports:
  - port: 80
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: web
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
        volumeMounts:
        - name: www
          mountPath: /usr/share/nginx/html
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes: ["ReadWriteOnce"]
      resources:
        requests:
          storage: 1Gi
YAML
kc 1.33 apply -f "$E2E_TMP/web.yaml" >/dev/null

# Ordered creation: whenever web-N exists, web-0..web-N-1 exist and are Ready.
ordered=yes
for _ in $(seq 1 300); do
  state=$(kc 1.33 get pods -l app=web -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}' 2>/dev/null)
  for i in 1 2; do
    if [[ "$state" == *"web-$i="* ]] && [[ "$state" != *"web-$((i - 1))=True"* ]]; then
      ordered="no: web-$i while [$state]"
    fi
  done
  [[ "$state" == *"web-2=True"* ]] && break
  sleep 0.1
done
expect_eq "statefulset: pods created in order, each after the previous is Ready" "$ordered" "yes"
out=$(kc 1.33 rollout status statefulset/web --timeout=60s 2>&1)
expect_match "kubectl rollout status statefulset completes" "$out" "roll(ing update|out) complete|partitioned roll out complete"
out=$(kc 1.33 get sts web --no-headers)
expect_match "get sts: 3/3 ready" "$out" '^web +3/3 '
out=$(kc 1.33 get pod web-1 -o jsonpath='{.spec.hostname} {.spec.subdomain} {.metadata.labels.statefulset\.kubernetes\.io/pod-name} {.metadata.labels.apps\.kubernetes\.io/pod-index} {.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].controller}')
expect_eq "web-1: hostname, subdomain, identity labels, controller reference" "$out" "web-1 web web-1 1 StatefulSet/true"
out=$(kc 1.33 get pod web-0 -o jsonpath='{.spec.volumes[?(@.name=="www")].persistentVolumeClaim.claimName}')
expect_eq "web-0 mounts its claim" "$out" "www-web-0"
out=$(kc 1.33 get pvc -o name | sort | tr '\n' ' ')
expect_eq "claims from volumeClaimTemplates" "$out" \
  "persistentvolumeclaim/www-web-0 persistentvolumeclaim/www-web-1 persistentvolumeclaim/www-web-2 "
hosts=""
for _ in $(seq 1 50); do
  hosts=$(kc 1.33 get endpointslices -l kubernetes.io/service-name=web -o jsonpath='{.items[*].endpoints[*].hostname}' | tr ' ' '\n' | sort | tr '\n' ' ')
  [ "$hosts" = "web-0 web-1 web-2 " ] && break
  sleep 0.1
done
expect_eq "headless service endpoints carry the pod hostnames (web-0.web...)" "$hosts" "web-0 web-1 web-2 "
rev=$(kc 1.33 get sts web -o jsonpath='{.status.currentRevision}={.status.updateRevision} {.status.currentReplicas}/{.status.updatedReplicas}/{.status.availableReplicas}')
expect_match "status: revisions and counts" "$rev" '^web-([a-z0-9]+)=web-\1 3/3/3$'

# Scale down: web-2 goes first, then web-1; the claims stay.
kc 1.33 get pods -l app=web --watch-only --output-watch-events \
  -o jsonpath='{.type} {.object.metadata.name}{"\n"}' >"$E2E_TMP/watch.txt" 2>/dev/null &
watch_pid=$!
sleep 0.5
kc 1.33 scale sts web --replicas=1 >/dev/null
for _ in $(seq 1 200); do
  [ "$(kc 1.33 get pods -l app=web --no-headers 2>/dev/null | wc -l)" -eq 1 ] && break
  sleep 0.1
done
sleep 0.3
kill "$watch_pid" 2>/dev/null
wait "$watch_pid" 2>/dev/null
out=$(grep '^DELETED' "$E2E_TMP/watch.txt" | awk '{print $2}' | tr '\n' ' ')
expect_eq "scale to 1: web-2 deleted, then web-1" "$out" "web-2 web-1 "
expect_eq "web-0 remains" "$(kc 1.33 get pods -l app=web -o name)" "pod/web-0"
expect_eq "claims kept on scale-down (Retain)" "$(kc 1.33 get pvc --no-headers | wc -l)" "3"

# An image change rolls (web-0 alone now) and rollout status follows it.
kc 1.33 scale sts web --replicas=2 >/dev/null
kc 1.33 rollout status statefulset/web --timeout=60s >/dev/null 2>&1
kc 1.33 set image sts/web nginx=nginx:1.26 >/dev/null
out=$(kc 1.27 rollout status statefulset/web --timeout=60s 2>&1)
expect_match "[1.27] rollout status after an image change completes" "$out" "complete"
out=$(kc 1.33 get pods -l app=web -o jsonpath='{.items[*].spec.containers[0].image}')
expect_eq "every stateful pod runs the new image" "$out" "nginx:1.26 nginx:1.26"

# ---------- StatefulSet revisions: ControllerRevisions, rollout history and undo ----------
revs_of() { # NAME:REVISION of the revisions controlled by $1 (kind.group/name), by revision
  kc 1.33 get controllerrevisions --no-headers | awk -v c="$1" '$2 == c {print $3 ":" $1}' | sort -n | tr '\n' ' '
}
out=$(kc 1.33 get controllerrevisions 2>&1)
expect_match "get controllerrevisions: upstream's columns" "$out" '^NAME +CONTROLLER +REVISION +AGE'
expect_match "get controllerrevisions: one per template, controller and number" "$out" \
  'web-[a-z0-9]+ +statefulset\.apps/web +2 '
rev_names=$(revs_of statefulset.apps/web)
expect_match "statefulset: revisions 1 and 2" "$rev_names" '^1:web-[a-z0-9]+ 2:web-[a-z0-9]+ $'
rev2=$(echo "$rev_names" | tr ' ' '\n' | awk -F: '$1 == 2 {print $2}')
out=$(kc 1.33 get sts web -o jsonpath='{.status.currentRevision}={.status.updateRevision}')
expect_eq "status revisions name the ControllerRevision" "$out" "$rev2=$rev2"
out="$(kc 1.33 get controllerrevision "$rev2" -o json | grep -c '"\$patch": "replace"') $(kc 1.33 get controllerrevision "$rev2" -o jsonpath='{.data.spec.template.spec.containers[0].image} {.metadata.labels.app} {.metadata.ownerReferences[0].kind}')"
expect_eq "revision data: the template as a replace patch; labels; owner" "$out" "1 nginx:1.26 web StatefulSet"
out=$(kc 1.33 get pods web-0 -o jsonpath='{.metadata.labels.controller-revision-hash}')
expect_eq "stateful pods carry the revision name" "$out" "$rev2"
out=$(kc 1.33 patch controllerrevision "$rev2" --type=merge -p '{"data":{"spec":{"template":null}}}' 2>&1)
expect_match "revision data is immutable" "$out" 'data: Invalid value: .*field is immutable'
for v in 1.27 1.33; do
  out=$(kc "$v" rollout history sts/web 2>&1)
  expect_match "[$v] rollout history sts lists revisions 1 and 2" "$(echo "$out" | tr -s ' \n' ' ')" \
    'REVISION CHANGE-CAUSE 1 <none> 2 <none>'
  out=$(kc "$v" rollout history sts/web --revision 1 2>&1)
  expect_match "[$v] rollout history sts --revision 1 shows its template" "$out" 'Image:[[:space:]]+nginx:1\.25'
done
out=$(kc 1.27 rollout undo sts/web 2>&1)
expect_match "[1.27] rollout undo sts" "$out" 'statefulset.apps/web rolled back'
kc 1.33 rollout status statefulset/web --timeout=60s >/dev/null 2>&1
out=$(kc 1.33 get pods -l app=web -o jsonpath='{.items[*].spec.containers[0].image}')
expect_eq "undo: the pods run the previous image again" "$out" "nginx:1.25 nginx:1.25"
out=$(revs_of statefulset.apps/web | sed 's/:web-[a-z0-9]*//g')
expect_eq "undo re-uses revision 1 as revision 3" "$out" "2 3 "
out=$(kc 1.33 rollout undo sts/web --to-revision=2 2>&1)
expect_match "[1.33] rollout undo sts --to-revision=2" "$out" 'statefulset.apps/web rolled back'
kc 1.33 rollout status statefulset/web --timeout=60s >/dev/null 2>&1
out=$(kc 1.33 get pods -l app=web -o jsonpath='{.items[*].spec.containers[0].image}')
expect_eq "undo --to-revision=2: back to nginx:1.26" "$out" "nginx:1.26 nginx:1.26"
expect_eq "revision numbers after the second undo" "$(revs_of statefulset.apps/web | sed 's/:web-[a-z0-9]*//g')" "3 4 "
out=$(kc 1.27 rollout undo sts/web --to-revision=4 2>&1)
expect_match "[1.27] undo sts to the revision it runs is skipped" "$out" \
  'skipped rollback \(current template already matches revision 4\)'

# A partitioned update leaves web-0 at the current revision, and web-0 deleted comes
# back from that revision's template, not the new one.
kc 1.33 patch sts web -p '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":1}}}}' >/dev/null
kc 1.33 set image sts/web nginx=nginx:1.27 >/dev/null
for _ in $(seq 1 200); do
  [ "$(kc 1.33 get pods -l app=web -o jsonpath='{.items[*].spec.containers[0].image}')" = "nginx:1.26 nginx:1.27" ] && break
  sleep 0.1
done
old_uid=$(kc 1.33 get pod web-0 -o jsonpath='{.metadata.uid}')
kc 1.33 delete pod web-0 --wait=false >/dev/null
for _ in $(seq 1 200); do
  out=$(kc 1.33 get pod web-0 -o jsonpath='{.metadata.uid}|{.metadata.deletionTimestamp}|{.status.phase}' 2>/dev/null)
  [[ "$out" != "$old_uid|"* && "$out" == *"||Running" ]] && break
  sleep 0.1
done
expect_match "partition 1: web-0 deleted comes back as a new pod" "$out" '^[0-9a-f-]+\|\|Running$'
out=$(kc 1.33 get pods -l app=web -o jsonpath='{.items[*].spec.containers[0].image}')
expect_eq "partition 1: web-0 recreated from the current revision, web-1 updated" "$out" "nginx:1.26 nginx:1.27"
out=$(kc 1.33 get sts web -o jsonpath='{.status.currentRevision} {.status.updateRevision}')
cur=$(kc 1.33 get pod web-0 -o jsonpath='{.metadata.labels.controller-revision-hash}')
upd=$(kc 1.33 get pod web-1 -o jsonpath='{.metadata.labels.controller-revision-hash}')
expect_eq "partition 1: pods labelled with current and update revision" "$out" "$cur $upd"

# revisionHistoryLimit 1 (it is fixed at creation): of four templates of a set without
# pods, the one in use and the one before it remain.
cat >"$E2E_TMP/hist.yaml" <<'YAML'
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: hist
spec:
  serviceName: hist
  replicas: 0
  revisionHistoryLimit: 1
  selector:
    matchLabels:
      app: hist
  template:
    metadata:
      labels:
        app: hist
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
YAML
kc 1.33 apply -f "$E2E_TMP/hist.yaml" >/dev/null
for tag in 1.26 1.27 1.28; do
  for _ in $(seq 1 50); do
    [ "$(kc 1.33 get sts hist -o jsonpath='{.status.observedGeneration}')" = \
      "$(kc 1.33 get sts hist -o jsonpath='{.metadata.generation}')" ] && break
    sleep 0.1
  done
  kc 1.33 set image sts/hist nginx=nginx:$tag >/dev/null
done
for _ in $(seq 1 100); do
  out=$(revs_of statefulset.apps/hist | sed 's/:hist-[a-z0-9]*//g')
  [ "$out" = "3 4 " ] && break
  sleep 0.1
done
expect_eq "revisionHistoryLimit 1 keeps the revision in use and one more" "$out" "3 4 "

# ---------- DaemonSet ----------
cat >"$E2E_TMP/ds.yaml" <<'YAML'
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels:
      app: agent
  template:
    metadata:
      labels:
        app: agent
    spec:
      containers:
      - name: agent
        image: busybox:1.36
YAML
kc 1.33 apply -f "$E2E_TMP/ds.yaml" >/dev/null
out=$(kc 1.33 rollout status ds/agent --timeout=60s 2>&1)
expect_match "kubectl rollout status ds completes" "$out" "successfully rolled out"
nodes_of() {
  kc 1.33 get pods -l "app=$1" -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort | tr '\n' ' '
}
expect_eq "daemonset: one pod per node" "$(nodes_of agent)" "sim-node-0000 sim-node-0001 sim-node-0002 "
out=$(kc 1.33 get ds agent --no-headers)
expect_match "get ds: 3 desired/current/ready/up-to-date/available" "$out" '^agent +3 +3 +3 +3 +3 '
out=$(kc 1.33 get pods -l app=agent -o jsonpath='{.items[0].spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].key} {.items[0].spec.tolerations[*].key}')
expect_match "daemon pods: pinned by metadata.name affinity, default tolerations" "$out" \
  '^metadata\.name .*node\.kubernetes\.io/not-ready.*node\.kubernetes\.io/unschedulable'

# NoSchedule on a node: the pod there stays, but once gone it is not replaced; a set
# tolerating the taint does run there.
kc 1.33 taint nodes sim-node-0002 maint=yes:NoSchedule >/dev/null
for _ in $(seq 1 50); do
  [ "$(kc 1.33 get ds agent -o jsonpath='{.status.desiredNumberScheduled}')" = "2" ] && break
  sleep 0.1
done
expect_eq "tainted node: no longer desired" "$(kc 1.33 get ds agent -o jsonpath='{.status.desiredNumberScheduled}/{.status.numberMisscheduled}')" "2/1"
expect_eq "tainted node: existing pod stays (NoSchedule)" "$(nodes_of agent)" "sim-node-0000 sim-node-0001 sim-node-0002 "
victim=$(kc 1.33 get pods -l app=agent --field-selector spec.nodeName=sim-node-0002 -o name)
kc 1.33 delete "$victim" --timeout=20s >/dev/null
sleep 1
expect_eq "tainted node: a deleted pod is not replaced" "$(nodes_of agent)" "sim-node-0000 sim-node-0001 "
sed -e 's/name: agent$/name: tolerant/' -e 's/app: agent/app: tolerant/' "$E2E_TMP/ds.yaml" >"$E2E_TMP/tolerant.yaml"
cat >>"$E2E_TMP/tolerant.yaml" <<'YAML'
      tolerations:
      - key: maint
        operator: Exists
        effect: NoSchedule
YAML
kc 1.33 apply -f "$E2E_TMP/tolerant.yaml" >/dev/null
kc 1.33 rollout status ds/tolerant --timeout=60s >/dev/null 2>&1
expect_eq "tolerating daemonset runs on the tainted node too" "$(nodes_of tolerant)" "sim-node-0000 sim-node-0001 sim-node-0002 "
kc 1.33 taint nodes sim-node-0002 maint- >/dev/null
for _ in $(seq 1 100); do
  [ "$(nodes_of agent)" = "sim-node-0000 sim-node-0001 sim-node-0002 " ] && break
  sleep 0.1
done
expect_eq "taint removed: the pod comes back" "$(nodes_of agent)" "sim-node-0000 sim-node-0001 sim-node-0002 "

# An image change rolls node by node and rollout status sees it through.
kc 1.33 set image ds/agent agent=busybox:1.37 >/dev/null
for v in 1.27 1.33; do
  out=$(kc "$v" rollout status ds/agent --timeout=60s 2>&1)
  expect_match "[$v] rollout status ds after an image change completes" "$out" "successfully rolled out"
done
out=$(kc 1.33 get pods -l app=agent -o jsonpath='{range .items[*]}{.spec.containers[0].image}/{.metadata.labels.pod-template-generation} {end}')
expect_eq "every daemon pod runs the new image (template generation 2)" "$out" "busybox:1.37/2 busybox:1.37/2 busybox:1.37/2 "

# DaemonSet revisions: history, undo (1.27 and 1.33) re-using the old revision.
for v in 1.27 1.33; do
  out=$(kc "$v" rollout history ds/agent 2>&1)
  expect_match "[$v] rollout history ds lists revisions 1 and 2" "$(echo "$out" | tr -s ' \n' ' ')" \
    'REVISION CHANGE-CAUSE 1 <none> 2 <none>'
  out=$(kc "$v" rollout history ds/agent --revision 2 2>&1)
  expect_match "[$v] rollout history ds --revision 2 shows its template" "$out" 'Image:[[:space:]]+busybox:1\.37'
done
hash1=$(kc 1.33 get controllerrevisions -l app=agent -o jsonpath='{range .items[?(@.revision==1)]}{.metadata.labels.controller-revision-hash}{end}')
out=$(kc 1.27 rollout undo ds/agent 2>&1)
expect_match "[1.27] rollout undo ds" "$out" 'daemonset.apps/agent rolled back'
out=$(kc 1.33 rollout status ds/agent --timeout=60s 2>&1)
expect_match "rollout status ds after undo completes" "$out" "successfully rolled out"
out=$(kc 1.33 get pods -l app=agent -o jsonpath='{range .items[*]}{.spec.containers[0].image}/{.metadata.labels.controller-revision-hash} {end}')
expect_eq "undo ds: pods run busybox:1.36 with revision 1's hash" "$out" \
  "busybox:1.36/$hash1 busybox:1.36/$hash1 busybox:1.36/$hash1 "
expect_eq "undo ds re-uses revision 1 as revision 3" "$(revs_of daemonset.apps/agent | sed 's/:agent-[a-z0-9]*//g')" "2 3 "
out=$(kc 1.33 rollout undo ds/agent 2>&1)
expect_match "[1.33] rollout undo ds" "$out" 'daemonset.apps/agent rolled back'
kc 1.33 rollout status ds/agent --timeout=60s >/dev/null 2>&1
out=$(kc 1.33 get pods -l app=agent -o jsonpath='{.items[*].spec.containers[0].image}')
expect_eq "second undo ds: busybox:1.37 again" "$out" "busybox:1.37 busybox:1.37 busybox:1.37"
expect_eq "revision numbers after the second ds undo" "$(revs_of daemonset.apps/agent | sed 's/:agent-[a-z0-9]*//g')" "3 4 "
out=$(kc 1.33 rollout undo ds/agent --to-revision=4 2>&1)
expect_match "[1.33] undo ds to the revision it runs is skipped" "$out" \
  'skipped rollback \(current template already matches revision 4\)'
e2e_finish
