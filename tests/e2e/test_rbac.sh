#!/usr/bin/env bash
# RBAC through the real kubectl: a user with a client certificate from the cluster's
# client CA (alice, group dev) is forbidden everything at first, in upstream's words;
# a RoleBinding to the bootstrap `view` ClusterRole lets her read one namespace only,
# a ClusterRoleBinding of her group to `edit` lets her write, and `kubectl auth can-i`
# (SelfSubjectAccessReview) answers as the authorizer decides.
source "$(dirname "$0")/lib.sh"
server_start
tls=$DATA_DIR/server/tls
openssl req -new -newkey rsa:2048 -nodes -keyout "$E2E_TMP/alice.key" -subj "/O=dev/CN=alice" \
  -out "$E2E_TMP/alice.csr" 2>/dev/null
openssl x509 -req -in "$E2E_TMP/alice.csr" -CA "$tls/client-ca.crt" -CAkey "$tls/client-ca.key" \
  -CAcreateserial -days 1 -out "$E2E_TMP/alice.crt" 2>/dev/null
cp "$KUBECONFIG_FILE" "$E2E_TMP/alice.yaml"
KUBECONFIG=$E2E_TMP/alice.yaml "$(kubectl_bin 1.33)" config set-credentials alice \
  --client-certificate="$E2E_TMP/alice.crt" --client-key="$E2E_TMP/alice.key" --embed-certs >/dev/null
KUBECONFIG=$E2E_TMP/alice.yaml "$(kubectl_bin 1.33)" config set-context --current --user=alice >/dev/null
# as VERSION ARGS...: kubectl as alice.
as() {
  local v=$1
  shift
  HOME=$E2E_TMP/home-alice-$v KUBECONFIG=$E2E_TMP/alice.yaml "$(kubectl_bin "$v")" --request-timeout=20s "$@"
}

for v in 1.27 1.33; do
  out=$(as $v get pods 2>&1)
  expect_match "[$v] without bindings: Forbidden in upstream's words" "$out" \
    'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"'
  expect_eq "[$v] auth can-i says no" "$(as $v auth can-i list pods 2>/dev/null)" "no"
  expect_eq "[$v] the admin may do anything" "$(kc $v auth can-i '*' '*' --all-namespaces 2>/dev/null)" "yes"
done

kc 1.33 create namespace other >/dev/null
kc 1.33 create configmap c1 -n default --from-literal=a=b >/dev/null
kc 1.33 create secret generic s1 -n default --from-literal=p=q >/dev/null
kc 1.33 create rolebinding alice-view --clusterrole=view --user=alice -n default >/dev/null
sleep 0.5
for v in 1.27 1.33; do
  expect_eq "[$v] view: reads configmaps in default" "$(as $v get configmap c1 -o name 2>&1)" "configmap/c1"
  out=$(as $v get secrets 2>&1)
  expect_match "[$v] view: not secrets" "$out" 'secrets is forbidden: User "alice" cannot list resource "secrets"'
  out=$(as $v get configmaps -n other 2>&1)
  expect_match "[$v] view: not another namespace" "$out" 'in the namespace "other"'
  expect_eq "[$v] can-i get pods in default" "$(as $v auth can-i get pods 2>/dev/null)" "yes"
  expect_eq "[$v] can-i create deployments" "$(as $v auth can-i create deployments.apps 2>/dev/null)" "no"
  out=$(as $v create deployment web --image=nginx 2>&1)
  expect_match "[$v] view: no writes" "$out" 'deployments.apps is forbidden: User "alice" cannot create resource "deployments" in API group "apps"'
done

kc 1.33 create clusterrolebinding dev-edit --clusterrole=edit --group=dev >/dev/null
sleep 0.5
expect_eq "edit through the group: create in another namespace" \
  "$(as 1.33 create deployment web --image=nginx -n other -o name 2>&1)" "deployment.apps/web"
expect_eq "edit: secrets readable now" "$(as 1.33 get secret s1 -o name 2>&1)" "secret/s1"
expect_eq "edit: still no RBAC changes" "$(as 1.33 auth can-i create rolebindings 2>/dev/null)" "no"
out=$(as 1.33 get nodes 2>&1)
expect_match "edit: no cluster-scoped reads" "$out" 'nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope'
kc 1.33 delete clusterrolebinding dev-edit >/dev/null
sleep 0.5
out=$(as 1.33 delete deployment web -n other 2>&1)
expect_match "a removed binding takes effect" "$out" 'forbidden'
kc 1.33 delete namespace other --wait=false >/dev/null
e2e_finish
