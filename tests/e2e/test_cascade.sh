#!/usr/bin/env bash
# Cascading deletion through the real kubectl, in each propagation mode: background
# (the Deployment goes at once, its ReplicaSet and pods after it), foreground (the
# Deployment stays, with the foregroundDeletion finalizer, until its dependents are gone —
# a finalizer on one pod holds them)
# and orphan (ReplicaSet and pods stay, without their ownerReference); then deleting a
# namespace empties it and removes it.
source "$(dirname "$0")/lib.sh"
server_start --simulate 2
for _ in $(seq 1 100); do
  [ "$(kc 1.33 get nodes --no-headers 2>/dev/null | grep -c ' Ready ')" -ge 2 ] && break
  sleep 0.1
done

# deploy VERSION NAME [NAMESPACE]: a 2-replica Deployment, rolled out.
deploy() {
  kc "$1" create deployment "$2" --image=nginx:1.27-alpine --replicas=2 -n "${3:-default}" >/dev/null
  kc "$1" rollout status "deploy/$2" -n "${3:-default}" --timeout=60s >/dev/null 2>&1
}
# gone VERSION WHAT...: waits until `get WHAT` lists nothing; prints what is left.
gone() {
  local v=$1
  shift
  for _ in $(seq 1 100); do
    [ -z "$(kc "$v" get "$@" --no-headers 2>/dev/null)" ] && return 0
    sleep 0.1
  done
  kc "$v" get "$@" --no-headers 2>&1 | wc -l
}

for v in 1.27 1.33; do
  deploy "$v" bg
  kc "$v" delete deploy bg --cascade=background >/dev/null
  expect_eq "[$v] background: dependents follow the Deployment" "$(gone "$v" rs,pods -l app=bg)" ""

  deploy "$v" fg
  # A finalizer on one pod holds the foreground deletion open until it is removed.
  held=$(kc "$v" get pods -l app=fg -o jsonpath='{.items[0].metadata.name}')
  kc "$v" patch pod "$held" --type=merge -p '{"metadata":{"finalizers":["example.com/hold"]}}' >/dev/null
  kc "$v" delete deploy fg --cascade=foreground --wait=false >/dev/null
  sleep 1
  expect_eq "[$v] foreground: the owner waits with the foregroundDeletion finalizer" \
    "$(kc "$v" get deploy fg -o jsonpath='{.metadata.finalizers}')" '["foregroundDeletion"]'
  expect_match "[$v] foreground: marked for deletion" \
    "$(kc "$v" get deploy fg -o jsonpath='{.metadata.deletionTimestamp}')" '^20[0-9-]+T'
  kc "$v" patch pod "$held" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
  expect_eq "[$v] foreground: then owner and dependents all go" "$(gone "$v" deploy/fg rs,pods -l app=fg)" ""

  deploy "$v" orph
  rs=$(kc "$v" get rs -l app=orph -o jsonpath='{.items[0].metadata.name}')
  kc "$v" delete deploy orph --cascade=orphan >/dev/null
  expect_eq "[$v] orphan: the Deployment is gone" "$(gone "$v" deploy/orph)" ""
  sleep 1
  expect_eq "[$v] orphan: the ReplicaSet stays" "$(kc "$v" get rs "$rs" -o name 2>&1)" "replicaset.apps/$rs"
  expect_eq "[$v] orphan: without an ownerReference" \
    "$(kc "$v" get rs "$rs" -o jsonpath='{.metadata.ownerReferences}')" ""
  expect_eq "[$v] orphan: its pods stay" "$(kc "$v" get pods -l app=orph --no-headers | wc -l)" "2"
  kc "$v" delete rs "$rs" >/dev/null
  expect_eq "[$v] deleting the orphan removes its pods" "$(gone "$v" pods -l app=orph)" ""
done

v=1.33
kc $v create namespace doomed >/dev/null
deploy $v app doomed
kc $v create configmap cfg -n doomed --from-literal=a=b >/dev/null
kc $v create service clusterip app -n doomed --tcp=80:80 >/dev/null
kc $v patch configmap cfg -n doomed --type=merge -p '{"metadata":{"finalizers":["example.com/hold"]}}' >/dev/null
kc $v delete namespace doomed --wait=false >/dev/null
sleep 2
expect_eq "namespace Terminating while content remains" "$(kc $v get ns doomed -o jsonpath='{.status.phase}')" "Terminating"
expect_match "the condition names the remaining finalizer" \
  "$(kc $v get ns doomed -o jsonpath='{.status.conditions[?(@.type=="NamespaceFinalizersRemaining")].message}')" \
  'example.com/hold in 1 resource instances'
expect_eq "everything else already gone" "$(kc $v get deploy,rs,pods,svc -n doomed --no-headers 2>/dev/null | wc -l)" "0"
kc $v patch configmap cfg -n doomed --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
expect_eq "then the namespace goes" "$(gone $v ns/doomed)" ""
expect_eq "with everything in it" \
  "$(kc $v get deploy,rs,pods,svc,cm -n doomed --no-headers 2>/dev/null | wc -l)" "0"
e2e_finish
