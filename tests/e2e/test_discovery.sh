#!/usr/bin/env bash
# Discovery, OpenAPI and authentication as kubectl sees them: api-resources, explain,
# version, 401 without credentials, health endpoints open.
source "$(dirname "$0")/lib.sh"
server_start

for v in $KUBECTL_VERSIONS; do
  out=$(kc "$v" api-resources 2>&1)
  expect_match "[$v] api-resources lists deployments" "$out" 'deployments +deploy +apps/v1 +true +Deployment'
  expect_match "[$v] api-resources lists pods" "$out" 'pods +po +v1 +true +Pod'
  expect_match "[$v] api-resources lists controllerrevisions" "$out" 'controllerrevisions +apps/v1 +true +ControllerRevision'
  expect_match "[$v] api-resources lists CRDs" "$out" 'customresourcedefinitions +crd,crds +apiextensions.k8s.io/v1 +false'
  out=$(kc "$v" api-resources --namespaced=false -o name 2>&1)
  expect_match "[$v] api-resources cluster-scoped" "$out" '^nodes$'
  out=$(kc "$v" explain deployment.spec.strategy 2>&1)
  expect_match "[$v] explain deployment.spec.strategy" "$out" 'rollingUpdate'
  out=$(kc "$v" get ns 2>&1)
  expect_match "[$v] get ns" "$out" 'kube-system +Active'
  out=$(kc "$v" version -o json 2>&1)
  expect_match "[$v] version" "$out" '"gitVersion": "v1\.31'
done

code=$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/api/v1/namespaces")
expect_eq "no credentials: 401" "$code" "401"
code=$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/version")
expect_eq "version needs no credentials" "$code" "200"
for p in healthz livez readyz; do
  expect_eq "/$p open" "$(curl -sk "https://127.0.0.1:$PORT/$p")" "ok"
done
code=$(curl -sk -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong' "https://127.0.0.1:$PORT/api/v1/pods")
expect_eq "bad token: 401" "$code" "401"
e2e_finish
