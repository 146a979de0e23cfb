#!/bin/bash
# k8c-killall.sh — stops a node completely, as k3s-killall.sh does: the k8c processes, every
# container they started (conmon and the container processes, found through the cgroup
# tree), the mounts under the run and data dirs (rootfs overlays, namespace bind mounts),
# the CNI bridge, the cluster-DNS dummy interface, the host-gw routes, k8c's nftables tables
# and the cgroups.
# State on disk (the store, images) stays; a node started again comes up empty of pods.
# Usage: scripts/k8c-killall.sh [--run-dir DIR] [--data-dir DIR] [--cgroup-parent NAME]
#                               [--bridge NAME]   (defaults: k8c's own defaults)
set -u

RUN_DIR=/run/k8c
DATA_DIR=/var/lib/k8c
CGROUP_PARENT=k8c
BRIDGE=k8c0

while [ $# -gt 0 ]; do
  case "$1" in
  --run-dir) RUN_DIR=$2; shift 2 ;;
  --data-dir) DATA_DIR=$2; shift 2 ;;
  --cgroup-parent) CGROUP_PARENT=$2; shift 2 ;;
  --bridge) BRIDGE=$2; shift 2 ;;
  -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "k8c-killall: unknown argument $1" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" != 0 ]; then
  echo "k8c-killall: must run as root" >&2
  exit 1
fi

# The cgroup directories of the node: one per v1 controller, or the v2 tree.
node_cgroups() {
  local cg
  for cg in /sys/fs/cgroup/*/"$CGROUP_PARENT" /sys/fs/cgroup/"$CGROUP_PARENT"; do
    [ -d "$cg" ] && echo "$cg"
  done
}

# 1. The k8c processes using this run dir or data dir (server, agent); a process given
#    neither flag uses the defaults, so it is ours only when the defaults are asked for.
DEFAULTS=no
[ "$RUN_DIR" = /run/k8c ] && [ "$DATA_DIR" = /var/lib/k8c ] && DEFAULTS=yes
for pid in $(pgrep -f "k8c (server|agent)"); do
  args=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
  case "$args" in
  *"$RUN_DIR"* | *"$DATA_DIR"*) kill -TERM "$pid" 2>/dev/null ;;
  *--run-dir* | *--data-dir*) ;;
  *) [ $DEFAULTS = yes ] && kill -TERM "$pid" 2>/dev/null ;;
  esac
done
sleep 1

# 2. Every process in the node's cgroups (conmon, containers), then conmons by bundle path.
for cg in $(node_cgroups); do
  for pid in $(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null); do
    kill -KILL "$pid" 2>/dev/null
  done
done
for pid in $(pgrep -f "conmon .*$RUN_DIR/containers"); do kill -KILL "$pid" 2>/dev/null; done
sleep 0.3

# 3. Mounts under the run and data dirs, deepest first.
for dir in "$RUN_DIR" "$DATA_DIR"; do
  awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
    sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
done

# 4. Network: the bridge (its veths go with the pods' namespaces), the DNS dummy, nftables.
ip link del "$BRIDGE" 2>/dev/null
ip link del k8c-dns 2>/dev/null
ip route flush proto 107 2>/dev/null # host-gw routes to other nodes' pod CIDRs (src/nodenet/nl.h)
for table in $(nft list tables 2>/dev/null | awk '$3 ~ /^k8c/ { print $2 "/" $3 }'); do
  nft delete table "${table%/*}" "${table#*/}" 2>/dev/null
done

# 5. The cgroups, leaves first.
for cg in $(node_cgroups); do
  find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
done

# 6. Runtime state that described the removed containers and sandboxes.
rm -rf "$RUN_DIR/containers" "$RUN_DIR/sandboxes" "$RUN_DIR/netns" "$DATA_DIR/agent/cni/ipam"
echo "k8c-killall: node stopped (run dir $RUN_DIR, cgroup parent $CGROUP_PARENT)"
