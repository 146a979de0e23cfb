#!/usr/bin/env python3
"""fake_registry.py — a tiny distribution-v2 registry for tests of the parts a real local
registry does not exercise: the bearer-token flow with Basic credentials, a Docker manifest
list (platform selection) and a layer download that drops half-way (resume with Range).

Usage: fake_registry.py PORT_FILE USER PASSWORD LOG_FILE
Serves repository "team/app", tag "v1", on 127.0.0.1 (port written to PORT_FILE).
The layer holds hello.txt ("hello from the fake registry\\n")."""
import base64, gzip, hashlib, io, json, platform, sys, tarfile, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port_file, user, password, log_file = sys.argv[1:5]
TOKEN = "tok-" + hashlib.sha256(password.encode()).hexdigest()[:12]
BASIC = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

def digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()

raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
    data = b"hello from the fake registry\n"
    info = tarfile.TarInfo("hello.txt"); info.size = len(data); info.mtime = 1700000000
    t.addfile(info, io.BytesIO(data))
layer_tar = raw.getvalue()
layer = gzip.compress(layer_tar, mtime=0) + b""  # deterministic
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "config": {"Cmd": ["/hello"], "Env": ["A=1"]},
                     "rootfs": {"type": "layers", "diff_ids": [digest(layer_tar)]}}).encode()
manifest = json.dumps({"schemaVersion": 2,
                       "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                       "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                                  "size": len(config), "digest": digest(config)},
                       "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                                   "size": len(layer), "digest": digest(layer)}]}).encode()
arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), "amd64")
other = "s390x" if arch != "s390x" else "ppc64le"
index = json.dumps({"schemaVersion": 2,
                    "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
                    "manifests": [
                        {"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                         "size": 7, "digest": "sha256:" + "0" * 64,
                         "platform": {"os": "linux", "architecture": other}},
                        {"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                         "size": len(manifest), "digest": digest(manifest),
                         "platform": {"os": "linux", "architecture": arch}}]}).encode()
blobs = {digest(config): config, digest(layer): layer}
manifests = {"v1": (index, "application/vnd.docker.distribution.manifest.list.v2+json"),
             digest(index): (index, "application/vnd.docker.distribution.manifest.list.v2+json"),
             digest(manifest): (manifest, "application/vnd.docker.distribution.manifest.v2+json")}
lock = threading.Lock()
dropped = set()

def log(line):
    with lock, open(log_file, "a") as f:
        f.write(line + "\n")

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body=b"", ctype="application/json", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def challenge(self):
        host = self.headers.get("Host")
        self.send(401, json.dumps({"errors": [{"code": "UNAUTHORIZED",
                                               "message": "authentication required"}]}).encode(),
                  extra={"WWW-Authenticate":
                         f'Bearer realm="http://{host}/token",service="fake",'
                         f'scope="repository:team/app:pull"'})

    def do_GET(self):
        log(f"GET {self.path} range={self.headers.get('Range')} "
            f"auth={(self.headers.get('Authorization') or '').split(' ')[0]}")
        if self.path.startswith("/token"):
            if self.headers.get("Authorization") != BASIC:
                return self.send(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}')
            return self.send(200, json.dumps({"token": TOKEN}).encode())
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            return self.challenge()
        prefix = "/v2/team/app/"
        if self.path.startswith(prefix + "manifests/"):
            ref = self.path[len(prefix + "manifests/"):]
            if ref not in manifests:
                return self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')
            body, ctype = manifests[ref]
            return self.send(200, body, ctype, {"Docker-Content-Digest": digest(body)})
        if self.path.startswith(prefix + "blobs/"):
            d = self.path[len(prefix + "blobs/"):]
            if d not in blobs:
                return self.send(404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}')
            body = blobs[d]
            rng = self.headers.get("Range")
            if rng and rng.startswith("bytes="):
                start = int(rng[6:].split("-")[0])
                part = body[start:]
                self.send_response(206)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(part)))
                self.send_header("Content-Range", f"bytes {start}-{len(body)-1}/{len(body)}")
                self.end_headers()
                self.wfile.write(part)
                return
            if d == digest(layer) and d not in dropped:
                # the first download of the layer breaks off half-way
                dropped.add(d)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            return self.send(200, body, "application/octet-stream")
        self.send(404, b'{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known"}]}')

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
