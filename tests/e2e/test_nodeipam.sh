#!/usr/bin/env bash
# Node IPAM: a Node registered without spec.podCIDR gets the lowest free /24 of
# --cluster-cidr (blocks that simulated nodes chose for themselves are skipped), with an
# event; the block is reused once its node is deleted.
source "$(dirname "$0")/lib.sh"
server_start --simulate 2 --cluster-cidr 10.99.0.0/16
v=1.33
for _ in $(seq 1 100); do
  [ "$(kc $v get nodes --no-headers 2>/dev/null | grep -c ' Ready ')" -ge 2 ] && break
  sleep 0.1
done
expect_eq "simulated nodes chose blocks 0 and 1" \
  "$(kc $v get nodes -o jsonpath='{range .items[*]}{.spec.podCIDR}{" "}{end}')" "10.99.0.0/24 10.99.1.0/24 "
node_yaml() {
  printf 'apiVersion: v1\nkind: Node\nmetadata:\n  name: %s\n' "$1"
}
# wait_cidr NODE: the node's podCIDR once assigned (up to 10 s).
wait_cidr() {
  local got=""
  for _ in $(seq 1 100); do
    got=$(kc $v get node "$1" -o jsonpath='{.spec.podCIDR}' 2>/dev/null)
    [ -n "$got" ] && break
    sleep 0.1
  done
  echo "$got"
}
node_yaml real-1 | kc $v apply -f - >/dev/null
expect_eq "a new node gets the lowest free block" "$(wait_cidr real-1)" "10.99.2.0/24"
expect_eq "podCIDRs too" "$(kc $v get node real-1 -o jsonpath='{.spec.podCIDRs[0]}')" "10.99.2.0/24"
node_yaml real-2 | kc $v apply -f - >/dev/null
expect_eq "the next one the next block" "$(wait_cidr real-2)" "10.99.3.0/24"
expect_match "an event tells" \
  "$(kc $v get events -A --field-selector reason=CIDRAssignmentSucceeded -o jsonpath='{.items[*].message}')" \
  "Node real-1 was assigned pod CIDR 10.99.2.0/24"
kc $v delete node real-1 >/dev/null
sleep 0.5
node_yaml real-3 | kc $v apply -f - >/dev/null
expect_eq "a deleted node's block is reused" "$(wait_cidr real-3)" "10.99.2.0/24"
kc $v delete node real-2 real-3 >/dev/null
e2e_finish
