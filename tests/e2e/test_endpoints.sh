#!/usr/bin/env bash
# Services through the real kubectl on simulated nodes: a Deployment's pods become the
# Service's Endpoints and EndpointSlice (with zones from the nodes), scaling follows,
# the kubernetes Endpoints stay the server's, and deleting the Service removes its
# slices.
source "$(dirname "$0")/lib.sh"
server_start --simulate 2

cat >"$E2E_TMP/web.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - {name: http, containerPort: 8080}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
YAML
kc 1.33 apply -f "$E2E_TMP/web.yaml" >/dev/null

count_addresses() {
  kc 1.33 get endpoints web -o jsonpath='{range .subsets[*].addresses[*]}{.ip}{"\n"}{end}' 2>/dev/null |
    grep -c .
}
for _ in $(seq 1 200); do
  [ "$(count_addresses)" = 3 ] && break
  sleep 0.1
done
expect_eq "endpoints list the 3 ready pods" "$(count_addresses)" "3"
for v in $KUBECTL_VERSIONS; do
  out=$(kc "$v" get endpoints web --no-headers)
  expect_match "[$v] get endpoints: ip:8080 entries" "$out" '^web +10\.42\.[0-9.]+:8080,10\.42\.[0-9.]+:8080,10\.42\.[0-9.]+:8080 '
  out=$(kc "$v" get endpointslices -l kubernetes.io/service-name=web --no-headers)
  expect_match "[$v] get endpointslices: one IPv4 slice on 8080" "$out" '^web-[a-z0-9]{5} +IPv4 +8080 +10\.42\.'
done
out=$(kc 1.33 get endpointslices -l kubernetes.io/service-name=web \
  -o jsonpath='{.items[0].metadata.labels.endpointslice\.kubernetes\.io/managed-by} {.items[0].metadata.ownerReferences[0].kind} {.items[0].endpoints[*].conditions.ready} {.items[0].endpoints[*].zone}')
expect_match "slice: managed-by, owner, ready, zones" "$out" \
  '^endpointslice-controller\.k8s\.io Service true true true zone-[ab] zone-[ab] zone-[ab]$'
out=$(kc 1.33 get endpoints kubernetes -o jsonpath='{.metadata.labels.endpointslice\.kubernetes\.io/skip-mirror}')
expect_eq "the kubernetes Endpoints keep the server's label" "$out" "true"

kc 1.33 scale deployment web --replicas=1 >/dev/null
for _ in $(seq 1 200); do
  [ "$(count_addresses)" = 1 ] && break
  sleep 0.1
done
expect_eq "scaling down shrinks the endpoints" "$(count_addresses)" "1"

kc 1.33 delete service web >/dev/null
for _ in $(seq 1 100); do
  n=$(kc 1.33 get endpointslices -l kubernetes.io/service-name=web --no-headers 2>/dev/null | wc -l)
  [ "$n" = 0 ] && break
  sleep 0.1
done
expect_eq "deleting the service removes its slices" \
  "$(kc 1.33 get endpointslices -l kubernetes.io/service-name=web --no-headers 2>/dev/null | wc -l)" "0"
expect_eq "and its Endpoints" "$(kc 1.33 get endpoints web --no-headers 2>/dev/null | wc -l)" "0"
e2e_finish
