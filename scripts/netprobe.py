#!/usr/bin/env python3
"""Network probes that scripts/bench.py and the end-to-end tests (WorkstationTests) run inside
the sandbox's namespaces and pods: `python3 scripts/netprobe.py MODE ARGS...`, one line of
output. Only the standard library: it runs wherever python3 does (pods share the host's files).

Figures (bench):   bulk HOST PORT MIB -> "SECONDS BYTES"; pbulk HOST PORT MIB N -> the same over N
                   connections at once; ttfb HOST PORT N -> ms per connect;
                   rr HOST PORT N -> us per 1-byte round trip; dns NAME... -> ms per lookup;
                   echoserver HOST PORT (runs until killed); http-rr HOST PORT N [USER] -> us per
                   request on one keep-alive connection; http-load HOST PORT SECONDS CONNS [USER]
                   -> "REQUESTS SECONDS".
Checks (tests):    bulk-checked HOST PORT MIB -> "MIB MiB ok"; udp-echo HOST PORT -> "udp ok";
                   parallel HOST PORT N -> "N ok"; closed-port HOST PORT -> "reset after S s";
                   http HOST PORT BODY_BYTES PATH[@USER]... -> "POD PATH MS" per request on one
                   keep-alive connection, then "connections N".
Servers (tests):   httprecorder PORT NAME (prints "PATH USER" per request); stalledserver PORT
                   (accepts, never reads).
"""
import hashlib, socket, sys, threading, time


def transfer(host, port, mib, block, rcvbuf=None, sent=None, received=None):
    """Sends `mib` copies of `block` (1 MiB) to an echo server while reading the echo back;
    `sent`/`received` (hashes) see every byte each way. Returns (seconds, bytes received).
    A fixed `rcvbuf` turns the kernel's receive-buffer autotuning off for the socket."""
    s = socket.create_connection((host, int(port)), timeout=60)
    if rcvbuf: s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    total = int(mib) << 20

    def send():
        for _ in range(int(mib)):
            s.sendall(block)
            if sent is not None: sent.update(block)
        s.shutdown(socket.SHUT_WR)

    start = time.time(); t = threading.Thread(target=send); t.start(); got = 0
    while got < total:
        chunk = s.recv(4 << 20)
        if not chunk: break
        if received is not None: received.update(chunk)
        got += len(chunk)
    t.join()
    return time.time() - start, got


def bulk(host, port, mib):
    elapsed, got = transfer(host, port, mib, b"x" * (1 << 20), rcvbuf=8 << 20)
    print("%.6f %d" % (elapsed, got))


def pbulk(host, port, mib, n):
    # n connections at once, each echoing mib MiB; prints the time until the last finished.
    results = []
    threads = [threading.Thread(target=lambda: results.append(transfer(host, port, mib, b"x" * (1 << 20))[1])) for _ in range(int(n))]
    start = time.time()
    for t in threads: t.start()
    for t in threads: t.join()
    print("%.6f %d" % (time.time() - start, sum(results)))


def bulk_checked(host, port, mib):
    # Bytes that vary along the block, so a chunk delivered out of place changes the hash.
    block = bytes((i * 7 + (i >> 9)) & 255 for i in range(1 << 20))
    sent, received = hashlib.sha256(), hashlib.sha256()
    _, got = transfer(host, port, mib, block, sent=sent, received=received)
    total = int(mib) << 20
    print("%d MiB ok" % int(mib) if got == total and sent.digest() == received.digest() else "got %d of %d" % (got, total))


def ttfb(host, port, n):
    out = []
    for _ in range(int(n)):
        start = time.time()
        s = socket.create_connection((host, int(port)), timeout=10)
        s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n"); s.recv(1)
        out.append((time.time() - start) * 1000); s.close()
    print(" ".join("%.3f" % x for x in out))


def rr(host, port, n):
    s = socket.create_connection((host, int(port)), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    out = []
    for _ in range(int(n)):
        start = time.perf_counter(); s.sendall(b"x")
        s.recv(1); out.append((time.perf_counter() - start) * 1e6)
    print(" ".join("%.1f" % x for x in out))


def dns(*names):
    out = []
    for name in names:
        start = time.perf_counter(); socket.getaddrinfo(name, 80, socket.AF_INET, socket.SOCK_STREAM)
        out.append((time.perf_counter() - start) * 1000)
    print(" ".join("%.3f" % x for x in out))


def echoserver(host, port):
    srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); srv.bind((host, int(port))); srv.listen(16)

    def serve(c):
        while True:
            d = c.recv(4 << 20)
            if not d: break
            c.sendall(d)
        c.close()

    while True:
        c, _ = srv.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()


def udp_echo(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(5)
    s.sendto(b"udp ok", (host, int(port)))
    print(s.recv(100).decode())


def parallel(host, port, n):
    n = int(n)
    socks = [socket.create_connection((host, int(port)), timeout=20) for _ in range(n)]
    for i, s in enumerate(socks): s.sendall(b"conn %d\n" % i)
    good = sum(1 for i, s in enumerate(socks) if s.recv(100) == b"conn %d\n" % i)
    print("%d ok" % good if good == n else "%d of %d" % (good, n))


def closed_port(host, port):
    start = time.time()
    try:
        # The RST may come so soon after the handshake that connect() itself reports it.
        s = socket.create_connection((host, int(port)), timeout=5)
        s.sendall(b"hello"); data = s.recv(10)
        print("no reset: %r" % data)
    except ConnectionResetError:
        print("reset after %.3f s" % (time.time() - start))


def first_from_app(host, port, timeout):
    """Asks http://HOST:PORT/ on a new connection each time until the answer comes from the app
    rather than the workstation (`"pod":"workstation"`); prints the wall-clock time of the first
    request and of the first answer from the app (the same clock as the workstation's: one host)."""
    first_answer(host, port, timeout, from_workstation=False)


def first_from_workstation(host, port, timeout):
    """first-from-app the other way: until the answer comes from the workstation (a replace)."""
    first_answer(host, port, timeout, from_workstation=True)


def first_answer(host, port, timeout, from_workstation):
    started, deadline = time.time(), time.time() + float(timeout)
    while time.time() < deadline:
        try:
            s = socket.create_connection((host, int(port)), timeout=2)
            s.sendall(b"GET /leave HTTP/1.0\r\nHost: x\r\n\r\n")
            body = b""
            while True:
                chunk = s.recv(65536)
                if not chunk: break
                body += chunk
            s.close()
            if b'"pod":' in body and (b'"pod":"workstation"' in body) == from_workstation:
                print("%.6f %.6f" % (started, time.time())); return
        except OSError:
            pass
        time.sleep(0.005)
    print("%.6f none" % started)


# HTTP (issue 14: requests a filter reads, wiretap copies). Requests name their user with an
# X-User header; answers are the echo app's JSON ({"pod": ..., "path": ...}).

def http_requests(host, port, body_bytes, *specs):
    """One keep-alive HTTP/1.1 connection (a new one only if the server closes it), one request
    per SPEC: PATH, or PATH@USER for `X-User: USER`; POST with BODY_BYTES of body when > 0.
    Prints "POD PATH MS" per request (who answered, the path it saw, the time to the whole
    answer), then "connections N"."""
    import http.client, json
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    body = b"b" * int(body_bytes)
    ports = set()
    for spec in specs:
        path, _, user = spec.partition("@")
        headers = {"X-User": user} if user else {}
        start = time.perf_counter()
        conn.request("POST" if body else "GET", path, body=body or None, headers=headers)
        ports.add(conn.sock.getsockname()[1])
        data = conn.getresponse().read()
        elapsed = (time.perf_counter() - start) * 1000
        try:
            answer = json.loads(data)
            print("%s %s %.3f" % (answer.get("pod", "?"), answer.get("path", "?"), elapsed))
        except ValueError:
            print("not-json %s %.3f" % (path, elapsed))
    print("connections %d" % len(ports))


def http_rr(host, port, n, user=""):
    """N GETs on one keep-alive connection (with `X-User: USER` when given): us per request."""
    import http.client
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    headers = {"X-User": user} if user else {}
    out = []
    for _ in range(int(n)):
        start = time.perf_counter()
        conn.request("GET", "/rr", headers=headers)
        conn.getresponse().read()
        out.append((time.perf_counter() - start) * 1e6)
    print(" ".join("%.1f" % x for x in out))


def http_load(host, port, seconds, conns, user=""):
    """CONNS keep-alive connections sending GETs back to back for SECONDS: "REQUESTS SECONDS"."""
    import http.client
    counts, stop = [], time.time() + float(seconds)
    headers = {"X-User": user} if user else {}
    def run():
        conn, n = http.client.HTTPConnection(host, int(port), timeout=10), 0
        while time.time() < stop:
            conn.request("GET", "/load", headers=headers); conn.getresponse().read(); n += 1
        counts.append(n)
    start = time.time()
    threads = [threading.Thread(target=run) for _ in range(int(conns))]
    for t in threads: t.start()
    for t in threads: t.join()
    print("%d %.6f" % (sum(counts), time.time() - start))


def http_recorder(port, name):
    """An HTTP/1.1 server (keep-alive) on PORT that answers as pod NAME and prints "PATH USER"
    for every request it gets (USER "-" without X-User), flushed at once: the workstation's end
    of a wiretap, whose answers are discarded but whose log shows what it was sent."""
    import http.server, json
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # the head and the body are two writes
        def answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length: self.rfile.read(length)
            print("%s %s" % (self.path, self.headers.get("X-User") or "-"), flush=True)
            body = json.dumps({"pod": name, "path": self.path}).encode()
            self.send_response(200); self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
        do_GET = do_POST = do_PUT = answer
        def log_message(self, *args): pass
    http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Handler).serve_forever()


def stalled_server(port):
    """Accepts connections on PORT and never reads from them: a workstation that stopped reading."""
    srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", int(port))); srv.listen(64)
    held = []
    while True:
        c, _ = srv.accept(); held.append(c)


MODES = {"first-from-app": first_from_app, "first-from-workstation": first_from_workstation, "bulk": bulk, "pbulk": pbulk, "bulk-checked": bulk_checked, "ttfb": ttfb, "rr": rr, "dns": dns, "echoserver": echoserver,
         "udp-echo": udp_echo, "parallel": parallel, "closed-port": closed_port, "http": http_requests, "http-rr": http_rr,
         "http-load": http_load, "httprecorder": http_recorder, "stalledserver": stalled_server}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in MODES:
        sys.exit("usage: netprobe.py {%s} ARGS..." % ",".join(MODES))
    MODES[sys.argv[1]](*sys.argv[2:])
