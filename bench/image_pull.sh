#!/usr/bin/env bash
# bench/image_pull.sh — image pulls per second from a local registry (issue 4): the busybox
# test image (one ~1 MB layer) served by Debian's docker-registry on 127.0.0.1, pulled with
# `k8c image pull` through a docker.io mirror. "cold" = a fresh store each time (manifest,
# config, layer download, digest checks, unpack, record); "warm" = the image is already
# there (manifest round trip only). Reports the median of RUNS batches of PULLS pulls.
# Fresh temp dir and registry; cleans up on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
K8C=${K8C_BIN:-$ROOT/build/k8c}
PULLS=${IMAGE_PULLS:-20}
RUNS=${IMAGE_RUNS:-3}
[ -x "$K8C" ] || { echo "image_pull.sh: build k8c first ($K8C)" >&2; exit 1; }
source "$ROOT/tests/lib/image_fixture.sh"
WORK=$(mktemp -d /tmp/k8c-bench-image.XXXXXX)
trap 'fixture_stop_registry || true; rm -rf "$WORK"' EXIT
fixture_build_busybox "$WORK/layout" bench
fixture_start_registry "$WORK"
fixture_push "$WORK/layout" bench library/busybox:bench
fixture_mirror_config "$WORK/registries.yaml"

pull() {
  "$K8C" image pull --data-dir "$1" --private-registry "$WORK/registries.yaml" \
    --disable-default-registry-endpoint busybox:bench >/dev/null
}

median() { python3 -c 'import sys,statistics; print(round(statistics.median(float(x) for x in sys.argv[1:]), 1))' "$@"; }

cold=() warm=()
for r in $(seq 1 "$RUNS"); do
  start=${EPOCHREALTIME/[.,]/}
  for i in $(seq 1 "$PULLS"); do
    pull "$WORK/cold-$r-$i"
  done
  end=${EPOCHREALTIME/[.,]/}
  cold+=("$(python3 -c "print($PULLS / (($end - $start) / 1e6))")")
  start=${EPOCHREALTIME/[.,]/}
  for i in $(seq 1 "$PULLS"); do
    pull "$WORK/cold-$r-1"
  done
  end=${EPOCHREALTIME/[.,]/}
  warm+=("$(python3 -c "print($PULLS / (($end - $start) / 1e6))")")
  rm -rf "$WORK"/cold-"$r"-*
  echo "image run $r: cold ${cold[-1]%.*} pulls/s, warm ${warm[-1]%.*} pulls/s" >&2
done
size=$(du -sk "$WORK/layout" | cut -f1)
echo "image pulls from a local registry (busybox, 1 layer, layout ${size} kB), $PULLS pulls x $RUNS runs, one k8c process per pull:"
echo "  cold (fresh store): $(median "${cold[@]}") pulls/s"
echo "  warm (already present): $(median "${warm[@]}") pulls/s"
