#!/usr/bin/env python3
"""Accept latency of one SMTP session: the time from the end of DATA (the final CRLF.CRLF sent) to the
relay's 250, for each of --messages messages sent one after another, each in its own connection as
smtp-source sends them (connect, EHLO, MAIL, RCPT, DATA, message, QUIT). Prints p50/p90/p99/max in ms
and the whole run's messages per second on one line of key=value pairs.

  bench/accept_latency.py --relay 127.0.0.1:12528 [--messages 2000] [--size 4096] [--warmup 0]
                          [--from sender@signet.test] [--to rcpt@sink.test]

--warmup N sends N messages first, unmeasured. Loopback only, as bench/load.sh."""
import argparse, socket, statistics, sys, time


def reply(f):
    """Reads one (possibly multi-line) SMTP reply; returns its code."""
    while True:
        line = f.readline()
        if not line:
            raise ConnectionError("connection closed")
        if line[3:4] != b"-":
            return int(line[:3])


def send_one(host, port, sender, rcpt, body):
    with socket.create_connection((host, port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        f = s.makefile("rb")
        expect = [(None, 220), (b"EHLO bench.test\r\n", 250), (b"MAIL FROM:<%s>\r\n" % sender, 250),
                  (b"RCPT TO:<%s>\r\n" % rcpt, 250), (b"DATA\r\n", 354)]
        for command, code in expect:
            if command:
                s.sendall(command)
            got = reply(f)
            if got != code:
                raise RuntimeError(f"{command!r}: expected {code}, got {got}")
        s.sendall(body)
        t0 = time.perf_counter()
        got = reply(f)
        t1 = time.perf_counter()
        if got != 250:
            raise RuntimeError(f"end of data: got {got}")
        s.sendall(b"QUIT\r\n")
        reply(f)
        return t1 - t0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--relay", required=True)
    p.add_argument("--messages", type=int, default=2000)
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--warmup", type=int, default=0)
    p.add_argument("--from", dest="sender", default="sender@signet.test")
    p.add_argument("--to", default="rcpt@sink.test")
    a = p.parse_args()
    host, port = a.relay.rsplit(":", 1)
    if not host.startswith("127."):
        sys.exit("accept_latency.py: --relay must be on 127.0.0.0/8")
    head = (f"From: <{a.sender}>\r\nTo: <{a.to}>\r\nSubject: accept latency\r\n"
            f"Message-ID: <%d@bench.test>\r\nDate: Sun, 06 Dec 2026 12:00:00 +0000\r\n\r\n")
    line = b"x" * 76 + b"\r\n"
    filler = line * max(1, (a.size - len(head)) // len(line))
    sender, rcpt = a.sender.encode(), a.to.encode()
    for i in range(a.warmup):
        send_one(host, int(port), sender, rcpt, (head % i).encode() + filler + b".\r\n")
    times = []
    start = time.perf_counter()
    for i in range(a.messages):
        times.append(send_one(host, int(port), sender, rcpt, (head % (a.warmup + i)).encode() + filler + b".\r\n"))
    wall = time.perf_counter() - start
    times.sort()
    q = lambda x: 1000 * times[min(len(times) - 1, int(x * len(times)))]
    print(f"messages={a.messages} size={a.size} p50_ms={q(0.5):.3f} p90_ms={q(0.9):.3f} p99_ms={q(0.99):.3f} "
          f"max_ms={1000 * times[-1]:.3f} mean_ms={1000 * statistics.fmean(times):.3f} per_s={a.messages / wall:.1f}")


if __name__ == "__main__":
    main()
