#!/usr/bin/env bash
# make demo — starts a one-node k8c cluster in the foreground with the seed's web app
# applied, and prints the kubectl line to use. Ctrl-C stops it; state stays in DATA_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA_DIR=${DATA_DIR:-$PWD/.demo}
PORT=${PORT:-6443}
KUBECONFIG_FILE=$DATA_DIR/kubeconfig.yaml
KUBECTL=${KUBECTL:-kubectl}
if ! command -v "$KUBECTL" >/dev/null 2>&1; then
  KUBECTL=/usr/lib/google-cloud-sdk/bin/kubectl.1.33
fi
mkdir -p "$DATA_DIR"
build/k8c server --data-dir "$DATA_DIR" --https-listen-port "$PORT" \
  --write-kubeconfig "$KUBECONFIG_FILE" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT INT TERM
for _ in $(seq 1 250); do
  curl -sk "https://127.0.0.1:$PORT/readyz" 2>/dev/null | grep -q ok && break
  sleep 0.02
done
KUBECONFIG=$KUBECONFIG_FILE "$KUBECTL" apply -f tests/e2e/seed/web.yaml
echo
echo "k8c is running. Point kubectl at it with:"
echo "  export KUBECONFIG=$KUBECONFIG_FILE"
echo "  kubectl get deploy,svc"
echo "(Ctrl-C stops the server; its state stays in $DATA_DIR)"
wait $pid
