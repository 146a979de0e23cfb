#!/usr/bin/env bash
# The seed manifests through the everyday kubectl workflow — apply (created, unchanged,
# configured), server-side apply, diff, get in every output form, describe, label,
# annotate, edit, patch of each type, delete — with kubectl 1.27, 1.32 and 1.33.
source "$(dirname "$0")/lib.sh"
server_start

SEED_FILES="web.yaml api.yaml storage.yaml statefulset.yaml networkpolicy.yaml pdb.yaml"

for v in $KUBECTL_VERSIONS; do
  echo "--- kubectl $v"
  out=$(kc "$v" apply -f "$SEED_DIR/web.yaml" 2>&1)
  expect_match "[$v] apply web.yaml creates" "$out" 'deployment.apps/nginx-deployment created'
  expect_match "[$v] apply web.yaml creates the service" "$out" 'service/web-svc created'

  out=$(kc "$v" apply -f "$SEED_DIR/web.yaml" 2>&1)
  expect_match "[$v] re-apply is unchanged" "$out" 'deployment.apps/nginx-deployment unchanged'

  sed 's/nginx:1.27-alpine/nginx:1.28-alpine/; s/replicas: 3/replicas: 5/' "$SEED_DIR/web.yaml" >"$E2E_TMP/web2.yaml"
  out=$(kc "$v" diff -f "$E2E_TMP/web2.yaml" 2>&1)
  expect_match "[$v] diff shows the image change" "$out" '\+ +- image: nginx:1.28-alpine'
  out=$(kc "$v" apply -f "$E2E_TMP/web2.yaml" 2>&1)
  expect_match "[$v] apply of a change is configured" "$out" 'deployment.apps/nginx-deployment configured'
  expect_eq "[$v] image changed by the patch" \
    "$(kc "$v" get deploy nginx-deployment -o jsonpath='{.spec.template.spec.containers[0].image}')" "nginx:1.28-alpine"
  expect_eq "[$v] replicas changed" "$(kc "$v" get deploy nginx-deployment -o jsonpath='{.spec.replicas}')" "5"
  expect_eq "[$v] generation bumped once per spec change" \
    "$(kc "$v" get deploy nginx-deployment -o jsonpath='{.metadata.generation}')" "2"
  expect_eq "[$v] defaults applied (strategy)" \
    "$(kc "$v" get deploy nginx-deployment -o jsonpath='{.spec.strategy.rollingUpdate.maxSurge}')" "25%"

  for f in $SEED_FILES; do
    [ "$f" = web.yaml ] && continue
    out=$(kc "$v" apply -f "$SEED_DIR/$f" 2>&1)
    expect_match "[$v] apply $f" "$out" 'created|configured|unchanged'
    expect_no_match "[$v] apply $f has no error" "$out" '[Ee]rror'
  done
  out=$(kc "$v" get secret api-secret -o jsonpath='{.data.DB_PASSWORD}')
  expect_eq "[$v] secret stringData stored as base64 data" "$out" "$(printf s3cr3t | base64)"

  out=$(kc "$v" apply --server-side -f "$SEED_DIR/app.yaml" 2>&1)
  expect_match "[$v] server-side apply" "$out" 'serverside-applied'
  out=$(kc "$v" apply --server-side -f "$SEED_DIR/app.yaml" 2>&1)
  expect_match "[$v] server-side apply again" "$out" 'serverside-applied'

  out=$(kc "$v" get deploy,rs,po,svc -l app=web 2>&1)
  expect_match "[$v] get -l lists the deployment with upstream columns" "$out" 'NAME +READY +UP-TO-DATE +AVAILABLE +AGE'
  out=$(kc "$v" get svc web-svc 2>&1)
  expect_match "[$v] get svc shows an allocated ClusterIP" "$out" 'web-svc +ClusterIP +10\.43\.[0-9]+\.[0-9]+ +<none> +80/TCP'
  out=$(kc "$v" get svc -o wide 2>&1)
  expect_match "[$v] get -o wide shows the selector column" "$out" 'SELECTOR'
  out=$(kc "$v" get deploy nginx-deployment -o yaml)
  expect_match "[$v] get -o yaml" "$out" 'kind: Deployment'
  out=$(kc "$v" get deploy nginx-deployment -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["metadata"]["uid"] != "" and d["spec"]["template"]["spec"]["containers"][0]["name"])')
  expect_eq "[$v] get -o json" "$out" "nginx"

  out=$(kc "$v" describe deploy nginx-deployment 2>&1)
  expect_match "[$v] describe" "$out" 'Name: +nginx-deployment'
  expect_match "[$v] describe shows the strategy" "$out" 'RollingUpdateStrategy: +25% max unavailable, 25% max surge'

  kc "$v" label deploy nginx-deployment tier=frontend >/dev/null 2>&1
  expect_eq "[$v] label" "$(kc "$v" get deploy -l tier=frontend -o name)" "deployment.apps/nginx-deployment"
  kc "$v" annotate deploy nginx-deployment note=hello >/dev/null 2>&1
  expect_eq "[$v] annotate" "$(kc "$v" get deploy nginx-deployment -o jsonpath='{.metadata.annotations.note}')" "hello"

  cat >"$E2E_TMP/editor.sh" <<'ED'
#!/bin/sh
sed -i 's/replicas: 5/replicas: 6/' "$1"
ED
  chmod +x "$E2E_TMP/editor.sh"
  out=$(EDITOR="$E2E_TMP/editor.sh" kc "$v" edit deploy nginx-deployment 2>&1)
  expect_match "[$v] edit" "$out" 'edited'
  expect_eq "[$v] edit changed replicas" "$(kc "$v" get deploy nginx-deployment -o jsonpath='{.spec.replicas}')" "6"

  kc "$v" patch deploy nginx-deployment --type=merge -p '{"spec":{"replicas":2}}' >/dev/null 2>&1
  expect_eq "[$v] merge patch" "$(kc "$v" get deploy nginx-deployment -o jsonpath='{.spec.replicas}')" "2"
  kc "$v" patch deploy nginx-deployment --type=json -p '[{"op":"replace","path":"/spec/replicas","value":1}]' >/dev/null 2>&1
  expect_eq "[$v] json patch" "$(kc "$v" get deploy nginx-deployment -o jsonpath='{.spec.replicas}')" "1"
  kc "$v" patch deploy nginx-deployment -p '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}' >/dev/null 2>&1
  expect_eq "[$v] strategic merge patch merges containers by name" \
    "$(kc "$v" get deploy nginx-deployment -o jsonpath='{.spec.template.spec.containers[*].name}' | tr ' ' '\n' | sort | tr '\n' ' ')" "nginx sidecar "
  kc "$v" scale deploy nginx-deployment --replicas=3 >/dev/null 2>&1
  expect_eq "[$v] scale" "$(kc "$v" get deploy nginx-deployment -o jsonpath='{.spec.replicas}')" "3"

  out=$(kc "$v" delete svc web-svc 2>&1)
  expect_match "[$v] delete" "$out" 'service "web-svc" deleted'
  out=$(kc "$v" delete deploy,svc,cm,secret,hpa,pdb,ing,sts,pvc,sc,netpol -l app=web 2>&1)
  out=$(kc "$v" delete -f "$SEED_DIR/app.yaml" --ignore-not-found 2>&1)
  for f in $SEED_FILES; do
    kc "$v" delete -f "$SEED_DIR/$f" --ignore-not-found >/dev/null 2>&1
  done
  expect_eq "[$v] everything deleted" "$(kc "$v" get deploy,svc,cm,secret -o name 2>&1 | grep -v 'kube-root-ca\|default-token\|service/kubernetes' | wc -l)" "0"
done
e2e_finish
