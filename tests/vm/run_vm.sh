#!/bin/bash
# run_vm.sh — boot the test VM (KVM, Debian's kernel, the host's / as a read-only 9p root
# under a tmpfs overlay, cgroup2 only) and run one payload script inside it.
# Usage: run_vm.sh PAYLOAD WORK_DIR [TIMEOUT_SECONDS]
#   PAYLOAD   a bash script, copied into WORK_DIR and run there as root in the VM
#   WORK_DIR  a host directory shared read-write into the VM at the same path
#             ($K8C_VM_WORK in the payload); the serial console goes to WORK_DIR/console.log
# Exits with the payload's status (from the console's "K8C-VM-RESULT rc=N" line), or 124 on
# timeout, or 2 when the VM cannot be run (no /dev/kvm, no qemu: a clear message, never a skip).
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
payload=${1:?payload}
work=${2:?work dir}
timeout=${3:-170}
MEM=${K8C_VM_MEM:-2048}
CPUS=${K8C_VM_CPUS:-2}
MODULES=bridge,veth,br_netfilter,nf_tables,nft_chain_nat,nft_ct,nft_nat,nft_masq,nft_compat,nft_fib_inet,nft_reject_inet,nf_conntrack,nf_nat,nfnetlink,xt_conntrack,xt_MASQUERADE,xt_mark,xt_comment,xt_addrtype,xt_multiport,ip_tables,iptable_nat,iptable_filter,ip6_tables,ip6table_nat,ip6table_filter,nf_conntrack_netlink,tun,loop

die() {
  echo "run_vm.sh: $*" >&2
  exit 2
}

# KVM when asked (K8C_VM_ACCEL=kvm); by default TCG: on the CI machine (itself a Firecracker
# guest) nested KVM opens but runs the kernel's decompressor for minutes, while TCG boots the
# kernel in ~4 s.
ACCEL=${K8C_VM_ACCEL:-tcg}
if [ "$ACCEL" = kvm ]; then
  [ -e /dev/kvm ] || die "/dev/kvm is missing (K8C_VM_ACCEL=kvm)"
  [ -r /dev/kvm ] && [ -w /dev/kvm ] || die "/dev/kvm is not accessible"
  accel_args=(-accel kvm -cpu "${K8C_VM_CPU:-host,-arch-capabilities}")
else
  accel_args=(-accel tcg,thread=multi -cpu "${K8C_VM_CPU:-max}")
fi
command -v qemu-system-x86_64 >/dev/null 2>&1 ||
  die "qemu-system-x86_64 is missing (install qemu-system-x86, see scripts/install-deps.sh)"
[ -f "$payload" ] || die "no payload $payload"
mkdir -p "$work" || die "cannot create $work"
work=$(cd "$work" && pwd)

read -r kernel initrd < <(bash "$HERE/prepare.sh") || die "prepare.sh failed"
[ -f "$kernel" ] && [ -f "$initrd" ] || die "prepare.sh gave no kernel/initrd"
moddir=$(dirname "$(dirname "$kernel")")/lib/modules
# the source tree (build/k8c, tests/) is shared at its own path as well: the VM mounts its
# own tmpfs on /tmp and /run, which would hide a tree that lives there (as CI's clone may)
src=$(cd "$HERE/../.." && pwd)

# the payload goes into the work dir: the VM's /tmp is its own tmpfs
cp "$payload" "$work/payload.sh" || die "cannot copy $payload"
console=$work/console.log
: >"$console"
timeout --kill-after=5 "$timeout" qemu-system-x86_64 \
  "${accel_args[@]}" -m "$MEM" -smp "$CPUS" -nographic -no-reboot -nodefaults \
  -serial "file:$console" -nic none \
  -kernel "$kernel" -initrd "$initrd" \
  -append "console=ttyS0 quiet panic=-1 k8c.payload=$work/payload.sh k8c.work=$work k8c.src=$src k8c.moddir=$moddir k8c.modules=$MODULES" \
  -fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
  -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
  -fsdev local,id=work,path="$work",security_model=none \
  -device virtio-9p-pci,fsdev=work,mount_tag=work \
  -fsdev local,id=src,path="$src",security_model=none,readonly=on \
  -device virtio-9p-pci,fsdev=src,mount_tag=src \
  </dev/null >"$work/qemu.log" 2>&1
qrc=$?
if [ $qrc -eq 124 ] || [ $qrc -eq 137 ]; then
  echo "run_vm.sh: the VM did not finish within $timeout s" >&2
  exit 124
fi
rc=$(grep -ao 'K8C-VM-RESULT rc=[0-9]*' "$console" | tail -1 | sed 's/.*rc=//')
if [ -z "$rc" ]; then
  echo "run_vm.sh: the VM stopped without a result (qemu status $qrc):" >&2
  cat "$work/qemu.log" >&2
  exit 3
fi
exit "$rc"
