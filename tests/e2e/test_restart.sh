#!/usr/bin/env bash
# Durability: objects acknowledged before a kill -9 of the server come back after a
# restart with the same uid and resourceVersion; a graceful restart keeps them too.
source "$(dirname "$0")/lib.sh"
server_start
v=1.33

kc $v apply -f "$SEED_DIR/web.yaml" >/dev/null 2>&1
kc $v create configmap c1 --from-literal=a=b >/dev/null 2>&1
for i in $(seq 1 50); do
  raw POST /api/v1/namespaces/default/configmaps -H 'Content-Type: application/json' \
    -d "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"bulk-$i\"},\"data\":{\"i\":\"$i\"}}" >/dev/null
  [ "$(raw_status)" = 201 ] || fail "create bulk-$i: $(raw_status)"
done
# Controllers keep writing the Deployment's status and its ReplicaSets, so the exact
# resourceVersions compared are those of objects nothing but the test writes.
before=$(kc $v get svc,cm -o jsonpath='{range .items[*]}{.metadata.name} {.metadata.uid} {.metadata.resourceVersion}{"\n"}{end}' | sort)
deploy_uid=$(kc $v get deploy nginx-deployment -o jsonpath='{.metadata.uid}')
server_kill9
server_start
after=$(kc $v get svc,cm -o jsonpath='{range .items[*]}{.metadata.name} {.metadata.uid} {.metadata.resourceVersion}{"\n"}{end}' | sort)
expect_eq "kill -9: same objects, uids and resourceVersions" "$after" "$before"
expect_eq "kill -9: the Deployment keeps its uid" "$(kc $v get deploy nginx-deployment -o jsonpath='{.metadata.uid}')" "$deploy_uid"
expect_eq "kill -9: all 50 acknowledged configmaps present" "$(kc $v get cm -o name | grep -c bulk-)" "50"

rv1=$(kc $v get cm c1 -o jsonpath='{.metadata.resourceVersion}')
kc $v label cm c1 x=y >/dev/null
rv2=$(kc $v get cm c1 -o jsonpath='{.metadata.resourceVersion}')
[ "$rv2" -gt "$rv1" ] && pass "resourceVersion grows after restart" || fail "rv $rv1 -> $rv2"
server_stop
server_start
expect_eq "graceful restart keeps the label" "$(kc $v get cm c1 -o jsonpath='{.metadata.labels.x}')" "y"
e2e_finish
