#!/usr/bin/env bash
# test_cgroup2_vm.sh — the node agent on a pure cgroup v2 host: boots a small VM whose only
# cgroup hierarchy is cgroup2 (tests/vm/run_vm.sh: Debian's kernel, the host's / as a
# read-only 9p root under a tmpfs overlay) and runs tests/vm/cgroup2_payload.sh there: a
# real k8c cluster whose pods' requests/limits must land in memory.max, cpu.max,
# cpu.weight and pids.max, with OOMKilled, exec and logs working. Uses build/k8c from
# this tree. Fails (never skips) when qemu is missing; prints the VM's console on failure.
set -u
SRC=${K8C_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
K8C_BIN=${K8C_BIN:-$SRC/build/k8c}
source "$SRC/tests/lib/image_fixture.sh"

if [ "$(id -u)" != 0 ]; then
  echo "FATAL: $(basename "$0") needs root" >&2
  exit 1
fi
[ -x "$K8C_BIN" ] || { echo "FATAL: no $K8C_BIN (build it first)" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null 2>&1 ||
  { echo "FATAL: qemu-system-x86_64 is missing (apt-get install qemu-system-x86)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/k8c-cg2vm.XXXXXX)
[ -n "${K8C_VM_KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT  # K8C_VM_KEEP=1 keeps the logs

start=$SECONDS
if ! fixture_build_busybox "$WORK/layout" base >"$WORK/fixture.log" 2>&1; then
  cat "$WORK/fixture.log" >&2
  echo "FATAL: building the busybox image failed" >&2
  exit 1
fi
cat >"$WORK/wrapper.sh" <<WRAP
K8C_SOURCE_DIR=$SRC K8C_BIN=$K8C_BIN exec bash $SRC/tests/vm/cgroup2_payload.sh
WRAP
bash "$SRC/tests/vm/run_vm.sh" "$WORK/wrapper.sh" "$WORK" "${K8C_VM_TIMEOUT:-165}"
rc=$?
tr -d '\r' <"$WORK/console.log" | grep -a -E '^(ok|FAIL|FATAL|images|node|pod|all|[0-9]+ passed)' 
echo "VM test took $((SECONDS - start)) s"
if [ $rc -ne 0 ]; then
  echo "FAIL the cgroup2 VM test (status $rc); the VM's console:"
  cat -v "$WORK/console.log" | tail -150
  if [ -f "$WORK/server.log" ]; then
    echo "---- server.log (tail)"
    tail -60 "$WORK/server.log"
  fi
  exit 1
fi
echo "PASS cgroup2 VM test"
