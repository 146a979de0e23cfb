#!/usr/bin/env python3
"""render_results.py — turns bench/run.sh's JSON lines into bench/RESULTS.md.

Usage: render_results.py RESULTS.jsonl ELAPSED_SECONDS > RESULTS.md
One row per figure: what was measured, its target (if the project set one), the
median over runs, the number of runs, and whether the target was met."""
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True,
                                cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return [
        ("CPUs (nproc)", str(os.cpu_count())),
        ("CPU model", cpu),
        ("memory", f"{mem_kib / 1024 / 1024:.1f} GiB"),
        ("kernel", platform.release()),
        ("date", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("k8c commit", commit),
    ]


def fmt(value, digits):
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    return f"{value:,.{digits}f}"


CLIENT_LABELS = {"raw": "raw GnuTLS client", "curl": "libcurl client"}


def client_label(line):
    return CLIENT_LABELS.get(line.get("client", "curl"), line.get("client"))


def cost_table(lines):
    """Requests/s and CPU per request of each HTTP client of the load generator."""
    out = ["## Load generator cost per request", "",
           "The same scenario driven by each HTTP client of the load generator (`--client`),",
           "against the same server. Only the first client's runs give the figures above; on",
           "2 shared cores, every µs the generator spends is a µs the server does not get.", "",
           "| scenario | client | requests/s | load generator CPU per request (µs) "
           "| server CPU per request (µs) | cores busy: server / load generator / rest "
           "| runs |",
           "|---|---|---|---|---|---|---|"]
    for l in lines:
        rate = l.get("gets_per_s") or l.get("creates_per_s")
        out.append(f"| {l['scenario']} | {client_label(l)} | {fmt(rate, 0)} "
                   f"| {fmt(l.get('loadgen_cpu_us_per_request'), 1)} "
                   f"| {fmt(l.get('server_cpu_us_per_request'), 1)} "
                   f"| {fmt(l.get('server_cpu_cores'), 2)} / {fmt(l.get('loadgen_cpu_cores'), 2)}"
                   f" / {fmt(max(0.0, l['other_cpu_cores']) if 'other_cpu_cores' in l else None, 2)} "
                   f"| {l['runs']} |")
    return out + [""]


def main():
    lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    elapsed = sys.argv[2]
    # Lines marked "comparison" are the same scenario with the other HTTP client; they only
    # feed the load-generator cost table, never the headline figures.
    by = {l["scenario"]: l for l in lines if not l.get("comparison")}
    compared = [l for l in lines if l.get("comparison")]
    rows = []  # (metric, target text, value, digits, runs, check)

    def add(metric, target, value, digits, runs, check=None):
        rows.append((metric, target, value, digits, runs, check))

    def add_cpu(what, line):
        if "server_cpu_cores" in line and "loadgen_cpu_cores" in line:
            text = f"{line['server_cpu_cores']:.2f} / {line['loadgen_cpu_cores']:.2f}"
            label = "server / load generator"
            if "other_cpu_cores" in line:
                text += f" / {max(0.0, line['other_cpu_cores']):.2f}"
                label += " / rest of the machine"
            add(f"CPU cores busy during {what}: {label}", "—", text, 0, line["runs"])
            ops = line.get("creates_per_s") or line.get("gets_per_s")
            if ops and line["server_cpu_cores"] > 0:
                add(f"{what} per server CPU-second (server efficiency)", "—",
                    ops / line["server_cpu_cores"], 0, line["runs"])

    def med(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    if "startup" in by:
        s = by["startup"]
        add("start-up: exec → /readyz 200 (ms)", "< 200", med(s["ready_ms_runs"]), 1,
            len(s["ready_ms_runs"]), lambda v: v < 200)
        add("idle RSS after ready (MiB)", "< 20 MB", med(s["idle_rss_mib_runs"]), 1,
            len(s["idle_rss_mib_runs"]), lambda v: v * 1.048576 < 20)
    if "create" in by:
        c = by["create"]
        conc = c["concurrency"]
        add(f"pod creates/s ({conc} clients, {c['pods_per_run']:,} pods per run; "
            f"{client_label(c)})", "≥ 5,000",
            c["creates_per_s"], 0, c["runs"], lambda v: v >= 5000)
        for p in ("p50", "p90", "p99"):
            if p == "p99":
                add(f"create latency {p} (ms)", "< 25", c[f"{p}_ms"], 2, c["runs"], lambda v: v < 25)
            else:
                add(f"create latency {p} (ms)", "—", c[f"{p}_ms"], 2, c["runs"])
        add_cpu("creates", c)
    if "get" in by:
        g = by["get"]
        add(f"pod gets/s ({g['concurrency']} clients, random of {g['pods']:,} pods; "
            f"{client_label(g)})", "≥ 30,000",
            g["gets_per_s"], 0, g["runs"], lambda v: v >= 30000)
        add("get latency p50 (ms)", "—", g["p50_ms"], 3, g["runs"])
        add("get latency p99 (ms)", "< 25", g["p99_ms"], 3, g["runs"], lambda v: v < 25)
        add_cpu("gets", g)
    if "list" in by:
        l = by["list"]
        add(f"list {l['items']:,} pods, full JSON ({l['bytes'] / 1048576:.1f} MiB) (ms)", "—",
            l["list_ms"], 2, l["runs"])
    if "rss_stored" in by:
        r = by["rss_stored"]
        add(f"RSS with {r['pods']:,} pods stored (MiB)", "< 150 MB", med(r["rss_mib_runs"]), 1,
            len(r["rss_mib_runs"]), lambda v: v * 1.048576 < 150)
    if "watch" in by:
        w = by["watch"]
        what = f"{w['live_watchers_min']:,}/{w['watchers']:,} watchers, {w['events_per_run']} creates"
        if w.get("create_rate"):
            what += f" at {w['create_rate']:.0f}/s"
        add(f"watch fan-out p50 ({what}) (ms)", "—", w["fanout_p50_ms"], 2, w["runs"])
        add("watch fan-out p99 (ms)", "—", w["fanout_p99_ms"], 2, w["runs"])
        if "fanout_from_request_p50_ms" in w:
            add("watch fan-out from create request p50 (ms)", "—", w["fanout_from_request_p50_ms"],
                2, w["runs"])
            add("watch fan-out from create request p99 (ms)", "—", w["fanout_from_request_p99_ms"],
                2, w["runs"])
        add("watch events delivered/s (pods × watchers)", "—", w["events_delivered_per_s"], 0,
            w["runs"])
        add(f"watch: open {w['watchers']:,} streams until all live (ms)", "—", w["watch_setup_ms"], 0,
            w["runs"])

    out = ["# k8c API benchmark results", "",
           "Produced by `make bench` (bench/run.sh, bench/loadgen); see bench/README.md for what",
           "each figure means. Load generator and server share the machine below; traffic is",
           "loopback HTTPS/1.1 with mutual TLS and keep-alive connections."]
    headline = [l for l in (by.get("create"), by.get("get")) if l]
    if headline:
        out += [f"Creates and gets were driven by the load generator's {client_label(headline[0])}",
                "(the cost of each client per request is in the table after this one)."]
    out += ["",
           "| metric | target | measured (median) | runs | met |",
           "|---|---|---|---|---|"]
    for metric, target, value, digits, runs, check in rows:
        met = "—" if check is None else ("n/a" if value is None else ("yes" if check(value) else "**no**"))
        out.append(f"| {metric} | {target} | {fmt(value, digits)} | {runs} | {met} |")
    failures = {k: v for k, v in ((l["scenario"] + (f" ({l['client']} client)" if "client" in l else ""),
                                   l.get("failed", 0)) for l in lines) if v}
    incomplete = by.get("watch", {}).get("incomplete", 0)
    out += ["", "Failed requests: " + (", ".join(f"{k} {v}" for k, v in failures.items()) or "none")
            + f"; watch events not delivered to every watcher: {incomplete}.", ""]
    costed = [l for l in ([by.get("get"), by.get("create")] + compared)
              if l and "loadgen_cpu_us_per_request" in l]
    if costed:
        costed.sort(key=lambda l: (l["scenario"] != "get", bool(l.get("comparison"))))
        out += cost_table(costed)
    out += ["## Machine", "", "| | |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in machine()]
    if "machine_load" in by:
        m = by["machine_load"]
        out.append(f"| load average (1/5/15 min) at start / end of the run | "
                   f"{m['loadavg_start']} / {m['loadavg_end']} |")
    out += ["", f"Whole run: {elapsed} s.", "", "## Raw results (one JSON line per scenario)", "",
            "```"] + [json.dumps(l, separators=(",", ":")) for l in lines] + ["```", ""]
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
