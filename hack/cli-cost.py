#!/usr/bin/env python3
"""What a podsim command costs as a whole process, through the node agent and in its own process.

  sudo hack/cli-cost.py [ROUNDS]      (after make build; hold the host's podsim lock if others share it)

1. start cost: `podsim version` and `crictl --version`, medians of 21 runs;
   GODEBUG=inittrace=1: the sum of each package's fastest init over 15 runs, the heaviest packages;
2. `podsim apply` (the article's podtest: two busybox containers) and `podsim delete --now`,
   whole processes, through the agent and with PODSIM_NO_AGENT=1, interleaved, ROUNDS each;
3. the first apply after the agent was stopped (it runs in-process and starts the agent) next to
   an apply with PODSIM_NO_AGENT=1 and no agent.
"""
import collections, os, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
B = os.environ.get("PODSIM_BIN", os.path.join(HERE, "..", "bin", "podsim"))
CRICTL = os.environ.get("PODSIM_CRICTL", os.path.join(HERE, "..", "bin", "crictl"))
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
Y="""apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  containers:
  - name: c1
    image: busybox
    command: ['sleep', '5000']
  - name: c2
    image: busybox
    command: ['sleep', '5000']
"""
M="/tmp/podsim-cli-cost.yaml"
open(M,"w").write(Y%"podsim-cli-cost")
def t(args, env=None, check=True):
    e=dict(os.environ); e.update(env or {})
    s=time.perf_counter(); r=subprocess.run([B]+args, env=e, capture_output=True, text=True); d=(time.perf_counter()-s)*1000
    if check and r.returncode: print("FAILED", args, r.stderr, file=sys.stderr)
    return d
def agent_pid():
    try:
        return int(open("/run/podsim/agent/agent.pid").read())
    except Exception: return 0
def stop_agent():
    p=agent_pid()
    if p:
        try: os.kill(p, 15)
        except ProcessLookupError: pass
        for _ in range(100):
            if not os.path.exists("/proc/%d"%p): break
            time.sleep(0.05)
NA={"PODSIM_NO_AGENT":"1"}

def whole(cmd, n=21):
    ts = []
    for _ in range(n):
        s = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ts.append((time.perf_counter() - s) * 1000)
    ts.sort()
    return f"median {statistics.median(ts):5.1f} ms (min {ts[0]:.1f}, max {ts[-1]:.1f})"

def inittrace(n=15):
    mins, size = collections.defaultdict(lambda: 1e9), {}
    for _ in range(n):
        r = subprocess.run([B, "version"], capture_output=True, text=True, env=dict(os.environ, GODEBUG="inittrace=1"))
        for l in r.stderr.splitlines():
            f = l.split()  # init PKG @T ms, CLOCK ms clock, BYTES bytes, ALLOCS allocs
            if len(f) > 8 and f[0] == "init":
                mins[f[1]] = min(mins[f[1]], float(f[4]))
                size[f[1]] = int(f[7])
    print(f"init: {len(mins)} packages, sum of each one's fastest init {sum(mins.values()):.1f} ms; heaviest:")
    for p, v in sorted(mins.items(), key=lambda x: -x[1])[:6]:
        print(f"  {v:5.2f} ms {size[p]:7d} bytes  {p}")

print("podsim version   ", whole([B, "version"]))
print("crictl --version ", whole([CRICTL, "--version"]))
inittrace()
t(["delete","pod","podsim-cli-cost"], check=False)  # containerd up, the agent started
time.sleep(2)
t(["apply","-f",M]); t(["delete","pod","podsim-cli-cost","--now"])  # images warm

res={k:[] for k in ["apply agent","apply in-process","delete agent","delete in-process","first apply (no agent yet)","first apply PODSIM_NO_AGENT"]}
for i in range(ROUNDS):
    res["apply agent"].append(t(["apply","-f",M])); res["delete agent"].append(t(["delete","pod","podsim-cli-cost","--now"]))
    res["apply in-process"].append(t(["apply","-f",M],NA)); res["delete in-process"].append(t(["delete","pod","podsim-cli-cost","--now"],NA))
for i in range(max(3,ROUNDS//2)):
    stop_agent()
    res["first apply PODSIM_NO_AGENT"].append(t(["apply","-f",M],NA)); t(["delete","pod","podsim-cli-cost","--now"],NA)
    stop_agent()
    res["first apply (no agent yet)"].append(t(["apply","-f",M]))
    time.sleep(1.5)
    t(["delete","pod","podsim-cli-cost","--now"])
for k,v in res.items():
    v.sort(); print(f"{k:32s} median {statistics.median(v):6.0f} ms  (min {v[0]:.0f}, max {v[-1]:.0f}, n={len(v)})")
