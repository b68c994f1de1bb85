#!/usr/bin/env python3
"""Network probes that scripts/bench.py and the end-to-end tests (WorkstationTests) run inside
the sandbox's namespaces and pods: `python3 scripts/netprobe.py MODE ARGS...`, one line of
output. Only the standard library: it runs wherever python3 does (pods share the host's files).

Figures (bench):   bulk HOST PORT MIB -> "SECONDS BYTES"; pbulk HOST PORT MIB N -> the same over N
                   connections at once; ttfb HOST PORT N -> ms per connect;
                   rr HOST PORT N -> us per 1-byte round trip; dns NAME... -> ms per lookup;
                   echoserver HOST PORT (runs until killed).
Checks (tests):    bulk-checked HOST PORT MIB -> "MIB MiB ok"; udp-echo HOST PORT -> "udp ok";
                   parallel HOST PORT N -> "N ok"; closed-port HOST PORT -> "reset after S s".
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
            if b'"pod":' in body and b'"pod":"workstation"' not in body:
                print("%.6f %.6f" % (started, time.time())); return
        except OSError:
            pass
        time.sleep(0.005)
    print("%.6f none" % started)


MODES = {"first-from-app": first_from_app, "bulk": bulk, "pbulk": pbulk, "bulk-checked": bulk_checked, "ttfb": ttfb, "rr": rr, "dns": dns, "echoserver": echoserver,
         "udp-echo": udp_echo, "parallel": parallel, "closed-port": closed_port}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in MODES:
        sys.exit("usage: netprobe.py {%s} ARGS..." % ",".join(MODES))
    MODES[sys.argv[1]](*sys.argv[2:])
