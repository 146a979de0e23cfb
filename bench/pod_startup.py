#!/usr/bin/env python3
"""pod_startup.py — create → Ready latency of real pods: watches pods in a namespace over
HTTPS (admin client certificate), creates COUNT pods at RATE per second, and reports, per
pod, the time from just before its POST until the watch first shows it Ready=True.
Prints one JSON line with p50/p90/p99/max in milliseconds."""
import http.client, json, ssl, sys, threading, time

server, tls, ns, count, rate, image = sys.argv[1:7]
count, rate = int(count), float(rate)
host, port = server.replace("https://", "").split(":")
ctx = ssl.create_default_context(cafile=f"{tls}/server-ca.crt")
ctx.load_cert_chain(f"{tls}/client-admin.crt", f"{tls}/client-admin.key")

def conn():
    return http.client.HTTPSConnection(host, int(port), context=ctx, timeout=120)

created, ready = {}, {}
done = threading.Event()

def watch():
    c = conn()
    c.request("GET", f"/api/v1/namespaces/{ns}/pods?watch=1")
    r = c.getresponse()
    buf = b""
    while not done.is_set():
        chunk = r.read1(65536) if hasattr(r, "read1") else r.read(1)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if not line.strip():
                continue
            ev = json.loads(line)
            obj = ev.get("object", {})
            name = obj.get("metadata", {}).get("name")
            for cond in obj.get("status", {}).get("conditions", []) or []:
                if cond.get("type") == "Ready" and cond.get("status") == "True" and name not in ready:
                    ready[name] = time.monotonic()
        if len(ready) >= count:
            done.set()

t = threading.Thread(target=watch, daemon=True)
t.start()
time.sleep(0.5)
c = conn()
start = time.monotonic()
for i in range(count):
    due = start + i / rate
    now = time.monotonic()
    if due > now:
        time.sleep(due - now)
    name = f"p{i:04d}"
    body = json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                       "spec": {"terminationGracePeriodSeconds": 1,
                                "containers": [{"name": "c", "image": image,
                                                "imagePullPolicy": "IfNotPresent",
                                                "command": ["sleep", "3600"]}]}})
    created[name] = time.monotonic()
    c.request("POST", f"/api/v1/namespaces/{ns}/pods", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    if r.status != 201:
        print(f"create {name}: HTTP {r.status}", file=sys.stderr)
        sys.exit(1)
done.wait(120)
lat = sorted((ready[n] - created[n]) * 1000 for n in created if n in ready)
if len(lat) < count:
    print(f"only {len(lat)} of {count} pods became Ready", file=sys.stderr)
def pct(p):
    return round(lat[min(len(lat) - 1, int(len(lat) * p / 100))], 1) if lat else None
print(json.dumps({"pods": count, "ready": len(lat), "rate_per_s": rate, "p50_ms": pct(50),
                  "p90_ms": pct(90), "p99_ms": pct(99), "max_ms": round(lat[-1], 1) if lat else None}))
