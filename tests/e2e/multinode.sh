# shellcheck shell=bash
# multinode.sh — N k8c nodes on this machine, for the multi-node e2e tests and the
# multi-node demo. One design idea: a node is a network namespace, nothing more. Each
# namespace hangs off a bridge in the host namespace by a veth (node i is 172.31.S.(10+i)
# on a /24 the run picks; the bridge is .1), node 1 runs `k8c server` with its in-process
# agent, nodes 2..N `k8c agent` joined with the server's token. Processes enter a node's
# namespace with `nsenter --net` only (not `ip netns exec`, which remounts /sys and hides
# the cgroup hierarchy), so every node shares the host's filesystem and cgroups and gets
# its own --data-dir/--run-dir/--pod-log-dir/--cgroup-parent under one temp dir. kubectl
# runs on the host and reaches the API server at node 1's address.
#
# Source it (it needs root), then:
#   mn_setup N          images, registry, stub resolver, network, server, agents; returns
#                       when every node is Ready (non-zero, with diagnostics, otherwise)
#   mn_kubectl ARGS...  the chosen kubectl ($MN_KUBECTL, default 1.33) against the cluster
#   mn_exec I CMD...    runs CMD in node I's network namespace
#   mn_diagnostics      pods, services, endpoints, and each node's addresses, routes,
#                       nftables ruleset and log tail, to stderr
#   mn_teardown         removes everything mn_setup made (safe to call twice; mn_setup
#                       installs it as the EXIT trap unless MN_NO_TRAP=1)
# After mn_setup: MN_NODES, MN_TMP, MN_KUBECONFIG, MN_API (https://IP:PORT), MN_HOST_IP
# (the bridge's address: what nodes reach the host at), MN_NODE_IP[i], MN_NODE_NAME[i],
# MN_NETNS[i], MN_DATA[i], MN_PID[i], MN_REGISTRY, MN_DNS_NAME/MN_DNS_IP (the one outside
# name the stub upstream resolver answers).
# Images in the registry (mirror of docker.io and ghcr.io, so manifests run unchanged):
# busybox:1.36 (busybox with nslookup/seq/timeout/...), and stand-ins for the seed's
# ghcr.io/example/web:2.0.1 (HTTP on 3000 and 80), ghcr.io/example/api:1.5.0 (8080) and
# redis:7-alpine (6379): each answers its hostname on /, "ok" on /healthz; GET
# /cgi-bin/unready makes /healthz 404 (the readiness probe fails), /cgi-bin/ready undoes it;
# /cgi-bin/peer answers the client's address as the stand-in sees it.
# Tunables: MN_SERVER_FLAGS (extra `k8c server` flags, e.g. --disable-ingress),
# MN_AGENT_FLAGS, MN_API_PORT (default 6443: each node has its own ports), MN_KUBECTL,
# K8C_BIN, MN_KEEP=1 (leave the temp dir for inspection).

MN_SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
K8C_BIN=${K8C_BIN:-$MN_SOURCE_DIR/build/k8c}
MN_KUBECTL=${MN_KUBECTL:-/usr/lib/google-cloud-sdk/bin/kubectl.1.33}
MN_API_PORT=${MN_API_PORT:-6443}
MN_DNS_NAME=${MN_DNS_NAME:-outside.k8c-upstream.test}
MN_DNS_IP=${MN_DNS_IP:-192.0.2.53}
# shellcheck source=../lib/image_fixture.sh
source "$MN_SOURCE_DIR/tests/lib/image_fixture.sh"

MN_NODES=0
MN_TMP=""
MN_BRIDGE=""
MN_DNS_PID=""
MN_TORN_DOWN=0
declare -a MN_NODE_IP MN_NODE_NAME MN_NETNS MN_DATA MN_RUN MN_CGROUP MN_PID MN_VETH

mn_log() { echo "multinode: $*" >&2; }

mn_kubectl() {
  HOME=$MN_TMP/home KUBECONFIG=$MN_KUBECONFIG "$MN_KUBECTL" --request-timeout=20s "$@"
}

mn_exec() {
  local i=$1
  shift
  nsenter --net="/run/netns/${MN_NETNS[$i]}" "$@"
}

# The run's id and its /24: free names and an unused 172.31.S.0/24.
mn_pick_ids() {
  MN_ID=$(($$ % 100000))
  local s
  for s in $(seq $((100 + $$ % 100)) 199) $(seq 100 199); do
    if ! ip -4 -o addr show | grep -q " 172\.31\.$s\." && ! ip route | grep -q "^172\.31\.$s\."; then
      MN_SUBNET=$s
      break
    fi
  done
  [ -n "${MN_SUBNET:-}" ] || { mn_log "no free 172.31.S.0/24 for the test network"; return 1; }
  MN_HOST_IP=172.31.$MN_SUBNET.1
  MN_BRIDGE=k8mb$MN_ID
  ip link show "$MN_BRIDGE" >/dev/null 2>&1 && { mn_log "bridge $MN_BRIDGE exists"; return 1; }
  return 0
}

mn_net_up() {
  ip link add "$MN_BRIDGE" type bridge || return 1
  ip addr add "$MN_HOST_IP/24" dev "$MN_BRIDGE" && ip link set "$MN_BRIDGE" up || return 1
  local i
  for i in $(seq 1 "$MN_NODES"); do
    MN_NETNS[$i]=k8mn$MN_ID-$i
    MN_VETH[$i]=k8mv$MN_ID-$i
    MN_NODE_IP[$i]=172.31.$MN_SUBNET.$((10 + i))
    MN_NODE_NAME[$i]=node-$i
    ip netns add "${MN_NETNS[$i]}" || return 1
    ip link add "${MN_VETH[$i]}" type veth peer name eth0 netns "${MN_NETNS[$i]}" || return 1
    ip link set "${MN_VETH[$i]}" master "$MN_BRIDGE" up || return 1
    mn_exec "$i" ip link set lo up &&
      mn_exec "$i" ip addr add "${MN_NODE_IP[$i]}/24" dev eth0 &&
      mn_exec "$i" ip link set eth0 up &&
      mn_exec "$i" ip route add default via "$MN_HOST_IP" || return 1
  done
}

# busybox plus the stand-ins, pushed to a registry on the bridge address (nodes cannot
# reach the host's loopback).
mn_images() {
  local layout=$MN_TMP/layout bundle=$MN_TMP/standin-bundle
  fixture_build_busybox "$layout" base || return 1
  umoci tag --image "$layout:base" standin &&
    umoci unpack --image "$layout:standin" "$bundle" >/dev/null || return 1
  local root=$bundle/rootfs applet
  for applet in cp seq nslookup timeout sort uniq tr sed awk ip ping sh; do
    ln -sf busybox "$root/bin/$applet"
  done
  mkdir -p "$root/standin/cgi-bin"
  cat >"$root/bin/standin" <<'SH'
#!/bin/sh
# k8c test stand-in: its hostname on /, "ok" on /healthz, on every port given.
mkdir -p /tmp/www
cp -r /standin/cgi-bin /tmp/www/
hostname >/tmp/www/index.html
echo ok >/tmp/www/healthz
for port in "$@"; do httpd -f -p "$port" -h /tmp/www & done
trap 'kill $(jobs -p) 2>/dev/null; exit 0' TERM INT
wait
SH
  cat >"$root/standin/cgi-bin/unready" <<'SH'
#!/bin/sh
rm -f /tmp/www/healthz
printf 'Content-Type: text/plain\r\n\r\nunready\n'
SH
  cat >"$root/standin/cgi-bin/ready" <<'SH'
#!/bin/sh
echo ok >/tmp/www/healthz
printf 'Content-Type: text/plain\r\n\r\nready\n'
SH
  cat >"$root/standin/cgi-bin/peer" <<'SH'
#!/bin/sh
# httpd listens on IPv6 too: "[::ffff:10.42.0.5]" is 10.42.0.5
peer=${REMOTE_ADDR#[}
peer=${peer%]}
printf 'Content-Type: text/plain\r\n\r\n%s\n' "${peer#::ffff:}"
SH
  chmod 755 "$root/bin/standin" "$root/standin/cgi-bin/unready" "$root/standin/cgi-bin/ready" \
    "$root/standin/cgi-bin/peer"
  umoci repack --image "$layout:standin" "$bundle" >/dev/null || return 1
  rm -rf "$bundle"
  local tag
  for tag in web:3000:80 api:8080 redis:6379; do
    local name=${tag%%:*} ports=${tag#*:}
    umoci tag --image "$layout:standin" "$name" || return 1
    local args=(--config.cmd /bin/standin)
    local p
    for p in ${ports//:/ }; do args+=(--config.cmd "$p"); done
    umoci config --image "$layout:$name" "${args[@]}" >/dev/null || return 1
  done
  FIXTURE_REGISTRY_ADDR=$MN_HOST_IP fixture_start_registry "$MN_TMP/registry" || return 1
  MN_REGISTRY=$FIXTURE_REGISTRY
  fixture_push "$layout" standin library/busybox:1.36 &&
    fixture_push "$layout" web example/web:2.0.1 &&
    fixture_push "$layout" api example/api:1.5.0 &&
    fixture_push "$layout" redis library/redis:7-alpine || return 1
  cat >"$MN_TMP/registries.yaml" <<YAML
mirrors:
  docker.io:
    endpoint: ["http://$MN_REGISTRY"]
  ghcr.io:
    endpoint: ["http://$MN_REGISTRY"]
YAML
}

# The stand-in upstream resolver every node's resolv.conf names.
mn_dns_up() {
  python3 -u "$MN_SOURCE_DIR/tests/e2e/helpers/stub_dns.py" "$MN_HOST_IP" "$MN_DNS_NAME" \
    "$MN_DNS_IP" >"$MN_TMP/stub-dns.log" 2>&1 &
  MN_DNS_PID=$!
  local _
  for _ in $(seq 1 50); do
    grep -q ready "$MN_TMP/stub-dns.log" 2>/dev/null && break
    sleep 0.1
  done
  grep -q ready "$MN_TMP/stub-dns.log" || { cat "$MN_TMP/stub-dns.log" >&2; return 1; }
  printf 'nameserver %s\noptions timeout:1 attempts:2\n' "$MN_HOST_IP" >"$MN_TMP/resolv.conf"
}

# The flags every node agent takes, for node i.
mn_agent_flags() {
  local i=$1
  MN_DATA[$i]=$MN_TMP/node-$i/data
  MN_RUN[$i]=$MN_TMP/node-$i/run
  MN_CGROUP[$i]=k8mn$MN_ID-node$i
  mkdir -p "${MN_DATA[$i]}" "${MN_RUN[$i]}"
  MN_FLAGS=(--data-dir "${MN_DATA[$i]}" --node-name "${MN_NODE_NAME[$i]}"
    --node-ip "${MN_NODE_IP[$i]}" --run-dir "${MN_RUN[$i]}"
    --pod-log-dir "$MN_TMP/node-$i/pod-logs" --cgroup-parent "${MN_CGROUP[$i]}"
    --kubelet-port $((10250 + i)) --private-registry "$MN_TMP/registries.yaml")
  # nodenet's flag: the resolvers the node (and its cluster DNS) forwards outside names to
  if "$K8C_BIN" agent --help 2>&1 | grep -q -- '--resolv-conf'; then
    MN_FLAGS+=(--resolv-conf "$MN_TMP/resolv.conf")
  fi
}

mn_start_server() {
  mn_agent_flags 1
  MN_KUBECONFIG=$MN_TMP/kubeconfig.yaml
  MN_API=https://${MN_NODE_IP[1]}:$MN_API_PORT
  # shellcheck disable=SC2086
  setsid nsenter --net="/run/netns/${MN_NETNS[1]}" "$K8C_BIN" server "${MN_FLAGS[@]}" \
    --https-listen-port "$MN_API_PORT" --bind-address 0.0.0.0 \
    --advertise-address "${MN_NODE_IP[1]}" --write-kubeconfig "$MN_KUBECONFIG" \
    ${MN_SERVER_FLAGS:-} >"$MN_TMP/node-1.log" 2>&1 &
  MN_PID[1]=$!
  local _
  for _ in $(seq 1 500); do
    curl -sk --max-time 1 "$MN_API/readyz" 2>/dev/null | grep -q ok && [ -s "$MN_KUBECONFIG" ] &&
      return 0
    if ! kill -0 "${MN_PID[1]}" 2>/dev/null; then
      mn_log "the server on node 1 exited during start-up:"
      tail -20 "$MN_TMP/node-1.log" >&2
      return 1
    fi
    sleep 0.05
  done
  mn_log "the server on node 1 is not ready after 25 s"
  return 1
}

mn_start_agent() {
  local i=$1
  mn_agent_flags "$i"
  local token
  token=$(cat "${MN_DATA[1]}/server/token") || return 1
  # shellcheck disable=SC2086
  K8C_TOKEN=$token setsid nsenter --net="/run/netns/${MN_NETNS[$i]}" "$K8C_BIN" agent \
    --server "$MN_API" "${MN_FLAGS[@]}" ${MN_AGENT_FLAGS:-} >"$MN_TMP/node-$i.log" 2>&1 &
  MN_PID[$i]=$!
}

mn_nodes_ready() {
  local n
  n=$(mn_kubectl get nodes --no-headers 2>/dev/null | awk '$2 == "Ready"' | wc -l)
  [ "$n" -eq "$MN_NODES" ]
}

mn_setup() {
  MN_NODES=${1:-3}
  if [ "$(id -u)" != 0 ]; then
    mn_log "needs root (network namespaces, containers, cgroups)"
    return 1
  fi
  fixture_need ip nsenter setsid nft curl python3 || return 1
  [ -x "$MN_KUBECTL" ] || { mn_log "kubectl $MN_KUBECTL not found"; return 1; }
  [ -x "$K8C_BIN" ] || { mn_log "$K8C_BIN not built"; return 1; }
  MN_TMP=$(mktemp -d /tmp/k8c-multinode.XXXXXX) || return 1
  MN_TORN_DOWN=0
  if [ "${MN_NO_TRAP:-0}" != 1 ]; then
    trap mn_teardown EXIT
    trap 'exit 130' INT TERM # so that EXIT runs on a signal too
  fi
  mn_pick_ids || return 1
  mn_log "network 172.31.$MN_SUBNET.0/24 on bridge $MN_BRIDGE, $MN_NODES nodes, state in $MN_TMP"
  mn_net_up || { mn_log "building the network failed"; return 1; }
  if ! mn_images >"$MN_TMP/images.log" 2>&1; then
    cat "$MN_TMP/images.log" >&2
    mn_log "building the images / starting the registry failed"
    return 1
  fi
  mn_dns_up || return 1
  mn_start_server || return 1
  local i
  for i in $(seq 2 "$MN_NODES"); do mn_start_agent "$i" || return 1; done
  local deadline=$((SECONDS + 60))
  while [ $SECONDS -lt $deadline ]; do
    mn_nodes_ready && { mn_log "$MN_NODES nodes Ready"; return 0; }
    for i in $(seq 1 "$MN_NODES"); do
      if ! kill -0 "${MN_PID[$i]}" 2>/dev/null; then
        mn_log "node $i's k8c exited:"
        tail -20 "$MN_TMP/node-$i.log" >&2
        return 1
      fi
    done
    sleep 0.5
  done
  mn_log "not every node turned Ready within 60 s"
  mn_diagnostics
  return 1
}

mn_diagnostics() {
  {
    echo "==== multinode diagnostics ($MN_TMP)"
    mn_kubectl get nodes -o wide 2>&1
    mn_kubectl get pods -A -o wide 2>&1
    mn_kubectl get svc,endpointslices -A -o wide 2>&1
    mn_kubectl get events -A --sort-by=.lastTimestamp 2>&1 | tail -25
    local i
    for i in $(seq 1 "$MN_NODES"); do
      echo "==== node $i (${MN_NODE_NAME[$i]}, ${MN_NODE_IP[$i]}, netns ${MN_NETNS[$i]})"
      mn_exec "$i" ip -br addr 2>&1
      echo "-- ip route"
      mn_exec "$i" ip route 2>&1
      echo "-- nft list ruleset"
      mn_exec "$i" nft list ruleset 2>&1 | head -${MN_DIAG_NFT_LINES:-150}
      echo "-- log tail"
      tail -25 "$MN_TMP/node-$i.log" 2>&1
    done
  } >&2
}

# Stops process pid (TERM, then KILL after 15 s).
mn_stop_pid() {
  local pid=$1 _
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

# The pods' containers first (through the agents, which remove them), then the agents and
# the server, then whatever they left: processes in the nodes' cgroups or naming the temp
# dir, mounts under it, the namespaces, the bridge, the cgroups, the files.
mn_teardown() {
  [ "$MN_TORN_DOWN" = 1 ] || [ -z "$MN_TMP" ] && return 0
  MN_TORN_DOWN=1
  set +e
  local i pid cg d
  if [ -n "${MN_PID[1]:-}" ] && kill -0 "${MN_PID[1]}" 2>/dev/null; then
    # the owners first, or their controllers make new pods while the agents remove these
    mn_kubectl delete deployments,replicasets,statefulsets,daemonsets,jobs --all \
      --all-namespaces --wait=false >/dev/null 2>&1
    mn_kubectl delete pods --all --all-namespaces --grace-period=0 --force >/dev/null 2>&1
    local deadline=$((SECONDS + 20)) busy
    while [ $SECONDS -lt $deadline ]; do
      busy=0
      for d in "${MN_RUN[@]}"; do
        [ -n "$(ls -A "$d/containers" 2>/dev/null)$(ls -A "$d/sandboxes" 2>/dev/null)" ] && busy=1
      done
      [ $busy = 0 ] && break
      sleep 0.2
    done
    [ $busy = 0 ] || mn_log "containers left after 20 s: $(for i in $(seq 1 "$MN_NODES"); do
      ls "${MN_RUN[$i]}/containers" "${MN_RUN[$i]}/sandboxes" 2>/dev/null; done | tr '\n' ' ')"
  fi
  for i in $(seq "$MN_NODES" -1 1); do mn_stop_pid "${MN_PID[$i]:-}"; done
  mn_stop_pid "$MN_DNS_PID"
  fixture_stop_registry
  for i in $(seq 1 "$MN_NODES"); do
    [ -n "${MN_CGROUP[$i]:-}" ] || continue
    for cg in /sys/fs/cgroup/*/"${MN_CGROUP[$i]}" /sys/fs/cgroup/"${MN_CGROUP[$i]}"; do
      [ -d "$cg" ] || continue
      find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r pid; do
        kill -9 "$pid" 2>/dev/null
      done
    done
  done
  for pid in $(pgrep -f "$MN_TMP"); do kill -9 "$pid" 2>/dev/null; done
  sleep 0.2
  grep -o " ${MN_TMP}[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  for i in $(seq 1 "$MN_NODES"); do
    [ -n "${MN_NETNS[$i]:-}" ] && ip netns del "${MN_NETNS[$i]}" 2>/dev/null
    [ -n "${MN_VETH[$i]:-}" ] && ip link del "${MN_VETH[$i]}" 2>/dev/null
  done
  [ -n "$MN_BRIDGE" ] && ip link del "$MN_BRIDGE" 2>/dev/null
  for i in $(seq 1 "$MN_NODES"); do
    [ -n "${MN_CGROUP[$i]:-}" ] || continue
    for cg in /sys/fs/cgroup/*/"${MN_CGROUP[$i]}" /sys/fs/cgroup/"${MN_CGROUP[$i]}"; do
      [ -d "$cg" ] && find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
  done
  if [ "${MN_KEEP:-0}" = 1 ]; then
    mn_log "kept $MN_TMP"
  else
    rm -rf "$MN_TMP"
  fi
  return 0
}
