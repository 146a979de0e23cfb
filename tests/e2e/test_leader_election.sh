#!/usr/bin/env bash
# Leader election inside `k8c server`: the scheduler and the controller manager run while
# this server holds kube-system/kube-scheduler and kube-system/kube-controller-manager
# (holder hostname_uuid, MicroTime renewTime); a graceful stop releases both Leases
# (empty holder); --disable-leader-election runs both without Leases. (Two servers on one
# datastore need a shared store: SQLite is single-process, so that waits for etcd.)
source "$(dirname "$0")/lib.sh"
server_start --simulate 1
v=1.33

for _ in $(seq 1 100); do
  n=$(kc $v get leases -n kube-system --no-headers 2>/dev/null | awk '$2!=""' | wc -l)
  [ "$n" -ge 2 ] && break
  sleep 0.1
done
host=$(hostname)
for l in kube-scheduler kube-controller-manager; do
  expect_match "$l Lease held by hostname_uuid" \
    "$(kc $v get lease -n kube-system $l -o jsonpath='{.spec.holderIdentity}')" \
    "^${host}_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}\$"
  expect_match "$l renewTime is a MicroTime" \
    "$(kc $v get lease -n kube-system $l -o jsonpath='{.spec.renewTime}')" \
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$'
  expect_eq "$l leaseDurationSeconds" \
    "$(kc $v get lease -n kube-system $l -o jsonpath='{.spec.leaseDurationSeconds}')" "15"
done

# The leading scheduler and controllers do their work: a Deployment's pod gets a node.
kc $v create deployment web --image=nginx >/dev/null
for _ in $(seq 1 100); do
  node=$(kc $v get pods -l app=web -o jsonpath='{.items[0].spec.nodeName}' 2>/dev/null)
  [ -n "$node" ] && break
  sleep 0.1
done
expect_eq "the leading controllers and scheduler place the pod" "$node" "sim-node-0000"

server_stop
server_start --disable-leader-election --disable-scheduler --disable-controller-manager
for l in kube-scheduler kube-controller-manager; do
  expect_eq "graceful stop released $l" \
    "$(kc $v get lease -n kube-system $l -o jsonpath='{.spec.holderIdentity}')" ""
done
server_stop

# Restarted, the server takes the released Leases at once.
server_start
for _ in $(seq 1 50); do
  h=$(kc $v get lease -n kube-system kube-scheduler -o jsonpath='{.spec.holderIdentity}')
  [ -n "$h" ] && break
  sleep 0.1
done
expect_match "a released Lease is taken at once" "$h" "^${host}_"
expect_eq "leaseTransitions counts the change of holder" \
  "$(kc $v get lease -n kube-system kube-scheduler -o jsonpath='{.spec.leaseTransitions}')" "1"
e2e_finish
