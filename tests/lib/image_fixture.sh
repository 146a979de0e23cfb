# image_fixture.sh — build tiny OCI images and serve them from a local registry, for tests
# and benchmarks that pull images without the internet.
#
# Source it, then:
#   fixture_build_busybox LAYOUT_DIR TAG
#       an OCI layout with LAYOUT_DIR:TAG = busybox-static as /bin/busybox plus sh/ls/cat/...
#       links, /etc/passwd, /etc/group, /etc/motd (one layer; Cmd /bin/sh, Env PATH=/bin).
#   fixture_add_whiteout_layer LAYOUT_DIR FROM TO
#       TO = FROM plus a second layer that deletes /etc/motd (a whiteout); the base layer is
#       shared with FROM.
#   fixture_start_registry WORK_DIR      starts Debian's docker-registry on 127.0.0.1:<free
#       port> (or $FIXTURE_REGISTRY_ADDR: another local address, e.g. a test bridge's, which
#       network namespaces can reach); sets FIXTURE_REGISTRY (host:port) and
#       FIXTURE_REGISTRY_PID.
#   fixture_push LAYOUT_DIR TAG REPO[:TAG]  skopeo copy oci:LAYOUT_DIR:TAG →
#       docker://$FIXTURE_REGISTRY/REPO
#   fixture_stop_registry                 stops the registry started above.
#   fixture_mirror_config FILE            writes a registries.yaml making $FIXTURE_REGISTRY the
#       mirror of docker.io (so "busybox:TAG" resolves to it).
#   fixture_build_nginx LAYOUT_DIR TAG
#       nginx from Debian's nginx and nginx-common packages (downloaded once with
#       `apt-get download` into $K8C_DEB_CACHE, default ~/.cache/k8c-debs, unless nginx is
#       installed), laid out like the official image: /etc/nginx/conf.d/default.conf serving
#       /usr/share/nginx/html on port 80, user nginx (101), logs to stdout/stderr, Cmd
#       ["nginx", "-g", "daemon off;"], StopSignal SIGQUIT; busybox tools for exec; host
#       shared libraries copied in. Checked with `nginx -t` in a chroot.
# Everything fails loudly (non-zero status and a message) when a tool is missing.

fixture_need() {
  local tool
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "image_fixture: required tool '$tool' is not installed" >&2
      return 1
    fi
  done
}

fixture_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# fixture_populate_busybox ROOT BUSYBOX: a minimal busybox root filesystem in ROOT.
fixture_populate_busybox() {
  local root=$1 bb=$2
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root" "$root/proc" "$root/sys" "$root/dev"
  chmod 1777 "$root/tmp"
  cp "$bb" "$root/bin/busybox"
  local applet
  for applet in sh ls cat echo sleep true false env id ps mkdir rm wc head grep hostname \
    touch date kill sync mount uname nc wget httpd; do
    ln -sf busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  echo "k8c test image" >"$root/etc/motd"
}

fixture_busybox_binary() {
  local bb
  bb=$(command -v busybox)
  if ! file -L "$bb" 2>/dev/null | grep -q 'statically linked' && [ -x /bin/busybox ]; then
    bb=/bin/busybox
  fi
  echo "$bb"
}

fixture_build_busybox() {
  local layout=$1 tag=$2
  fixture_need umoci busybox || return 1
  local bb
  bb=$(fixture_busybox_binary)
  local bundle
  bundle=$(mktemp -d "${TMPDIR:-/tmp}/k8c-bundle.XXXXXX") || return 1
  [ -d "$layout" ] || umoci init --layout "$layout" || return 1
  umoci new --image "$layout:$tag" &&
    umoci unpack --image "$layout:$tag" "$bundle/b" >/dev/null || { rm -rf "$bundle"; return 1; }
  fixture_populate_busybox "$bundle/b/rootfs" "$bb"
  umoci repack --image "$layout:$tag" "$bundle/b" >/dev/null || { rm -rf "$bundle"; return 1; }
  umoci config --image "$layout:$tag" --config.cmd /bin/sh --config.env PATH=/bin \
    --config.workingdir / --config.label org.k8c.test=busybox >/dev/null || { rm -rf "$bundle"; return 1; }
  rm -rf "$bundle"
}

fixture_add_whiteout_layer() {
  local layout=$1 from=$2 to=$3
  fixture_need umoci || return 1
  local bundle
  bundle=$(mktemp -d "${TMPDIR:-/tmp}/k8c-bundle.XXXXXX") || return 1
  # a fresh unpack of FROM, so the repack's diff is only the deletion
  umoci tag --image "$layout:$from" "$to" &&
    umoci unpack --image "$layout:$to" "$bundle/c" >/dev/null &&
    rm -f "$bundle/c/rootfs/etc/motd" &&
    umoci repack --image "$layout:$to" "$bundle/c" >/dev/null
  local rc=$?
  rm -rf "$bundle"
  return $rc
}

fixture_start_registry() {
  local work=$1
  fixture_need docker-registry skopeo python3 curl || return 1
  mkdir -p "$work/registry-storage"
  local port addr=${FIXTURE_REGISTRY_ADDR:-127.0.0.1}
  port=$(fixture_free_port) || return 1
  cat >"$work/registry.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry-storage
  delete:
    enabled: true
http:
  addr: $addr:$port
YAML
  docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
  FIXTURE_REGISTRY_PID=$!
  FIXTURE_REGISTRY=$addr:$port
  local i
  for i in $(seq 1 100); do
    if curl -fsS "http://$FIXTURE_REGISTRY/v2/" >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$FIXTURE_REGISTRY_PID" 2>/dev/null; then
      echo "image_fixture: docker-registry exited:" >&2
      cat "$work/registry.log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "image_fixture: docker-registry did not answer on $FIXTURE_REGISTRY" >&2
  return 1
}

fixture_push() {
  local layout=$1 tag=$2 repo=$3
  skopeo copy --quiet --dest-tls-verify=false "oci:$layout:$tag" "docker://$FIXTURE_REGISTRY/$repo"
}

fixture_stop_registry() {
  if [ -n "${FIXTURE_REGISTRY_PID:-}" ]; then
    kill "$FIXTURE_REGISTRY_PID" 2>/dev/null
    wait "$FIXTURE_REGISTRY_PID" 2>/dev/null || true
    FIXTURE_REGISTRY_PID=
  fi
}

fixture_mirror_config() {
  cat >"$1" <<YAML
mirrors:
  docker.io:
    endpoint:
      - "http://$FIXTURE_REGISTRY"
YAML
}

fixture_nginx_files() {
  # prints a directory holding the extracted nginx + nginx-common packages
  if [ -x /usr/sbin/nginx ] && [ -f /etc/nginx/mime.types ] &&
    [ -f /usr/share/nginx/html/index.html ]; then
    echo "" # installed on the host: the files are at their usual paths
    return 0
  fi
  local cache=${K8C_DEB_CACHE:-$HOME/.cache/k8c-debs}
  mkdir -p "$cache/x" || return 1
  if [ ! -x "$cache/x/usr/sbin/nginx" ]; then
    (cd "$cache" && ls nginx_*.deb >/dev/null 2>&1 || apt-get download nginx nginx-common) >&2 ||
      { echo "image_fixture: cannot download Debian's nginx packages" >&2; return 1; }
    local deb
    for deb in "$cache"/nginx_*.deb "$cache"/nginx-common_*.deb; do
      dpkg-deb -x "$deb" "$cache/x" || return 1
    done
  fi
  echo "$cache/x"
}

fixture_build_nginx() {
  local layout=$1 tag=$2
  fixture_need umoci dpkg-deb ldd || return 1
  local files
  files=$(fixture_nginx_files) || return 1
  local bundle
  bundle=$(mktemp -d "${TMPDIR:-/tmp}/k8c-bundle.XXXXXX") || return 1
  [ -d "$layout" ] || umoci init --layout "$layout" || { rm -rf "$bundle"; return 1; }
  umoci new --image "$layout:$tag" &&
    umoci unpack --image "$layout:$tag" "$bundle/b" >/dev/null || { rm -rf "$bundle"; return 1; }
  local root=$bundle/b/rootfs
  fixture_populate_busybox "$root" "$(fixture_busybox_binary)"
  mkdir -p "$root/usr/sbin" "$root/etc/nginx/conf.d" "$root/usr/share/nginx/html" \
    "$root/var/log/nginx" "$root/var/lib/nginx" "$root/var/cache/nginx" "$root/run"
  cp "$files/usr/sbin/nginx" "$root/usr/sbin/nginx"
  cp "$files/etc/nginx/mime.types" "$root/etc/nginx/"
  cp "$files/usr/share/nginx/html/index.html" "$root/usr/share/nginx/html/"
  local lib
  for lib in $(ldd "$files/usr/sbin/nginx" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  echo 'nginx:x:101:101:nginx:/nonexistent:/bin/false' >>"$root/etc/passwd"
  echo 'nginx:x:101:' >>"$root/etc/group"
  ln -sf /dev/stdout "$root/var/log/nginx/access.log"
  ln -sf /dev/stderr "$root/var/log/nginx/error.log"
  cat >"$root/etc/nginx/nginx.conf" <<'CONF'
user nginx;
worker_processes auto;
error_log /var/log/nginx/error.log notice;
pid /run/nginx.pid;
events {
  worker_connections 1024;
}
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log /var/log/nginx/access.log;
  sendfile on;
  keepalive_timeout 65;
  include /etc/nginx/conf.d/*.conf;
}
CONF
  cat >"$root/etc/nginx/conf.d/default.conf" <<'CONF'
server {
  listen 80;
  listen [::]:80;
  server_name localhost;
  location / {
    root /usr/share/nginx/html;
    index index.html index.htm;
  }
}
CONF
  if ! chroot "$root" /usr/sbin/nginx -t >"$bundle/nginx-t.log" 2>&1; then
    echo "image_fixture: nginx -t failed in the image:" >&2
    cat "$bundle/nginx-t.log" >&2
    rm -rf "$bundle"
    return 1
  fi
  rm -f "$root/run/nginx.pid"
  umoci repack --image "$layout:$tag" "$bundle/b" >/dev/null &&
    umoci config --image "$layout:$tag" --config.cmd nginx --config.cmd -g \
      --config.cmd 'daemon off;' \
      --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      --config.exposedports 80/tcp --config.stopsignal SIGQUIT --config.workingdir / \
      --config.label org.k8c.test=nginx >/dev/null
  local rc=$?
  rm -rf "$bundle"
  return $rc
}
