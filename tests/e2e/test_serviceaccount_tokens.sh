#!/usr/bin/env bash
# ServiceAccount tokens through the real kubectl: `kubectl create token` (TokenRequest)
# with each kubectl, the token authenticating as system:serviceaccount:NS:NAME and
# RBAC applying to it, `kubectl auth whoami`, upstream's errors, tokens bound to a pod
# dying with it, the kube-api-access volume admission adds to pods, and the
# kube-root-ca.crt ConfigMap in every namespace holding the cluster's CA.
source "$(dirname "$0")/lib.sh"
server_start
ca=$DATA_DIR/server/tls/server-ca.crt
# as_token TOKEN VERSION ARGS...: kubectl with nothing but the bearer token.
as_token() {
  local token=$1 v=$2
  shift 2
  HOME=$E2E_TMP/home-token-$v "$(kubectl_bin "$v")" --kubeconfig=/dev/null --request-timeout=20s \
    --server "https://127.0.0.1:$PORT" --certificate-authority "$ca" --token "$token" "$@"
}

kc 1.33 create namespace team >/dev/null
kc 1.33 create serviceaccount robot -n team >/dev/null
for v in $KUBECTL_VERSIONS; do
  token=$(kc $v create token robot -n team --duration 20m 2>&1)
  expect_match "[$v] create token gives a JWT" "$token" '^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$'
  out=$(as_token "$token" $v get pods -n team 2>&1)
  expect_match "[$v] the token authenticates; RBAC forbids at first" "$out" \
    'pods is forbidden: User "system:serviceaccount:team:robot" cannot list resource "pods" in API group "" in the namespace "team"'
  out=$(as_token "$token" $v auth whoami 2>&1)
  expect_match "[$v] auth whoami names the service account" "$out" 'system:serviceaccount:team:robot'
  expect_match "[$v] ... and its groups" "$out" 'system:serviceaccounts:team'
done

kc 1.33 create rolebinding robot-view --clusterrole view --serviceaccount team:robot -n team >/dev/null
sleep 0.5
token=$(kc 1.33 create token robot -n team)
expect_eq "a RoleBinding to the service account applies" \
  "$(as_token "$token" 1.33 get serviceaccount robot -n team -o name 2>&1)" "serviceaccount/robot"
expect_eq "auth can-i for the service account" \
  "$(kc 1.33 auth can-i list pods -n team --as system:serviceaccount:team:robot 2>&1)" "yes"
out=$(as_token "not-a-token" 1.33 get pods -n team 2>&1)
expect_match "a made-up token is Unauthorized" "$out" 'Unauthorized|must be logged in'
out=$(as_token "${token%?}x" 1.33 get pods -n team 2>&1)
expect_match "a tampered token is Unauthorized" "$out" 'Unauthorized|must be logged in'

out=$(kc 1.33 create token robot -n team --duration 5m 2>&1)
expect_match "durations under 10 minutes are refused as upstream" "$out" \
  'spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes'
out=$(kc 1.33 create token ghost -n team 2>&1)
expect_match "a missing service account is NotFound" "$out" 'serviceaccounts "ghost" not found'
token=$(kc 1.33 create token robot -n team --audience vault)
out=$(as_token "$token" 1.33 get pods -n team 2>&1)
expect_match "a token for another audience does not reach the API" "$out" 'Unauthorized|must be logged in'

# Pods: the kube-api-access volume, and a token bound to a pod dies with it.
kc 1.33 run p1 -n team --image busybox --restart Never --overrides \
  '{"spec":{"serviceAccountName":"robot"}}' -- sleep 60 >/dev/null
vol=$(kc 1.33 get pod p1 -n team -o jsonpath='{.spec.volumes[0].name} {.spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds} {.spec.volumes[0].projected.sources[1].configMap.name}')
expect_match "admission adds the kube-api-access volume" "$vol" '^kube-api-access-[a-z0-9]{5} 3607 kube-root-ca.crt$'
expect_eq "... mounted read-only where in-cluster clients look" \
  "$(kc 1.33 get pod p1 -n team -o jsonpath='{.spec.containers[0].volumeMounts[0].mountPath} {.spec.containers[0].volumeMounts[0].readOnly}')" \
  "/var/run/secrets/kubernetes.io/serviceaccount true"
bound=$(kc 1.33 create token robot -n team --bound-object-kind Pod --bound-object-name p1 2>&1)
expect_eq "a pod-bound token works while the pod lives" \
  "$(as_token "$bound" 1.33 get serviceaccount robot -n team -o name 2>&1)" "serviceaccount/robot"
kc 1.33 delete pod p1 -n team --grace-period=0 --force >/dev/null 2>&1
sleep 0.3
out=$(as_token "$bound" 1.33 get serviceaccount robot -n team 2>&1)
expect_match "... and stops when the pod is gone" "$out" 'Unauthorized|must be logged in'
out=$(kc 1.33 run p2 -n team --image busybox --restart Never --overrides \
  '{"spec":{"serviceAccountName":"nobody"}}' 2>&1)
expect_match "a pod naming a missing service account is refused as upstream" "$out" \
  'pods "p2" is forbidden: error looking up service account team/nobody: serviceaccount "nobody" not found'
kc 1.33 create serviceaccount quiet -n team >/dev/null
kc 1.33 patch serviceaccount quiet -n team -p '{"automountServiceAccountToken":false}' >/dev/null
kc 1.33 run p3 -n team --image busybox --restart Never --overrides \
  '{"spec":{"serviceAccountName":"quiet"}}' >/dev/null
expect_eq "automountServiceAccountToken: false leaves the pod without the volume" \
  "$(kc 1.33 get pod p3 -n team -o jsonpath='{.spec.volumes}')" ""

# kube-root-ca.crt in every namespace, holding the CA that signed the API's certificate.
kc 1.33 create namespace fresh >/dev/null
for _ in $(seq 1 50); do
  kc 1.33 get configmap kube-root-ca.crt -n fresh >/dev/null 2>&1 && break
  sleep 0.1
done
kc 1.33 get configmap kube-root-ca.crt -n fresh -o jsonpath='{.data.ca\.crt}' >"$E2E_TMP/ca.crt"
expect_eq "kube-root-ca.crt holds the server CA" "$(cmp -s "$E2E_TMP/ca.crt" "$ca" && echo same)" "same"
kc 1.33 patch configmap kube-root-ca.crt -n fresh --type merge -p '{"data":{"ca.crt":"junk"}}' >/dev/null
for _ in $(seq 1 50); do
  [ "$(kc 1.33 get configmap kube-root-ca.crt -n fresh -o jsonpath='{.data.ca\.crt}')" != junk ] && break
  sleep 0.1
done
kc 1.33 get configmap kube-root-ca.crt -n fresh -o jsonpath='{.data.ca\.crt}' >"$E2E_TMP/ca2.crt"
expect_eq "an edited kube-root-ca.crt is put back" "$(cmp -s "$E2E_TMP/ca2.crt" "$ca" && echo same)" "same"

# Tokens survive a restart: the signing key is kept with the certificates.
token=$(kc 1.33 create token robot -n team)
server_stop
server_start
expect_eq "a token issued before a restart still works" \
  "$(as_token "$token" 1.33 get serviceaccount robot -n team -o name 2>&1)" "serviceaccount/robot"
expect_eq "the signing key is private" "$(stat -c %a "$DATA_DIR/server/tls/service.key")" "600"
e2e_finish
