#!/usr/bin/env bash
# Workloads end to end on three simulated nodes, driven by the real kubectl: the seed's
# web Deployment becomes ready, `rollout status|history|undo|pause|resume|restart` and
# `scale` behave as upstream, and deleting the Deployment removes its ReplicaSets and pods.
source "$(dirname "$0")/lib.sh"
server_start --simulate 3

for _ in $(seq 1 100); do
  [ "$(kc 1.33 get nodes --no-headers 2>/dev/null | grep -c ' Ready ')" -ge 3 ] && break
  sleep 0.1
done

for v in $KUBECTL_VERSIONS; do
  kc "$v" apply -f "$SEED_DIR/web.yaml" >/dev/null
  out=$(kc "$v" rollout status deploy/nginx-deployment --timeout=60s 2>&1)
  expect_match "[$v] rollout status" "$out" 'successfully rolled out'
  out=$(kc "$v" get deploy nginx-deployment --no-headers)
  expect_match "[$v] 3/3 ready" "$out" '^nginx-deployment +3/3 +3 +3 '
  expect_eq "[$v] three running pods" "$(kc "$v" get pods -l app=web --no-headers | grep -c Running)" "3"

  kc "$v" set image deploy/nginx-deployment nginx=nginx:1.28-alpine >/dev/null
  out=$(kc "$v" rollout status deploy/nginx-deployment --timeout=60s 2>&1)
  expect_match "[$v] rollout of a new image" "$out" 'successfully rolled out'
  out=$(kc "$v" rollout history deploy/nginx-deployment 2>&1)
  expect_match "[$v] history lists two revisions" "$out" '^2 '
  kc "$v" rollout undo deploy/nginx-deployment >/dev/null 2>&1
  kc "$v" rollout status deploy/nginx-deployment --timeout=60s >/dev/null 2>&1
  expect_eq "[$v] undo brings the old image back" \
    "$(kc "$v" get deploy nginx-deployment -o jsonpath='{.spec.template.spec.containers[0].image}')" "nginx:1.27-alpine"
  expect_eq "[$v] undo is a new revision" \
    "$(kc "$v" get deploy nginx-deployment -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}')" "3"

  kc "$v" rollout pause deploy/nginx-deployment >/dev/null
  kc "$v" set image deploy/nginx-deployment nginx=nginx:paused >/dev/null
  sleep 1
  expect_eq "[$v] paused: no new ReplicaSet" "$(kc "$v" get rs -l app=web --no-headers | wc -l)" "2"
  kc "$v" rollout resume deploy/nginx-deployment >/dev/null
  kc "$v" rollout status deploy/nginx-deployment --timeout=60s >/dev/null 2>&1
  expect_eq "[$v] resumed: the paused change rolled out" \
    "$(kc "$v" get deploy nginx-deployment -o jsonpath='{.status.updatedReplicas}/{.status.readyReplicas}')" "3/3"

  kc "$v" scale deploy/nginx-deployment --replicas=5 >/dev/null
  kc "$v" rollout status deploy/nginx-deployment --timeout=60s >/dev/null 2>&1
  expect_eq "[$v] scale to 5" "$(kc "$v" get deploy nginx-deployment -o jsonpath='{.status.readyReplicas}')" "5"
  kc "$v" rollout restart deploy/nginx-deployment >/dev/null
  out=$(kc "$v" rollout status deploy/nginx-deployment --timeout=60s 2>&1)
  expect_match "[$v] rollout restart" "$out" 'successfully rolled out'

  kc "$v" delete deploy nginx-deployment >/dev/null
  for _ in $(seq 1 100); do
    [ "$(kc "$v" get rs,pods -l app=web --no-headers 2>/dev/null | wc -l)" -eq 0 ] && break
    sleep 0.1
  done
  expect_eq "[$v] delete cascades to ReplicaSets and pods" "$(kc "$v" get rs,pods -l app=web --no-headers 2>/dev/null | wc -l)" "0"
  kc "$v" delete svc web-svc >/dev/null 2>&1
done
e2e_finish
