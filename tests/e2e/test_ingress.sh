#!/usr/bin/env bash
# The ingress controller in `k8c server` (nginx on free high ports), driven by the real
# kubectl: the seed's two-host Ingress from app.yaml applied unchanged, its Services
# selector-less with EndpointSlices pointing at small HTTP backends on 127.0.0.2/.3 that
# answer their own name; curl with Host headers reaches the right one, a canary Ingress
# at weight 10 takes 10 % ± 3 % of 1,000 requests, and `kubectl get ingress` shows the
# ADDRESS.
source "$(dirname "$0")/lib.sh"
if [ ! -x /usr/sbin/nginx ]; then
  echo "FATAL: /usr/sbin/nginx is missing (install nginx-light)" >&2
  exit 1
fi

BACKEND_PIDS=""
backend() { # NAME IP PORT
  python3 -c '
import http.server, sys
name = sys.argv[1].encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(name)))
        self.end_headers()
        self.wfile.write(name)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer((sys.argv[2], int(sys.argv[3])), H).serve_forever()
' "$1" "$2" "$3" &
  BACKEND_PIDS="$BACKEND_PIDS $!"
}
trap 'for p in $BACKEND_PIDS; do kill "$p" 2>/dev/null; done; e2e_cleanup' EXIT

WEB_PORT=$(free_port)
API_PORT=$(free_port)
CANARY_PORT=$(free_port)
backend web 127.0.0.2 "$WEB_PORT"
backend api 127.0.0.3 "$API_PORT"
backend canary 127.0.0.4 "$CANARY_PORT"
HTTP_PORT=$(free_port)
HTTPS_PORT=$(free_port)
INGRESS_FLAGS="--ingress-http-port $HTTP_PORT --ingress-https-port $HTTPS_PORT" server_start

# Selector-less Services with manual EndpointSlices at the loopback backends.
services() { # NAME IP PORT
  cat <<YAML
apiVersion: v1
kind: Service
metadata: {name: $1}
spec:
  ports: [{name: http, port: 80, targetPort: $3}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: $1-manual
  labels: {kubernetes.io/service-name: $1}
addressType: IPv4
ports: [{name: http, port: $3, protocol: TCP}]
endpoints:
- addresses: ["$2"]
  conditions: {ready: true}
---
YAML
}
{
  services web-svc 127.0.0.2 "$WEB_PORT"
  services api-svc 127.0.0.3 "$API_PORT"
  services web-canary 127.0.0.4 "$CANARY_PORT"
} >"$E2E_TMP/backends.yaml"
kc 1.33 apply -f "$E2E_TMP/backends.yaml" >/dev/null
# The Ingress document of the seed's app.yaml, unchanged.
awk '/^# ingress/{p=1} p' "$SEED_DIR/app.yaml" >"$E2E_TMP/ingress.yaml"
expect_match "the seed's Ingress was extracted" "$(cat "$E2E_TMP/ingress.yaml")" 'kind: Ingress'
out=$(kc 1.33 apply -f "$E2E_TMP/ingress.yaml")
expect_match "apply the seed's Ingress" "$out" 'ingress.networking.k8s.io/fe-be (created|configured)'

get() { curl -s --max-time 5 -H "Host: $1" "http://127.0.0.1:$HTTP_PORT${2:-/}"; }
# The controller writes the ADDRESS once nginx serves the Ingress, and a reload counts as
# applied only when the workers of the previous configuration stopped taking connections:
# from then on every answer must come from the new configuration (no flapping back to the
# default 404 of a worker still on an older one).
for _ in $(seq 1 200); do
  addr=$(kc 1.33 get ingress fe-be -o jsonpath='{.status.loadBalancer.ingress[0].ip}')
  [ -n "$addr" ] && break
  sleep 0.05
done
expect_eq "the Ingress has its ADDRESS" "$addr" "127.0.0.1"
answers=""
for _ in $(seq 1 20); do
  answers="$answers $(get example.com)/$(get api.example.com)"
done
expect_eq "after the ADDRESS, 20 answers in a row from the new configuration" "$answers" \
  "$(printf ' web/api%.0s' $(seq 1 20))"
expect_eq "example.com routes to web" "$(get example.com)" "web"
api_answer=$(get api.example.com /v1/x)
expect_eq "api.example.com routes to api" "$api_answer" "api"
if [ "$api_answer" != api ]; then # what the controller did, for the failure report
  grep -i "ingress" "$E2E_TMP/server.log" | tail -20 >&2
  tail -20 "$DATA_DIR/server/ingress/error.log" >&2 2>/dev/null
fi
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: other.test' "http://127.0.0.1:$HTTP_PORT/")
expect_eq "an unknown host gets the default 404" "$code" "404"

for v in $KUBECTL_VERSIONS; do
  out=$(kc "$v" get ingress fe-be --no-headers)
  expect_match "[$v] get ingress shows class, hosts and ADDRESS" "$out" \
    '^fe-be +nginx +example\.com,api\.example\.com +127\.0\.0\.1 +80 '
done
out=$(kc 1.33 get ingressclass nginx -o jsonpath='{.spec.controller} {.metadata.annotations.ingressclass\.kubernetes\.io/is-default-class}')
expect_eq "IngressClass nginx is the default, for ingress-nginx" "$out" "k8s.io/ingress-nginx true"

# The seed's canary annotations at weight 10.
cat >"$E2E_TMP/canary.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: fe-canary
  annotations:
    nginx.ingress.kubernetes.io/canary: "true"
    nginx.ingress.kubernetes.io/canary-weight: "10"
spec:
  ingressClassName: nginx
  rules:
  - host: example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: { service: { name: web-canary, port: { number: 80 } } }
YAML
kc 1.33 apply -f "$E2E_TMP/canary.yaml" >/dev/null
# Its ADDRESS comes once the reload that serves it is complete.
for _ in $(seq 1 200); do
  addr=$(kc 1.33 get ingress fe-canary -o jsonpath='{.status.loadBalancer.ingress[0].ip}')
  [ -n "$addr" ] && break
  sleep 0.05
done
expect_eq "the canary Ingress has its ADDRESS" "$addr" "127.0.0.1"
canary=$(python3 - "$HTTP_PORT" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
n = 0
for _ in range(1000):
    c.request("GET", "/", headers={"Host": "example.com"})
    n += c.getresponse().read() == b"canary"
print(n)
PY
)
echo "canary answers: $canary of 1000"
if [ "$canary" -ge 70 ] && [ "$canary" -le 130 ]; then pass "canary weight 10: $canary of 1000 within 10% ± 3%"; else fail "canary weight 10: $canary of 1000"; fi

server_stop
sleep 0.2
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H 'Host: example.com' "http://127.0.0.1:$HTTP_PORT/")
expect_eq "nginx is gone with the server" "$code" "000"
e2e_finish
