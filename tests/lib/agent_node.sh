# agent_node.sh — the teardown shared by the e2e tests that run real containers through
# a node agent (in-process or joined): pods deleted through the API and drained, the
# server stopped, then a sweep of whatever the node may have left, scoped as
# scripts/k8c-killall.sh scopes one node (processes in its cgroup parent and any started
# under the test's temp dir, mounts there, its bridge, its cgroups) but leaving alone what
# every node on the machine shares (the cluster-DNS dummy, nftables tables, host-gw
# routes), which killall removes and other tests running meanwhile still use.
# Also the node's names and the start of its server. Source after lib.sh and
# image_fixture.sh, then call agent_node_init.

# agent_node_init TAG LETTER — ends the test unless it runs as root; sets the node's own
# names from the test's PID: SUFFIX, BRIDGE (k8c LETTER PID), CGROUP (k8c TAG -PID),
# RUN_DIR, LOG_DIR, BLOCK and CLUSTER_CIDR (a /24 of 10.42/16 picked by the PID).
agent_node_init() {
  if [ "$(id -u)" != 0 ]; then
    echo "FATAL: $(basename "$0") needs root (containers, network namespaces, cgroups)" >&2
    exit 1
  fi
  SUFFIX=$$
  BRIDGE=k8c$2$((SUFFIX % 100000))
  CGROUP=k8c$1-$SUFFIX
  RUN_DIR=$E2E_TMP/run
  LOG_DIR=$E2E_TMP/pods-logs
  BLOCK=$((20 + SUFFIX % 200))
  CLUSTER_CIDR=10.42.$BLOCK.0/24
}

# agent_node_serve_busybox — the usual images: busybox built into LAYOUT ($E2E_TMP/layout,
# tag base) and served as docker.io's library/busybox:1.36 by a local registry, with
# $E2E_TMP/registries.yaml naming it the mirror; ends the test when that fails.
agent_node_serve_busybox() {
  LAYOUT=$E2E_TMP/layout
  if ! { fixture_build_busybox "$LAYOUT" base && fixture_start_registry "$E2E_TMP" &&
    fixture_push "$LAYOUT" base library/busybox:1.36 &&
    fixture_mirror_config "$E2E_TMP/registries.yaml"; } >"$E2E_TMP/fixture.log" 2>&1; then
    cat "$E2E_TMP/fixture.log" >&2
    echo "FATAL: building the image / starting the registry failed" >&2
    exit 1
  fi
}

# agent_node_server_start NODE [FLAGS...] — `k8c server` with its in-process agent as
# node NODE on the test's own run and log dirs, cgroup parent, bridge and pod CIDR,
# pulling through the fixture's mirror ($E2E_TMP/registries.yaml), no kubelet port, no
# ingress unless FLAGS say otherwise; waits until it is ready.
agent_node_server_start() {
  local node=$1
  shift
  DATA_DIR=$E2E_TMP/data
  PORT=$(free_port)
  KUBECONFIG_FILE=$E2E_TMP/kubeconfig.yaml
  "$K8C_BIN" server --data-dir "$DATA_DIR" --https-listen-port "$PORT" --bind-address 127.0.0.1 \
    --write-kubeconfig "$KUBECONFIG_FILE" --node-name "$node" --cluster-cidr "$CLUSTER_CIDR" \
    --run-dir "$RUN_DIR" --pod-log-dir "$LOG_DIR" --cgroup-parent "$CGROUP" --bridge "$BRIDGE" \
    --private-registry "$E2E_TMP/registries.yaml" --kubelet-port 0 ${AGENT_NODE_INGRESS---disable-ingress} \
    "$@" >>"$E2E_TMP/server.log" 2>&1 &
  SERVER_PID=$!
  server_wait_ready 20
}

# agent_node_drain_pods VERSION — force-deletes every pod with that kubectl and waits up
# to 10 s for the agent to remove their containers and sandboxes. Nothing when the server
# is not running.
agent_node_drain_pods() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kc "$1" delete pods --all --all-namespaces --grace-period=0 --force >/dev/null 2>&1
    local _
    for _ in $(seq 1 100); do
      [ -z "$(ls -A "$RUN_DIR/containers" 2>/dev/null)" ] &&
        [ -z "$(ls -A "$RUN_DIR/sandboxes" 2>/dev/null)" ] && break
      sleep 0.1
    done
  fi
}

# The cgroup directories of the node: one per v1 controller, or the v2 tree.
agent_node_cgroups() {
  local cg
  for cg in /sys/fs/cgroup/*/"$CGROUP" /sys/fs/cgroup/"$CGROUP"; do
    [ -d "$cg" ] && echo "$cg"
  done
}

# agent_node_sweep — kills what runs in the node's cgroups or from the test's temp dir,
# unmounts everything under it (deepest first), deletes the bridge and the cgroups.
agent_node_sweep() {
  local cg pid
  for cg in $(agent_node_cgroups); do
    for pid in $(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  done
  for pid in $(pgrep -f "$E2E_TMP"); do kill -9 "$pid" 2>/dev/null; done
  sleep 0.2
  grep -o " $E2E_TMP[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  ip link del "$BRIDGE" 2>/dev/null
  for cg in $(agent_node_cgroups); do
    find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
}

# agent_node_teardown — stops the server and the image registry, sweeps, and removes the
# temp dir (lib.sh's e2e_cleanup). For cleanups that drained the pods themselves.
agent_node_teardown() {
  set +e
  server_stop
  fixture_stop_registry
  agent_node_sweep
  e2e_cleanup
}

# agent_node_cleanup VERSION — the whole teardown: `trap "agent_node_cleanup 1.33" EXIT`.
agent_node_cleanup() {
  set +e
  agent_node_drain_pods "$1"
  agent_node_teardown
}
