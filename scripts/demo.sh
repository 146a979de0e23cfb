#!/usr/bin/env bash
# make demo — starts a one-node k8c cluster in the foreground (API server, controllers,
# scheduler, ingress and a real node agent) with the seed's web app running in real
# containers, and prints the kubectl line to use. This machine has no internet, so the
# seed's nginx image is built from Debian's nginx (tests/lib/image_fixture.sh) and served
# by a local registry configured as docker.io's mirror — the manifests run unchanged.
# Ctrl-C stops everything; state stays in DATA_DIR.
#
# `make demo NODES=3` / `scripts/demo.sh --nodes 3`: a cluster of 3 nodes on this machine
# instead (tests/e2e/multinode.sh: a network namespace per node on a bridge, `k8c server`
# on node 1, `k8c agent` on the others) running the seed's app.yaml (web, cache, api, their
# Services and the Ingress) on stand-in images. Needs root. Ctrl-C removes everything,
# state included.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NODES=1
while [ $# -gt 0 ]; do
  case $1 in
  --nodes) NODES=${2:?--nodes needs a number}; shift 2 ;;
  --nodes=*) NODES=${1#--nodes=}; shift ;;
  *) echo "usage: $0 [--nodes N]" >&2; exit 2 ;;
  esac
done
if ! [ "$NODES" -ge 1 ] 2>/dev/null; then
  echo "demo: --nodes takes a number >= 1" >&2
  exit 2
fi

if [ "$NODES" -gt 1 ]; then
  # shellcheck source=../tests/e2e/multinode.sh
  source "$ROOT/tests/e2e/multinode.sh"
  trap 'echo "demo: stopping the nodes and removing the cluster" >&2; exit 130' INT TERM
  echo "demo: starting $NODES nodes (images, registry mirror, network namespaces)" >&2
  set +e
  mn_setup "$NODES" || exit 1
  mn_kubectl apply -f tests/e2e/seed/app.yaml
  echo
  echo "k8c is running on $NODES nodes (${MN_NODE_IP[*]}). Point kubectl at it with:"
  echo "  export KUBECONFIG=$MN_KUBECONFIG"
  echo "  kubectl get nodes,pods,svc -o wide"
  echo "The Ingress answers on node 1:  curl -H 'Host: api.example.com' http://${MN_NODE_IP[1]}/"
  echo "(Ctrl-C stops every node and removes the cluster, its containers and $MN_TMP)"
  wait "${MN_PID[1]}"
  exit 0
fi
DATA_DIR=${DATA_DIR:-$ROOT/.demo}
PORT=${PORT:-6443}
KUBECONFIG_FILE=$DATA_DIR/kubeconfig.yaml
KUBECTL=${KUBECTL:-kubectl}
if ! command -v "$KUBECTL" >/dev/null 2>&1; then
  KUBECTL=/usr/lib/google-cloud-sdk/bin/kubectl.1.33
fi
mkdir -p "$DATA_DIR/images"
# shellcheck source=../tests/lib/image_fixture.sh
source "$ROOT/tests/lib/image_fixture.sh"

pid=""
# A stopped agent leaves its containers running (it re-adopts them on its next start, as
# k3s does), so the demo removes its app first: nothing of it outlives Ctrl-C.
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    echo "demo: removing the web app, then stopping the server" >&2
    KUBECONFIG=$KUBECONFIG_FILE timeout 60 "$KUBECTL" delete -f tests/e2e/seed/web.yaml \
      --ignore-not-found --wait=true >/dev/null 2>&1 || true
    KUBECONFIG=$KUBECONFIG_FILE timeout 60 "$KUBECTL" wait --for=delete pods -l app=web \
      --timeout=60s >/dev/null 2>&1 || true
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
  fixture_stop_registry
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "demo: building the seed's nginx image and starting a local registry mirror" >&2
layout=$DATA_DIR/images/layout
if [ ! -d "$layout" ]; then
  fixture_build_nginx "$layout" nginx >"$DATA_DIR/images/build.log" 2>&1 ||
    { cat "$DATA_DIR/images/build.log" >&2; exit 1; }
fi
fixture_start_registry "$DATA_DIR/images"
fixture_push "$layout" nginx library/nginx:1.27-alpine
fixture_mirror_config "$DATA_DIR/registries.yaml"

# Its own session: a Ctrl-C reaches this script (which cleans up), not the server directly.
setsid build/k8c server --data-dir "$DATA_DIR" --https-listen-port "$PORT" \
  --write-kubeconfig "$KUBECONFIG_FILE" --private-registry "$DATA_DIR/registries.yaml" &
pid=$!
for _ in $(seq 1 250); do
  curl -sk "https://127.0.0.1:$PORT/readyz" 2>/dev/null | grep -q ok && break
  sleep 0.02
done
KUBECONFIG=$KUBECONFIG_FILE "$KUBECTL" apply -f tests/e2e/seed/web.yaml
echo
echo "k8c is running. Point kubectl at it with:"
echo "  export KUBECONFIG=$KUBECONFIG_FILE"
echo "  kubectl get deploy,pods,svc -o wide"
echo "(Ctrl-C stops the server; its state stays in $DATA_DIR)"
wait $pid
