#!/usr/bin/env bash
# Installs the Debian packages k8c needs to build, test and benchmark.
# Idempotent: packages already present are skipped, so `make` stays fast.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libjansson-dev libyaml-dev libmicrohttpd-dev libgnutls28-dev nettle-dev
  libsqlite3-dev zlib1g-dev libcurl4-gnutls-dev clang-format python3
  # libcurl starts libssh2; k8c starts it first without OpenSSL (src/lib/curl_global.c)
  libssh2-1-dev
  openssl curl ca-certificates jq
  # CronJob spec.timeZone: the system zoneinfo files
  tzdata
  libarchive-dev libnftables-dev libnftnl-dev libmnl-dev nftables
  # node agent: OCI runtime, container monitor, pod network, test images and registry
  crun runc conmon containernetworking-plugins iproute2
  umoci skopeo docker-registry busybox-static
  # tests: a real gRPC health server for the grpc probe
  python3-grpcio
  # ingress: nginx renders the Ingress objects
  nginx-light
  # tests: the cgroup2-only VM (tests/e2e/test_cgroup2_vm.sh, tests/vm/)
  qemu-system-x86 file
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
