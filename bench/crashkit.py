"""Shared by the crash drivers (crash_submission.py, crash_delivery.py): their common arguments, the
relay process, the clients that submit continuously, and the test key for dkimpy."""
import argparse
import random
import re
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
import uuid

# The end of every message the clients send; group 1 is its token.
TRAILER = re.compile(rb"END-OF-MESSAGE ([0-9a-f]{32})\r\n\Z")


def split_spooled(qid, data):
    """A spool .msg file: (envelope, message), or (None, reason) when it is not a whole one."""
    heads = [b"signet-envelope %d\nid " % v + qid.encode() + b"\n" for v in (1, 2)]
    end = data.find(b"\nend\n")
    if not any(data.startswith(head) for head in heads) or end < 0:
        return None, "no complete envelope at its start: %r" % data[:60]
    return data[:end + 5], data[end + 5:]


def arguments(description, kills):
    """The arguments every driver takes (the .sh wrapper passes them); add more before parse_args()."""
    p = argparse.ArgumentParser(description=description)
    for name in ("java", "jar", "config", "spool", "pubkey", "log"):
        p.add_argument("--" + name, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--kills", type=int, default=kills)
    p.add_argument("--clients", type=int, default=4)
    return p


def exit_on_sigterm():
    """SIGTERM (the wrapper's cleanup) unwinds like an exception, so `finally` stops the relay."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def dnsfunc(pubkey):
    """dkimpy's DNS lookup, answering only the test key's TXT record (crash._domainkey.example.com)."""
    record = ("v=DKIM1; k=rsa; p=" + pubkey).encode()
    return lambda name, timeout=5: record if name.startswith(b"crash._domainkey.example.com") else None


class Relay:
    """`signet serve` as a child process; at most one at a time."""

    def __init__(self, args):
        self.args = args
        self.log = open(args.log, "ab")
        self.proc = None

    def start(self):
        a = self.args
        self.proc = subprocess.Popen([a.java, "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-jar", a.jar, "serve",
                                      "--config", a.config], stdout=self.log, stderr=self.log)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                sys.exit("relay exited with %s at start; see %s" % (self.proc.returncode, a.log))
            try:
                socket.create_connection(("127.0.0.1", a.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.kill()
        sys.exit("relay did not start listening within 60 s")

    def kill(self):
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def terminate(self, timeout=60):
        """SIGTERM (graceful stop: deliveries in flight end and are recorded); the exit code."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return "killed after %d s" % timeout
        finally:
            self.proc = None


class _Session(smtplib.SMTP):
    """Keeps the reply to DATA, which names the queue id ("250 2.0.0 Ok: queued as ...")."""
    last_reply = ""

    def data(self, msg):
        code, reply = super().data(msg)
        self.last_reply = reply.decode(errors="replace")
        return code, reply


def message(token, recipients):
    """About 4 kB, From example.com (the key's domain), ending with a trailer that names the token. One
    line starts with a dot: SMTP dot-stuffing on each hop must not change the signed body."""
    return ("Subject: crash %s\r\nFrom: app@example.com\r\nTo: %s\r\n\r\n" % (token, ", ".join(recipients))
            + "".join("line %d of message %s, some padding to make it about 4 kB\r\n" % (i, token)
                      for i in range(50))
            + ".a line that starts with a dot\r\n"
            + "END-OF-MESSAGE %s\r\n" % token).encode()


class Clients:
    """Threads that submit continuously to the relay, reconnecting whenever it is gone.

    acked: token -> (queue id, recipients) for every message that got its 250."""

    def __init__(self, port, count, recipients=lambda rnd: ["bob@example.org"]):
        self.port = port
        self.recipients = recipients
        self.acked = {}
        self.stats = {"sent": 0, "acked": 0, "errors": 0}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(count)]

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self, timeout=15):
        self.stopping.set()
        for t in self.threads:
            t.join(timeout)

    def acked_count(self):
        with self.lock:
            return self.stats["acked"]

    def snapshot(self):
        with self.lock:
            return dict(self.acked)

    def _run(self, n):
        rnd = random.Random()
        while not self.stopping.is_set():
            try:
                with _Session("127.0.0.1", self.port, local_hostname="client%d.test" % n, timeout=10) as s:
                    while not self.stopping.is_set():
                        token = uuid.uuid4().hex
                        rcpts = self.recipients(rnd)
                        with self.lock:
                            self.stats["sent"] += 1
                        # sendmail raises unless a recipient was accepted and DATA got a 2xx
                        refused = s.sendmail("app@example.com", rcpts, message(token, rcpts))
                        m = re.search(r"queued as ([0-9A-Z]{18})", s.last_reply)
                        if refused or not m:
                            raise smtplib.SMTPException("refused %r, reply %r" % (refused, s.last_reply))
                        with self.lock:
                            self.acked[token] = (m.group(1), rcpts)
                            self.stats["acked"] += 1
            except (OSError, smtplib.SMTPException):
                with self.lock:
                    self.stats["errors"] += 1
                time.sleep(0.05)
