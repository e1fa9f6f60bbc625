#!/usr/bin/env python3
"""Interleaved A/B of `podsim apply` (whole process, --trace=json) with two podsim binaries:
the binaries take turns apply by apply (each followed by its delete), so they share the machine's noise.
Both binaries must sit next to the same bin/pause (one image for both).
usage: sudo flock -o /tmp/podsim-integration.lock hack/bench/ab-apply.py N BEFORE_BIN AFTER_BIN [MANIFEST]"""
import json, subprocess, sys, time, statistics, datetime
N = int(sys.argv[1])
BINS = {"before": sys.argv[2], "after": sys.argv[3]}
POD = sys.argv[4] if len(sys.argv) > 4 else "hack/bench/podtest.yaml"
def ts(s):
    # RFC3339 with ns
    d, frac = s.rstrip("Z").split(".") if "." in s else (s.rstrip("Z"), "0")
    frac = frac.split("+")[0].split("-")[0]
    return datetime.datetime.fromisoformat(d).replace(tzinfo=datetime.timezone.utc).timestamp() + float("0." + frac)
res = {k: {"ready": [], "prepare": [], "cni+pause": [], "apps": [], "finish": []} for k in BINS}
subprocess.run([BINS["after"], "get", "pods"], capture_output=True)  # containerd up
for i in range(N + 1):
    order = list(BINS) if i % 2 == 0 else list(reversed(BINS))
    for k in order:
        t0 = time.time()
        p = subprocess.run([BINS[k], "--trace=json", "apply", "-f", POD], capture_output=True, text=True)
        t1 = time.time()
        if p.returncode != 0:
            print(k, "apply failed", p.stderr[-500:]); sys.exit(1)
        evs = [json.loads(l) for l in p.stderr.splitlines() if l.startswith("{")]
        subprocess.run([BINS[k], "delete", "pod", "podtest"], capture_output=True, check=True)
        if i == 0:
            continue  # warm-up
        st = {e["step"]: e for e in evs}
        start = lambda e: ts(e["time"])
        end = lambda e: ts(e["time"]) + e["durationNs"] / 1e9
        apps = [e for e in evs if e["step"] == "app"]
        grp = [e for e in evs if e["step"] in ("cni", "pause")]
        g0, g1 = min(map(start, grp)), max(map(end, grp))
        res[k]["ready"].append((t1 - t0) * 1e3)
        res[k]["prepare"].append((start(st["cgroup"]) - t0) * 1e3)
        res[k]["cni+pause"].append((g1 - g0) * 1e3)
        res[k]["apps"].append((max(map(end, apps)) - g1) * 1e3)
        res[k]["finish"].append((t1 - max(map(end, apps))) * 1e3)
print(f"{N} interleaved runs each, load {open('/proc/loadavg').read().split()[0]}")
for ph in res["before"]:
    b, a = statistics.median(res["before"][ph]), statistics.median(res["after"][ph])
    d = statistics.median([y - x for x, y in zip(res["before"][ph], res["after"][ph])])
    print(f"{ph:10s} before {b:8.1f}  after {a:8.1f}  ms  (median of paired after-before: {d:+.1f})")
