#!/usr/bin/env python3
"""The workstation's network through Telepresence, measured on the sandbox, each figure beside
its direct baseline from the same run (see ./scripts/bench, which builds and calls this).

Two clusters: one with a plain workstation link, one whose link delays every packet 10 ms each
way (20 ms RTT). On each: the echo app (HTTP 8080, TCP echo 9000), a shell pod as the in-cluster
client for the pod-to-pod baseline, the traffic-manager, and `telepresence connect` from the
workstation namespace. The engagement figures (issues 13 and 14) run on the plain cluster, each
request figure beside the same requests to the app with no agent in its pods. Prints a table and
writes JSON.
"""
import argparse, json, shutil, os, random, re, statistics, subprocess, sys, tempfile, threading, time

# The probes (bulk, pbulk, ttfb, rr, dns, echoserver) run in pods and namespaces, which see this file.
NETPROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "netprobe.py")

MANIFEST = """apiVersion: apps/v1
kind: Deployment
metadata: {name: echo}
spec:
  replicas: 1
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      containers:
      - name: echo
        image: sandbox.local/echo:1
        ports: [{name: http, containerPort: 8080}, {name: tcp, containerPort: 9000}]
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: echo}
spec:
  selector: {app: echo}
  ports: [{name: http, port: 80, targetPort: http}, {name: tcp, port: 9000, targetPort: tcp}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  containers: [{name: main, image: busybox, command: [sleep, "3600"]}]
"""


class Cluster:
    def __init__(self, bin_dir, name, delay_ms, home):
        self.bin, self.name, self.delay = bin_dir, name, delay_ms
        self.env = dict(os.environ, PATH=bin_dir + ":" + os.environ["PATH"],
                        XDG_RUNTIME_DIR=home + "/run", XDG_CACHE_HOME=home + "/cache", XDG_CONFIG_HOME=home + "/config")
        self.background = []

    def sh(self, args, input=None, timeout=300, check=True):
        result = subprocess.run(args, input=input, capture_output=True, text=True, env=self.env, timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError("%s failed: %s%s" % (" ".join(args[:8]), result.stdout, result.stderr))
        return result.stdout.strip()

    def ws(self, args, **kw):
        return self.sh([self.bin + "/sandbox-cluster", "run", "--name", self.name, "--"] + args, **kw)

    def in_pod(self, args, **kw):
        return self.ws(["kubectl", "exec", "client", "--"] + args, **kw)

    def up(self):
        extra = ["--link-delay-ms", str(self.delay)] if self.delay else []
        self.sh([self.bin + "/sandbox-cluster", "up", "--name", self.name] + extra)
        self.ws(["kubectl", "apply", "-f", "-"], input=MANIFEST)
        self.ws(["kubectl", "rollout", "status", "deployment/echo", "--timeout=60s"])
        self.ws(["kubectl", "wait", "--for=condition=Ready", "pod/client", "--timeout=60s"])
        self.ws(["telepresence", "helm", "install"])
        self.pod_ip = self.ws(["kubectl", "get", "pods", "-l", "app=echo", "-o", "jsonpath={.items[0].status.podIP}"])

    def connect(self):
        start = time.time()
        self.ws(["telepresence", "connect"])
        return time.time() - start

    def quit(self):
        self.ws(["telepresence", "quit"], check=False)

    def back_after_cut(self, timeout=30):
        """Seconds from killing every connection of the workstation to the API server (the
        port-forwards under gRPC and under the tunnel) until the session says connected again
        and a request through the tunnel answers; None if not within `timeout`."""
        start = time.time()
        self.ws(["ss", "-K", "dst", "192.0.2.1"])
        while time.time() - start < timeout:
            try:
                status = json.loads(self.ws(["telepresence", "status", "--output", "json"], check=False) or "{}")
            except ValueError:
                status = {}
            user, root = status.get("user_daemon") or {}, status.get("root_daemon") or {}
            if user.get("session_state") == "connected" and root.get("status") == "Connected":
                code = self.ws(["curl", "-s", "-m", "1", "-o", "/dev/null", "-w", "%{http_code}", "http://echo/"], check=False)
                if code == "200":
                    return time.time() - start
        return None

    def down(self):
        self.quit()
        for p in self.background:
            p.kill()
            p.wait()
        self.background = []
        if os.path.exists(self.relay_socket()):
            os.unlink(self.relay_socket())
        self.sh([self.bin + "/sandbox-cluster", "down", "--name", self.name], check=False)

    def relay_socket(self):
        return "/tmp/tp-bench-%s.sock" % self.name

    def start_in(self, namespace, args, listening):
        """Starts args in sbx-NAME-<namespace> and waits until it listens there: on TCP port
        `listening` (a number) or on the Unix socket at that path (a string)."""
        netns = "sbx-%s-%s" % (self.name, namespace)
        p = subprocess.Popen(["ip", "netns", "exec", netns] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.background.append(p)
        def ready():
            if isinstance(listening, str):
                return os.path.exists(listening)
            return ":%d " % listening in subprocess.run(["ip", "netns", "exec", netns, "ss", "-ltnH"], capture_output=True, text=True).stdout
        deadline = time.time() + 10
        while not ready():
            if time.time() > deadline or p.poll() is not None:
                raise RuntimeError("%s did not listen on %s" % (" ".join(args[:3]), listening))
            time.sleep(0.02)

    def local_echo(self):
        """The echo app on the workstation, answering as pod "workstation": HTTP on 8181, TCP
        echo on 7200 (what the intercepts send to)."""
        if getattr(self, "local_echo_started", False):
            return
        self.start_in("ws", ["env", "POD_NAME=workstation", "HTTP_PORT=8181", "TCP_PORT=7200", "UDP_PORT=7201",
                             self.bin + "/sandbox-echo"], 8181)
        self.local_echo_started = True

    def node_echo_server(self, host, port):
        self.start_in("node", ["python3", NETPROBE, "echoserver", host, str(port)], port)

    def relay_chain(self, pod_ip, port=9000):
        """The tunnel's hops as four plain byte relays (socat, 64 KiB buffers, no TLS, no
        user-space TCP): workstation -> unix socket -> API server's address -> node -> pod.
        What any design with these hops could reach at best on this machine. Returns the
        workstation-side port to connect to."""
        sock = self.relay_socket()
        relay = ["socat", "-b", "65536"]
        self.start_in("node", relay + ["TCP-LISTEN:7104,bind=10.244.0.1,reuseaddr,fork", "TCP:%s:%d" % (pod_ip, port)], 7104)
        self.start_in("node", relay + ["TCP-LISTEN:7103,bind=192.0.2.1,reuseaddr,fork", "TCP:10.244.0.1:7104"], 7103)
        self.start_in("ws", relay + ["UNIX-LISTEN:%s,fork,unlink-early" % sock, "TCP:192.0.2.1:7103"], sock)
        self.start_in("ws", relay + ["TCP-LISTEN:7101,bind=127.0.0.1,reuseaddr,fork", "UNIX-CONNECT:%s" % sock], 7101)
        return 7101

    def daemon_cpu(self):
        """CPU seconds used so far by each Telepresence daemon of this cluster's workstation."""
        cpu = {}
        hz = os.sysconf("SC_CLK_TCK")
        for pid, kind in self.daemons():
            try:
                fields = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            cpu[kind] = cpu.get(kind, 0) + (int(fields[11]) + int(fields[12])) / hz
        return cpu

    def daemons(self):
        home = self.env["XDG_RUNTIME_DIR"]
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                cmd = open("/proc/%s/cmdline" % pid, "rb").read().decode(errors="replace")
                env = open("/proc/%s/environ" % pid, "rb").read().decode(errors="replace")
            except OSError:
                continue
            if home not in env and home not in cmd:
                continue
            kind = "user_daemon" if "userd" in cmd else "root_daemon" if "daemon-foreground" in cmd and "sudo" not in cmd else None
            if kind:
                yield pid, kind

    def daemon_rss(self):
        rss = {}
        for pid, kind in self.daemons():
            try:
                for line in open("/proc/%s/status" % pid):
                    if line.startswith("VmRSS:"):
                        rss[kind] = int(line.split()[1]) // 1024
            except OSError:
                continue
        return rss


def engagement_figures(near, args, row, rows, results, rr_direct, tunneled):
    """Issue 13's figures: the first intercept of a workload (injection and the pods' roll
    included), an intercept with the agent already there, `leave` until the app answers again,
    and requests and bulk through the intercept beside the same from the app's pod directly."""
    near.local_echo()
    start = time.time()
    near.ws(["telepresence", "intercept", "echo", "--port", "8181:http"], timeout=120)
    first = time.time() - start
    rows.append(("first intercept of a workload, injection and roll included (s)", first, None, "s", None, "< 3"))
    results["first intercept s"] = first
    # leave, timed from the cluster's side: a pod asks until the app answers (one host, one clock).
    probe = {}
    def watch():
        probe["out"] = client(near.in_pod, "first-from-app", "echo", 80, 20)
    watcher = threading.Thread(target=watch); watcher.start()
    time.sleep(1.0)  # the probe runs (it sees the workstation's answers) before leave starts
    left = time.time()
    near.ws(["telepresence", "leave", "echo"])
    watcher.join()
    began, answered = probe["out"].split()
    leave_s = float(answered) - left if answered != "none" else float("nan")
    rows.append(("leave until the app answers again (s)", leave_s, None, "s", None, "< 0.5"))
    results["leave s"] = leave_s
    again = []
    for _ in range(3):
        start = time.time()
        near.ws(["telepresence", "intercept", "echo", "--port", "8181:http"], timeout=60)
        again.append(time.time() - start)
        near.ws(["telepresence", "leave", "echo"])
    rows.append(("intercept with the agent already installed, p50 (s)", statistics.median(again), None, "s", None, "< 0.3"))
    results["intercept again s"] = again
    # Requests and bulk: the TCP port intercepted to the workstation's echo server.
    near.ws(["telepresence", "intercept", "echo", "--port", "7200:tcp"], timeout=60)
    rr_icpt = [float(x) for x in client(near.in_pod, "rr", "echo", 9000, 2000).split()]
    for p, target in ((50, "0.5 ms"), (99, "3 ms")):
        added = (pct(rr_icpt, p) - pct(rr_direct, p)) / 1000
        rows.append(("request latency added by the intercept, p%d (ms)" % p, added, pct(rr_direct, p) / 1000, "ms", None, "<= " + target))
        results["intercept latency added p%d" % p] = {"value": added, "direct_ms": pct(rr_direct, p) / 1000, "intercept_ms": pct(rr_icpt, p) / 1000}
    bulk_icpt = bulk_mbps(near.in_pod, "echo", args.mib)
    row("bulk TCP pod->workstation through the intercept vs workstation->pod (MB/s)", bulk_icpt, tunneled, "MB/s", "-")
    near.ws(["telepresence", "leave", "echo"])


def http_baseline(near):
    """Requests to the echo app through its Service with no agent in its pods (before any
    engagement): us per request on one keep-alive connection, and requests/s over 4."""
    rr = [float(x) for x in client(near.in_pod, "http-rr", "echo", 80, 2000).split()]
    done, seconds = client(near.in_pod, "http-load", "echo", 80, 3, 4).split()
    return rr, int(done) / float(seconds)


def timed_until(near, mode, action):
    """Seconds from the start of `action` (a CLI command on the workstation) until a pod's
    probe (`mode`: first-from-workstation or first-from-app, a new connection each time) gets
    its first answer from the wanted side; the pod and the workstation share one clock."""
    probe = {}
    def watch():
        probe["out"] = client(near.in_pod, mode, "echo", 80, 30)
    watcher = threading.Thread(target=watch); watcher.start()
    time.sleep(1.0)  # the probe runs before the action starts
    start = time.time()
    action()
    watcher.join()
    _, answered = probe["out"].split()
    return float(answered) - start if answered != "none" else float("nan")


def engagement2_figures(near, rows, results, http_direct):
    """Issue 14's figures: requests that do NOT match an HTTP filter (answered by the app after
    the agent read them) and requests on a wiretapped port, each beside the same requests with no
    agent (`http_direct`, measured before any engagement); `replace` until the workstation
    answers and `leave` until the app answers again."""
    rr_direct, load_direct = http_direct
    near.local_echo()
    # An intercept for X-User: alice; the requests carry no X-User, so the app answers them all.
    near.ws(["telepresence", "intercept", "echo", "--port", "8181:http", "--http-header", "X-User=alice"], timeout=120)
    rr_filtered = [float(x) for x in client(near.in_pod, "http-rr", "echo", 80, 2000).split()]
    done, seconds = client(near.in_pod, "http-load", "echo", 80, 3, 4).split()
    load_filtered = int(done) / float(seconds)
    near.ws(["telepresence", "leave", "echo"])
    added = (pct(rr_filtered, 50) - pct(rr_direct, 50)) / 1000
    rows.append(("HTTP request latency added for requests a filter does not match, p50 (ms)", added, pct(rr_direct, 50) / 1000, "ms", None, "<= 0.2"))
    results["filtered miss latency added p50"] = {"value": added, "direct_ms": pct(rr_direct, 50) / 1000, "agent_ms": pct(rr_filtered, 50) / 1000}
    rows.append(("HTTP requests/s a filter does not match vs no agent (4 connections)", load_filtered, load_direct, "req/s", load_filtered / load_direct, ">= 0.8"))
    results["filtered miss throughput"] = {"value": load_filtered, "baseline": load_direct, "ratio": load_filtered / load_direct}
    # The same load with the agent installed and nothing engaged: it relays each connection
    # whole, reading no HTTP. It tells the hop's cost from the cost of reading requests.
    done, seconds = client(near.in_pod, "http-load", "echo", 80, 3, 4).split()
    load_relayed = int(done) / float(seconds)
    rows.append(("  reference: the same requests through the agent's plain TCP relay (req/s)", load_relayed, load_direct, "req/s", load_relayed / load_direct, "-"))
    rows.append(("  reading HTTP vs the agent's plain TCP relay (req/s)", load_filtered, load_relayed, "req/s", load_filtered / load_relayed, "-"))
    results["agent relay throughput"] = {"value": load_relayed, "baseline": load_direct, "ratio": load_relayed / load_direct}

    # A wiretap: every request is copied to the workstation (whose answers are discarded).
    near.ws(["telepresence", "wiretap", "echo", "--port", "8181:http"], timeout=120)
    rr_tapped = [float(x) for x in client(near.in_pod, "http-rr", "echo", 80, 2000).split()]
    near.ws(["telepresence", "leave", "echo"])
    added = (pct(rr_tapped, 50) - pct(rr_direct, 50)) / 1000
    rows.append(("HTTP request latency added by a wiretap, p50 (ms)", added, pct(rr_direct, 50) / 1000, "ms", None, "<= 0.3"))
    results["wiretap latency added p50"] = {"value": added, "direct_ms": pct(rr_direct, 50) / 1000, "wiretap_ms": pct(rr_tapped, 50) / 1000}

    # replace: the app container leaves the pods (a roll), its ports come to the workstation.
    replace_s = timed_until(near, "first-from-workstation", lambda: near.ws(
        ["telepresence", "replace", "echo", "--port", "8181:8080", "--port", "7200:9000"], timeout=120))
    rows.append(("replace until the workstation answers (s)", replace_s, None, "s", None, "< 3"))
    results["replace s"] = replace_s
    leave_s = timed_until(near, "first-from-app", lambda: near.ws(["telepresence", "leave", "echo"]))
    rows.append(("leave of a replace until the app answers again (s)", leave_s, None, "s", None, "< 3"))
    results["replace leave s"] = leave_s
    near.ws(["kubectl", "rollout", "status", "deployment/echo", "--timeout=60s"])


def client(run, mode, *args, timeout=300):
    return run(["python3", NETPROBE, mode] + [str(a) for a in args], timeout=timeout)


def bulk_mbps(run, host, mib, port=9000):
    elapsed, got = client(run, "bulk", host, port, mib).split()
    if int(got) != mib << 20:
        raise RuntimeError("bulk transfer lost bytes: %s of %d" % (got, mib << 20))
    return mib * 1.048576 / float(elapsed)


def parallel_mbps(run, host, mib, n, port=9000):
    elapsed, got = client(run, "pbulk", host, port, mib, n).split()
    if int(got) != n * (mib << 20):
        raise RuntimeError("parallel transfer lost bytes: %s of %d" % (got, n * (mib << 20)))
    return n * mib * 1.048576 / float(elapsed)


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--out", default="bench-results.json")
    parser.add_argument("--mib", type=int, default=256)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="tp-bench-")
    results = {}
    rows = []

    def row(name, value, baseline, unit, target, better="higher"):
        ratio = (value / baseline) if baseline else None
        rows.append((name, value, baseline, unit, ratio, target))
        results[name] = {"value": value, "baseline": baseline, "unit": unit, "ratio": ratio, "target": target}

    near = Cluster(args.bin, "bench%d" % (os.getpid() % 1000), 0, home + "/near")
    far = Cluster(args.bin, "benchd%d" % (os.getpid() % 1000), 10, home + "/far")
    try:
        print("==> cluster with a plain workstation link", file=sys.stderr)
        near.up()
        connects = []
        for _ in range(5):
            connects.append(near.connect())
            near.quit()
        connect_p50 = statistics.median(connects)
        near.connect()
        idle = near.daemon_rss()
        direct = bulk_mbps(near.in_pod, near.pod_ip, args.mib)
        loaded = {}
        sampler_stop = threading.Event()
        def sample():
            while not sampler_stop.wait(0.2):
                for k, v in near.daemon_rss().items():
                    loaded[k] = max(loaded.get(k, 0), v)
        sampler = threading.Thread(target=sample); sampler.start()
        cpu_before = near.daemon_cpu()
        tunneled = bulk_mbps(near.ws, near.pod_ip, args.mib)
        cpu_after = near.daemon_cpu()
        sampler_stop.set(); sampler.join()
        # CPU per byte does not depend on what else the machine runs, unlike MB/s.
        moved_gib = 2 * args.mib / 1024  # each byte goes out and comes back
        cpu_per_gib = {k: (cpu_after[k] - cpu_before.get(k, 0)) / moved_gib for k in cpu_after}
        results["daemon CPU s per GiB"] = cpu_per_gib
        row("bulk TCP workstation->pod vs pod->pod (MB/s each way)", tunneled, direct, "MB/s", ">= 0.5")
        # The ceiling for these hops: the same path as four plain relays.
        chain_port = near.relay_chain(near.pod_ip)
        chained = bulk_mbps(near.ws, "127.0.0.1", args.mib, port=chain_port)
        row("  reference: the same hops as 4 plain relays (socat, no TLS) vs pod->pod", chained, direct, "MB/s", "-")
        row("  tunnel vs those 4 plain relays", tunneled, chained, "MB/s", "-")
        rr_direct = [float(x) for x in client(near.in_pod, "rr", near.pod_ip, 9000, 2000).split()]
        rr_tunnel = [float(x) for x in client(near.ws, "rr", near.pod_ip, 9000, 2000).split()]
        for p, target in ((50, "0.3 ms"), (99, "2 ms")):
            added = (pct(rr_tunnel, p) - pct(rr_direct, p)) / 1000
            rows.append(("request latency added by the tunnel, p%d (ms)" % p, added, pct(rr_direct, p) / 1000, "ms", None, "<= " + target))
            results["latency added p%d" % p] = {"value": added, "direct_ms": pct(rr_direct, p) / 1000, "tunnel_ms": pct(rr_tunnel, p) / 1000, "target": target}
        # What the same hops cost as plain relays: each hop wakes a sleeping process, which on
        # a virtual machine's idle CPUs is most of the price.
        rr_chain = [float(x) for x in client(near.ws, "rr", "127.0.0.1", chain_port, 2000).split()]
        for p in (50, 99):
            added = (pct(rr_chain, p) - pct(rr_direct, p)) / 1000
            rows.append(("  reference: latency added by the 4 plain relays, p%d (ms)" % p, added, pct(rr_direct, p) / 1000, "ms", None, "-"))
            results["relay chain latency added p%d" % p] = added
        cached = [float(x) for x in client(near.ws, "dns", *(["echo.default"] * 50)).split()]
        names = ["10-244-%d-%d.default.pod.cluster.local" % (random.randint(1, 250), random.randint(1, 250)) for _ in range(30)]
        uncached = [float(x) for x in client(near.ws, "dns", *names).split()]
        rows.append(("cluster DNS lookup p50, cached (ms)", statistics.median(cached), None, "ms", None, "-"))
        rows.append(("cluster DNS lookup p50, uncached (ms)", statistics.median(uncached), None, "ms", None, "-"))
        results["dns p50 cached ms"] = statistics.median(cached)
        results["dns p50 uncached ms"] = statistics.median(uncached)
        http_direct = http_baseline(near)  # before any engagement: no agent in echo's pods
        engagement_figures(near, args, row, rows, results, rr_direct, tunneled)
        engagement2_figures(near, rows, results, http_direct)
        # Last on this cluster: it cuts the connections the figures above ran over.
        back = near.back_after_cut()
        rows.append(("connected and answering again after the port-forwards were cut (s)", back if back is not None else float("nan"), None, "s", None, "< 2"))
        results["back after cut s"] = back
        rows.append(("telepresence connect p50, cold (s)", connect_p50, None, "s", None, "< 1"))
        results["connect p50 s"] = connect_p50
        results["connect runs s"] = connects
        results["rss MiB idle"] = idle
        results["rss MiB under load"] = loaded
        near.down()

        print("==> cluster with a 10 ms (each way) workstation link", file=sys.stderr)
        far.up()
        far.node_echo_server("192.0.2.1", 7001)
        ping = far.ws(["ping", "-c", "5", "-i", "0.2", "192.0.2.1"])
        rtt = float(re.search(r"= [\d.]+/([\d.]+)/", ping).group(1))
        far.connect()
        direct_far = bulk_mbps(far.ws, "192.0.2.1", args.mib, port=7001)
        tunneled_far = bulk_mbps(far.ws, far.pod_ip, args.mib)
        row("bulk TCP at 20 ms RTT: tunnel vs direct TCP on the same link (MB/s)", tunneled_far, direct_far, "MB/s", ">= 0.5")
        # Many connections at once share one tunnel connection: whether that costs them
        # (head-of-line blocking, one TCP window) decides if more tunnel connections are needed.
        parallel_direct = parallel_mbps(far.ws, "192.0.2.1", args.mib // 4, 4, port=7001)
        parallel_tunnel = parallel_mbps(far.ws, far.pod_ip, args.mib // 4, 4)
        row("4 connections at once at 20 ms RTT: tunnel vs direct, total (MB/s)", parallel_tunnel, parallel_direct, "MB/s", "-")
        ttfb = [float(x) for x in client(far.ws, "ttfb", far.pod_ip, 8080, 20).split()]
        ttfb_p50 = statistics.median(ttfb)
        rows.append(("time to first byte of a new connection at %.1f ms RTT (ms)" % rtt, ttfb_p50, rtt, "ms", ttfb_p50 / rtt, "<= 1.1 RTT + 1 ms = %.1f" % (1.1 * rtt + 1)))
        results["ttfb ms"] = {"p50": ttfb_p50, "rtt": rtt, "runs": ttfb, "target_ms": 1.1 * rtt + 1}
        # An intercepted connection crosses the same link the other way: the agent opens it
        # toward the workstation with the first bytes, the workstation dials its local server.
        far.local_echo()
        far.ws(["telepresence", "intercept", "echo", "--port", "8181:http"], timeout=120)
        ttfb_icpt = [float(x) for x in client(far.in_pod, "ttfb", "echo", 80, 20).split()]
        ttfb_icpt_p50 = statistics.median(ttfb_icpt)
        rows.append(("time to first byte through an intercept at %.1f ms RTT (ms)" % rtt, ttfb_icpt_p50, rtt, "ms", ttfb_icpt_p50 / rtt, "<= 1.1 RTT + 1 ms = %.1f" % (1.1 * rtt + 1)))
        results["intercept ttfb ms"] = {"p50": ttfb_icpt_p50, "rtt": rtt, "runs": ttfb_icpt, "target_ms": 1.1 * rtt + 1}
        far.down()
    finally:
        near.down()
        far.down()
        shutil.rmtree(home, ignore_errors=True)

    print()
    print("%-72s %12s %12s %8s  %s" % ("figure", "value", "baseline", "ratio", "target"))
    for name, value, baseline, unit, ratio, target in rows:
        print("%-72s %12.3f %12s %8s  %s" % (name, value, "%.3f" % baseline if baseline is not None else "-",
                                            "%.2f" % ratio if ratio is not None else "-", target))
    print("daemon RSS (MiB): idle %s, under load %s" % (results["rss MiB idle"], results["rss MiB under load"]))
    print("daemon CPU per GiB through the tunnel (s): %s" % ", ".join("%s %.2f" % kv for kv in sorted(results["daemon CPU s per GiB"].items())))
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
    print("wrote %s" % args.out)


if __name__ == "__main__":
    main()
