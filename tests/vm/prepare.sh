#!/bin/bash
# prepare.sh — fetch Debian's kernel (without installing it) and build a busybox initramfs
# for the test VM; idempotent, everything cached under $K8C_VM_CACHE (/var/cache/k8c-test-vm).
# The one design idea: the VM's root is the host's own / over 9p, so the initramfs only has
# to hold the modules that reach it; the rest are loaded from the cached tree afterwards.
# Prints the cache dir's kernel and initramfs paths as "KERNEL INITRD" on success.
set -euo pipefail

CACHE=${K8C_VM_CACHE:-/var/cache/k8c-test-vm}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() {
  echo "tests/vm/prepare.sh: $*" >&2
  exit 1
}

for tool in apt-cache apt-get dpkg-deb gzip busybox; do
  command -v "$tool" >/dev/null 2>&1 || die "required tool '$tool' is not installed"
done
file -L "$(command -v busybox)" 2>/dev/null | grep -q 'statically linked' ||
  die "busybox is not static (install busybox-static)"

mkdir -p "$CACHE"
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$pkg" ] || die "cannot resolve linux-image-amd64 to a kernel package (apt-get update?)"
kver=${pkg#linux-image-}
tree=$CACHE/$kver
if [ ! -f "$tree/.done" ]; then
  rm -rf "$tree" "$CACHE/dl"
  mkdir -p "$CACHE/dl"
  (cd "$CACHE/dl" && apt-get download "$pkg" >/dev/null 2>&1) || die "apt-get download $pkg failed"
  dpkg-deb -x "$CACHE"/dl/"$pkg"_*.deb "$tree"
  busybox depmod -b "$tree" "$kver"
  rm -rf "$CACHE/dl"
  touch "$tree/.done"
fi
kernel=$tree/boot/vmlinuz-$kver
moddir=$tree/lib/modules/$kver
[ -f "$kernel" ] || die "no kernel at $kernel"

initrd=$CACHE/initrd-$kver.cpio.gz
stamp=$(cat "$HERE/init" "$HERE/prepare.sh" | md5sum | cut -c1-16)
if [ ! -f "$initrd" ] || [ "$(cat "$initrd.stamp" 2>/dev/null)" != "$stamp" ]; then
  work=$(mktemp -d /tmp/k8c-vm-initrd.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work"/{bin,dev,proc,sys,newroot,lib/modules/"$kver"}
  cp "$(command -v busybox)" "$work/bin/busybox"
  ln -s busybox "$work/bin/sh"
  cp "$HERE/init" "$work/init"
  chmod +x "$work/init"
  # the modules that reach the 9p root and build the overlay, with their dependencies
  cp "$moddir"/modules.{dep,alias,builtin} "$work/lib/modules/$kver/"
  for m in virtio_pci 9pnet_virtio 9p overlay; do
    line=$(grep -E "/$m\.ko:" "$moddir/modules.dep") || die "module $m not in $moddir"
    for f in ${line/:/}; do
      mkdir -p "$work/lib/modules/$kver/$(dirname "$f")"
      cp "$moddir/$f" "$work/lib/modules/$kver/$f"
    done
  done
  (cd "$work" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$initrd.tmp"
  mv "$initrd.tmp" "$initrd"
  echo "$stamp" >"$initrd.stamp"
fi
echo "$kernel $initrd"
