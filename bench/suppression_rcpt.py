#!/usr/bin/env python3
"""RCPT latency of `signet serve` with an empty suppression list and with a large one.

Starts the relay (its own JVM, loopback only) on a fresh spool, times N RCPT commands over one SMTP
session (MAIL, up to 90 RCPT, RSET, ...), stops it; imports ENTRIES addresses with
`signet suppression import`; starts it again on the same spool and times the same RCPTs, half of them
to suppressed addresses (which must get 550 5.1.1, the rest 250). Prints one table; raw numbers go to
stdout only. Everything it starts is stopped by PID, also on Ctrl-C.
"""
import argparse, os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

class Relay:
    def __init__(self, java, jar, config, log):
        self.log = open(log, "w")
        self.proc = subprocess.Popen([java, "-jar", jar, "serve", "--config", config],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.logpath = log

    def wait_listening(self, timeout=180):
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            with open(self.logpath) as f:
                m = re.search(r"listening on /127\.0\.0\.1:(\d+)", f.read())
            if m:
                return int(m.group(1)), time.monotonic() - start
            if self.proc.poll() is not None:
                sys.exit("relay exited early; see " + self.logpath)
            time.sleep(0.05)
        sys.exit("relay did not start within %ds" % timeout)

    def rss_mb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024

    def heap_used_mb(self, jcmd):
        subprocess.run([jcmd, str(self.proc.pid), "GC.run"], capture_output=True, timeout=60)
        out = subprocess.run([jcmd, str(self.proc.pid), "GC.heap_info"], capture_output=True, text=True,
                             timeout=60).stdout
        m = re.search(r"used (\d+)K", out)
        return int(m.group(1)) / 1024 if m else float("nan")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

def reply(f):
    while True:
        line = f.readline()
        if not line:
            raise EOFError("connection closed")
        if len(line) < 4 or line[3:4] != b"-":
            return line.decode("ascii", "replace").strip()

def time_rcpts(port, addresses, expect):
    """Latency of each RCPT in microseconds; checks each reply's code against expect(address)."""
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    def cmd(text):
        s.sendall(text.encode("ascii") + b"\r\n")
        return reply(f)
    reply(f)
    cmd("EHLO bench.test")
    out = []
    in_tx = 0
    for a in addresses:
        if in_tx == 0:
            assert cmd("MAIL FROM:<app@example.com>").startswith("250")
        t0 = time.perf_counter_ns()
        r = cmd("RCPT TO:<%s>" % a)
        out.append((time.perf_counter_ns() - t0) / 1000)
        want = expect(a)
        if not r.startswith(want):
            sys.exit("RCPT TO:<%s> got %r, expected %s" % (a, r, want))
        in_tx += 1
        if in_tx == 90:
            assert cmd("RSET").startswith("250")
            in_tx = 0
    cmd("QUIT")
    s.close()
    return out

def summary(lat):
    lat = sorted(lat)
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
    return "p50 %6.0f us  p99 %6.0f us  mean %6.0f us" % (q(0.5), q(0.99), statistics.mean(lat))

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--java", default=os.path.join(os.environ.get("JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64"), "bin", "java"))
    ap.add_argument("--jar", default="target/signet.jar")
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--rcpts", type=int, default=20_000)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    jcmd = os.path.join(os.path.dirname(args.java), "jcmd")
    work = tempfile.mkdtemp(prefix="signet-suppression.")
    relays = []
    def cleanup(*_):
        for r in relays:
            r.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("work directory kept:", work)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    try:
        os.makedirs(os.path.join(work, "keys"))
        config = os.path.join(work, "signet.yaml")
        with open(config, "w") as f:
            f.write("hostname: bench.test\nlisten.submission: 127.0.0.1:%d\nmetrics.listen: 127.0.0.1:%d\n"
                    "admin.listen: 127.0.0.1:0\ndkim.keys: %s/keys\nspool.dir: %s/spool\nlimits.recipients: 100\n"
                    % (free_port(), free_port(), work, work))
        suppressed = ["user%d@bulk%d.example" % (i, i % 1000) for i in range(args.entries)]
        fresh = ["fresh%d@bulk%d.example" % (i, i % 1000) for i in range(args.rcpts)]
        step = max(1, args.entries // max(1, args.rcpts // 4))
        refused = [suppressed[(i * step) % args.entries] for i in range(args.rcpts // 4)]

        r = Relay(args.java, args.jar, config, os.path.join(work, "relay-empty.log"))
        relays.append(r)
        port, started = r.wait_listening()
        time_rcpts(port, fresh[:2000], lambda a: "250")  # warm-up, unmeasured
        empty_fresh = time_rcpts(port, fresh, lambda a: "250")
        rss_empty = r.rss_mb()
        heap_empty = r.heap_used_mb(jcmd)
        r.stop(); relays.remove(r)

        listfile = os.path.join(work, "addresses.txt")
        with open(listfile, "w") as f:
            f.write("\n".join(suppressed) + "\n")
        t0 = time.monotonic()
        subprocess.run([args.java, "-jar", args.jar, "suppression", "import", listfile, "--config", config],
                       check=True, capture_output=True)
        import_s = time.monotonic() - t0
        size_mb = os.path.getsize(os.path.join(work, "spool", "suppressions", "list")) / 1e6

        r = Relay(args.java, args.jar, config, os.path.join(work, "relay-full.log"))
        relays.append(r)
        port, started_full = r.wait_listening()
        time_rcpts(port, fresh[:2000], lambda a: "250")  # warm-up, unmeasured
        full_fresh = time_rcpts(port, fresh, lambda a: "250")
        full_refused = time_rcpts(port, refused, lambda a: "550 5.1.1")
        rss_full = r.rss_mb()
        heap_full = r.heap_used_mb(jcmd)
        r.stop(); relays.remove(r)

        print("suppression list: %d RCPTs to addresses not on the list, %d to addresses on it; one session, loopback"
              % (args.rcpts, len(refused)))
        print("  empty list,      RCPT -> 250       : %s" % summary(empty_fresh))
        print("  %9d entries, RCPT -> 250       : %s" % (args.entries, summary(full_fresh)))
        print("  %9d entries, RCPT -> 550 5.1.1 : %s  (includes the fsync of its suppressed event)"
              % (args.entries, summary(full_refused)))
        print("  empty list: start %.1f s  RSS %4.0f MB  heap after GC %4.0f MB" % (started, rss_empty, heap_empty))
        print("  %d entries: start %.1f s  RSS %4.0f MB  heap after GC %4.0f MB"
              % (args.entries, started_full, rss_full, heap_full))
        print("  import of %d addresses: %.1f s (signet suppression import, one JVM); list file %.0f MB"
              % (args.entries, import_s, size_mb))
    finally:
        cleanup()

if __name__ == "__main__":
    main()
