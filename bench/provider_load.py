"""Provider-shaped load: many recipient domains, one provider. Every domain's MX is
aspmx.l.google.com (served by dnsmasq on loopback), so Signet's traffic shaping puts them all in the
'google' group. Runs builds/configurations of Signet side by side, alternating A B C A B C ..., so that
drift of a shared machine hits each alike, and prints per run and the medians:

  delivered_per_s  messages counted at the sink / seconds from the first submission to the last arrival
  cpu_s_per_1000   the relay JVM's CPU seconds (utime+stime) per 1000 messages

  python3 bench/provider_load.py --variant base=OLD.jar --variant shaped=target/signet.jar \\
      --variant wide=target/signet.jar:wide.yaml [--rounds 3] [--messages 3000] [--domains 200] [--sessions 8]

A variant is NAME=JAR or NAME=JAR:SHAPING_FILE (delivery.shaping). Everything listens on 127.0.0.1 only,
on free ports; the relay, dnsmasq and the sink are stopped by PID at the end (also on Ctrl-C).
Raw lines go to stdout and bench/target/provider-<time>.txt.
"""
import argparse
import asyncio
import os
import shutil
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
JAVA = os.path.join(os.environ.get("JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64"), "bin", "java")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Sink:
    """A fast SMTP sink (asyncio, no disk): counts messages accepted with 250 after the final dot."""

    def __init__(self, port):
        self.port = port
        self.count = 0
        self.last = 0.0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(10)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._session, "127.0.0.1", self.port))
        self.ready.set()
        self.loop.run_forever()
        server.close()

    async def _session(self, reader, writer):
        writer.write(b"220 aspmx.l.google.com ESMTP sink\r\n")
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    writer.write(b"250-aspmx.l.google.com\r\n250-8BITMIME\r\n250 SIZE 52428800\r\n")
                elif verb == b"DATA":
                    writer.write(b"354 go ahead\r\n")
                    await writer.drain()
                    while True:
                        data = await reader.readline()
                        if not data or data == b".\r\n":
                            break
                    self.count += 1
                    self.last = time.monotonic()
                    writer.write(b"250 2.0.0 OK\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 2.0.0 bye\r\n")
                    await writer.drain()
                    break
                else:  # MAIL, RCPT, RSET, NOOP
                    writer.write(b"250 2.0.0 OK\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def reset(self):
        self.count = 0
        self.last = 0.0


def start_dns(work, domains):
    port = free_port()
    conf = os.path.join(work, "dnsmasq.conf")
    with open(conf, "w") as f:
        f.write("no-resolv\nno-hosts\nno-daemon\nlisten-address=127.0.0.1\nbind-interfaces\n")
        f.write("host-record=aspmx.l.google.com,127.0.0.1\n")
        for d in domains:
            f.write(f"mx-host={d},aspmx.l.google.com,10\n")
    proc = subprocess.Popen(["dnsmasq", f"--conf-file={conf}", f"--port={port}", "--user=root",
                             f"--pid-file={os.path.join(work, 'dnsmasq.pid')}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    if proc.poll() is not None:
        sys.exit("dnsmasq did not start")
    return proc, port


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_port(port, proc, limit=60):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("relay exited")
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("relay did not listen")


MESSAGE = ("From: App <app@bench.test>\r\nTo: someone@d0.test\r\nSubject: provider load\r\n"
           "Date: Sun, 06 Dec 2026 11:00:00 +0000\r\nMessage-ID: <{n}@bench.test>\r\n\r\n"
           + "x" * 72 + "\r\n") * 1


def submit(port, messages, sessions, domains):
    """{sessions} clients, each one SMTP session per 50 messages, recipients round-robin over the domains."""
    errors = []

    def client(first):
        n = first
        while n < messages:
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
                    for _ in range(50):
                        if n >= messages:
                            break
                        body = MESSAGE.replace("{n}", str(n)) + ("y" * 70 + "\r\n") * 50
                        s.sendmail("app@bench.test", [f"r{n}@{domains[n % len(domains)]}"], body)
                        n += sessions
            except Exception as e:  # counted, the run is then void
                errors.append(repr(e))
                return

    threads = [threading.Thread(target=client, args=(i,)) for i in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def run_variant(name, jar, shaping, args, work, dns_port, sink, domains):
    d = tempfile.mkdtemp(prefix=f"{name}-", dir=work)
    keys = os.path.join(work, "keys")
    smtp, metrics = free_port(), free_port()
    cfg = os.path.join(d, "signet.yaml")
    with open(cfg, "w") as f:
        f.write(f"hostname: relay.bench.test\nlisten.submission: 127.0.0.1:{smtp}\nmetrics.listen: 127.0.0.1:{metrics}\n"
                f"limits.connections-per-ip: 200\ndkim.keys: {keys}\nspool.dir: {d}/spool\n"
                f"delivery.dns: [127.0.0.1:{dns_port}]\ndelivery.port: {sink.port}\n")
        if shaping:
            f.write(f"delivery.shaping: {os.path.abspath(shaping)}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNET_")}
    log = open(os.path.join(d, "signet.log"), "w")
    proc = subprocess.Popen([JAVA, "-Xmx512m", "-jar", jar, "serve",
                             "--config", cfg], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_port(smtp, proc)
        sink.reset()
        cpu0 = cpu_seconds(proc.pid)
        start = time.monotonic()
        errors = submit(smtp, args.messages, args.sessions, domains)
        deadline = time.monotonic() + args.timeout
        while sink.count < args.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        cpu = cpu_seconds(proc.pid) - cpu0
        delivered = sink.count
        elapsed = (sink.last or time.monotonic()) - start
        ok = not errors and delivered == args.messages
        return (f"delivered={delivered} seconds={elapsed:.2f} delivered_per_s={delivered / elapsed:.1f} "
                f"cpu_s_per_1000={cpu * 1000 / max(1, delivered):.2f} ok={'yes' if ok else 'no'}"
                + (f" errors={len(errors)}:{errors[0]}" if errors else ""))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(40)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--variant", action="append", required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--messages", type=int, default=3000)
    p.add_argument("--domains", type=int, default=200)
    p.add_argument("--sessions", type=int, default=8)
    p.add_argument("--timeout", type=int, default=300)
    args = p.parse_args()
    variants = []
    for v in args.variant:
        name, spec = v.split("=", 1)
        jar, _, shaping = spec.partition(":")
        variants.append((name, jar, shaping or None))
    work = tempfile.mkdtemp(prefix="signet-provider-")
    domains = [f"d{i}.test" for i in range(args.domains)]
    dns, dns_port = start_dns(work, domains)
    sink = Sink(free_port())
    os.makedirs(os.path.join(HERE, "target"), exist_ok=True)
    out_path = os.path.join(HERE, "target", time.strftime("provider-%Y%m%dT%H%M%SZ.txt", time.gmtime()))
    results = {name: [] for name, _, _ in variants}
    try:
        subprocess.run([JAVA, "-jar", variants[-1][1], "keygen", "--domain", "bench.test", "--selector", "bench",
                        "--keys", os.path.join(work, "keys")], check=True, stdout=subprocess.DEVNULL)
        with open(out_path, "w") as out:
            head = (f"# provider_load {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}: rounds={args.rounds} "
                    f"messages={args.messages} domains={args.domains} sessions={args.sessions} "
                    + " ".join(args.variant))
            print(head, flush=True)
            out.write(head + "\n")
            for r in range(1, args.rounds + 1):
                for name, jar, shaping in variants:
                    line = f"variant={name} round={r} " + run_variant(name, jar, shaping, args, work, dns_port, sink, domains)
                    print(line, flush=True)
                    out.write(line + "\n")
                    if "ok=yes" in line:
                        kv = dict(x.split("=", 1) for x in line.split() if "=" in x)
                        results[name].append((float(kv["delivered_per_s"]), float(kv["cpu_s_per_1000"])))
            for name, rs in results.items():
                if rs:
                    line = (f"{name:8s} delivered_per_s median {statistics.median(r[0] for r in rs):7.1f}   "
                            f"cpu_s_per_1000 median {statistics.median(r[1] for r in rs):5.2f}   ({len(rs)} ok runs)")
                    print(line, flush=True)
                    out.write(line + "\n")
    finally:
        dns.terminate()
        dns.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
