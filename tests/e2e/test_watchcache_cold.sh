#!/usr/bin/env bash
# Cold objects in the watch cache (kept compressed after 1 s idle here): gets, lists and
# watches return exactly the bytes the create returned while the object was fresh, and
# an update of a cold object is served right.
source "$(dirname "$0")/lib.sh"
K8C_WATCHCACHE_COOL_SECONDS=1 server_start --v 3
N=40
rv0=$(raw GET /api/v1/namespaces/default/configmaps | python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["resourceVersion"])')
mkdir -p "$E2E_TMP/fresh" "$E2E_TMP/cold"
for i in $(seq 1 $N); do
  raw POST /api/v1/namespaces/default/configmaps -H 'Content-Type: application/json' \
    -d "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cold-$i\",\"labels\":{\"app\":\"cold\"}},\"data\":{\"index\":\"$i\",\"config.yaml\":\"server:\\n  port: 80$i\\n  workers: 4\\n  log: info\\n\"}}" >"$E2E_TMP/fresh/$i"
done
# Idle: passes every half second freeze what was not read for a second.
if wait_for 20 grep -q "watch cache: a pass froze" "$E2E_TMP/server.log"; then
  pass "the cache compresses idle objects"
else
  fail "the cache compresses idle objects: no pass froze any text"
fi
sleep 3
frozen=$(grep -o "a pass froze [0-9]*" "$E2E_TMP/server.log" | awk '{s += $4} END {print s + 0}')
expect_eq "the configmaps are cold (at least $N texts frozen)" "$((frozen >= N))" 1
# Every object as the create returned it, byte for byte, in a list, gets and a watch.
count_fresh_in() {
  python3 - "$E2E_TMP" "$N" "$1" <<'PY'
import sys
tmp, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
text = open(path).read()
prefix = '{"type":"ADDED","object":'
if text.startswith(prefix):  # a watch stream: the objects of its ADDED events
    parts = [l[len(prefix):-1] for l in text.splitlines() if l.startswith(prefix)]
else:
    parts = [text]
print(sum(1 for i in range(1, n + 1) if any(open(f"{tmp}/fresh/{i}").read() in p for p in parts)))
PY
}
raw GET "/api/v1/namespaces/default/configmaps?labelSelector=app%3Dcold" >"$E2E_TMP/cold/list"
expect_eq "a list of cold objects has the bytes of each" "$(count_fresh_in "$E2E_TMP/cold/list")" "$N"
same=0
for i in $(seq 1 $N); do
  raw GET "/api/v1/namespaces/default/configmaps/cold-$i" >"$E2E_TMP/cold/$i"
  cmp -s "$E2E_TMP/fresh/$i" "$E2E_TMP/cold/$i" && same=$((same + 1))
done
expect_eq "gets of cold objects return the same bytes" "$same" "$N"
raw GET "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$rv0&timeoutSeconds=2" >"$E2E_TMP/events"
expect_eq "a watch from before the creates replays the same bytes" "$(count_fresh_in "$E2E_TMP/events")" "$N"
# Cold again, then updated: the new state is served, with the rest intact.
sleep 3
raw PATCH /api/v1/namespaces/default/configmaps/cold-7 -H 'Content-Type: application/merge-patch+json' \
  -d '{"metadata":{"labels":{"changed":"yes"}}}' >/dev/null
out=$(raw GET /api/v1/namespaces/default/configmaps/cold-7)
expect_match "an update of a cold object is served" "$out" '"changed":"yes"'
expect_match "with the rest intact" "$out" '"kind":"ConfigMap".*"index":"7"'
e2e_finish
