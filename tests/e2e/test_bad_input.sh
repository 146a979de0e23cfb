#!/usr/bin/env bash
# Bad input gets upstream's status codes and messages, the server keeps serving, and
# the store is unchanged.
source "$(dirname "$0")/lib.sh"
server_start
v=1.33
J='Content-Type: application/json'

raw POST /api/v1/namespaces/default/configmaps -H "$J" -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":' >/dev/null
expect_eq "malformed JSON: 400" "$(raw_status)" "400"
out=$(raw POST /api/v1/namespaces/default/configmaps -H 'Content-Type: application/yaml' --data-binary $'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [}\n')
expect_eq "malformed YAML: 400" "$(raw_status)" "400"
out=$(raw POST /api/v1/namespaces/default/configmaps -H "$J" -d '{"apiVersion":"v2","kind":"ConfigMap","metadata":{"name":"x"}}')
expect_eq "wrong apiVersion: 400" "$(raw_status)" "400"
out=$(kc $v apply -f - 2>&1 <<'Y'
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
Y
)
expect_match "unknown kind: kubectl says no matches" "$out" 'no matches for kind "Widget"'
out=$(raw POST /api/v1/namespaces/default/configmaps -H "$J" -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"}}')
expect_eq "invalid name: 422" "$(raw_status)" "422"
expect_match "invalid name: upstream message" "$out" 'ConfigMap \\"Bad_Name\\" is invalid: metadata.name: Invalid value: \\"Bad_Name\\": a lowercase RFC 1123 subdomain'
out=$(raw POST /api/v1/namespaces/default/configmaps -H "$J" -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ok","labels":{"a":"b@d"}}}')
expect_eq "invalid label value: 422" "$(raw_status)" "422"
out=$(raw POST /apis/apps/v1/namespaces/default/deployments -H "$J" -d '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c"}]}}}}')
expect_eq "missing required image: 422" "$(raw_status)" "422"
expect_match "missing image names the field" "$out" 'spec.template.spec.containers\[0\].image'
out=$(raw POST '/api/v1/namespaces/default/configmaps?fieldValidation=Strict' -H "$J" -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"s"},"dataa":{}}')
expect_eq "unknown field under Strict: 400" "$(raw_status)" "400"
expect_match "unknown field message" "$out" 'strict decoding error: unknown field \\"dataa\\"'
out=$(kc $v create -f - 2>&1 <<'Y'
apiVersion: v1
kind: ConfigMap
metadata: {name: strict}
bogus: 1
Y
)
expect_match "kubectl create with an unknown field is refused" "$out" 'unknown field "bogus"'
head -c 4000000 /dev/zero | tr '\0' 'a' >"$E2E_TMP/big"
out=$(raw POST /api/v1/namespaces/default/configmaps -H "$J" --data-binary @"$E2E_TMP/big")
expect_eq "oversized body: 413" "$(raw_status)" "413"
raw GET /api/v1/nosuchthing >/dev/null
expect_eq "unknown resource: 404" "$(raw_status)" "404"
raw GET /nowhere >/dev/null
expect_eq "unknown path: 404" "$(raw_status)" "404"
raw PUT /api/v1/namespaces/default/configmaps -H "$J" -d '{}' >/dev/null
expect_eq "PUT on a collection: 405" "$(raw_status)" "405"
raw POST /api/v1/namespaces/nope/configmaps -H "$J" -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}' >/dev/null
expect_eq "missing namespace: 404" "$(raw_status)" "404"

kc $v create configmap cc --from-literal=a=1 >/dev/null
rv=$(kc $v get cm cc -o jsonpath='{.metadata.resourceVersion}')
raw PUT /api/v1/namespaces/default/configmaps/cc -H "$J" -d "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cc\",\"resourceVersion\":\"$rv\"},\"data\":{\"a\":\"2\"}}" >/dev/null
expect_eq "update with the current resourceVersion: 200" "$(raw_status)" "200"
out=$(raw PUT /api/v1/namespaces/default/configmaps/cc -H "$J" -d "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cc\",\"resourceVersion\":\"$rv\"},\"data\":{\"a\":\"3\"}}")
expect_eq "stale update: 409" "$(raw_status)" "409"
expect_match "stale update: upstream message" "$out" 'the object has been modified; please apply your changes to the latest version and try again'
expect_eq "store unchanged by the refused update" "$(kc $v get cm cc -o jsonpath='{.data.a}')" "2"
raw POST /api/v1/namespaces/default/configmaps -H "$J" -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cc"}}' >/dev/null
expect_eq "duplicate create: 409" "$(raw_status)" "409"

# Conflicting and out-of-range NodePorts are refused at admission with upstream's 422.
kc $v create service nodeport np1 --tcp=80:80 --node-port=30080 >/dev/null
out=$(kc $v create service nodeport np2 --tcp=80:80 --node-port=30080 2>&1)
expect_match "a NodePort already taken: 422 in upstream's words" "$out" \
  'spec.ports\[0\].nodePort: Invalid value: 30080: provided port is already allocated'
out=$(kc $v create service nodeport np3 --tcp=80:80 --node-port=40000 2>&1)
expect_match "a NodePort outside the range: 422" "$out" \
  'spec.ports\[0\].nodePort: Invalid value: 40000: provided port is not in the valid range. The range of valid ports is 30000-32767'
expect_eq "the refused Services were not stored" "$(kc $v get svc np2 np3 -o name 2>/dev/null)" ""

# A client that vanishes mid-watch does not hurt the server.
for i in 1 2 3 4 5; do
  timeout 0.5 curl -sk --cert "$DATA_DIR/server/tls/client-admin.crt" --key "$DATA_DIR/server/tls/client-admin.key" \
    "https://127.0.0.1:$PORT/api/v1/namespaces/default/configmaps?watch=1" >/dev/null 2>&1
done
expect_match "server still serving after vanished watchers" "$(kc $v get cm cc -o name)" 'configmap/cc'
e2e_finish
