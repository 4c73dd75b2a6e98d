"""Driver for bench/crash-submission.sh: clients, SIGKILLs, and the spool checks after each kill."""
import argparse
import os
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

import dkim

p = argparse.ArgumentParser()
for name in ("java", "jar", "config", "spool", "pubkey", "log"):
    p.add_argument("--" + name, required=True)
p.add_argument("--port", type=int, required=True)
p.add_argument("--kills", type=int, default=20)
p.add_argument("--clients", type=int, default=4)
args = p.parse_args()

QUEUE = os.path.join(args.spool, "queue")
CORRUPT = os.path.join(args.spool, "corrupt")
record = ("v=DKIM1; k=rsa; p=" + args.pubkey).encode()

acked = {}            # token -> queue id, for every message that got a 250
lock = threading.Lock()
stop = threading.Event()
stats = {"sent": 0, "acked": 0, "errors": 0}


# smtplib.SMTP.data returns (code, reply); keep the reply of each DATA to read the queue id from it.
_orig_data = smtplib.SMTP.data


def _data(self, msg):
    code, reply = _orig_data(self, msg)
    self._signet_last = reply.decode(errors="replace")
    return code, reply


smtplib.SMTP.data = _data


def client(n):
    """Sends continuously; reconnects whenever the relay is gone."""
    while not stop.is_set():
        try:
            with smtplib.SMTP("127.0.0.1", args.port, local_hostname="client%d.test" % n, timeout=10) as s:
                while not stop.is_set():
                    token = uuid.uuid4().hex
                    body = ("Subject: crash %s\r\nFrom: app@example.com\r\nTo: bob@example.org\r\n\r\n" % token
                            + "".join("line %d of message %s, some padding to make it about 4 kB\r\n" % (i, token)
                                      for i in range(50))
                            + "END-OF-MESSAGE %s\r\n" % token)
                    with lock:
                        stats["sent"] += 1
                    # sendmail raises unless the recipient was accepted and DATA got a 2xx
                    s.sendmail("app@example.com", ["bob@example.org"], body.encode())
                    m = re.search(r"queued as ([0-9A-Z]{18})", getattr(s, "_signet_last", ""))
                    if not m:
                        raise smtplib.SMTPException("250 without queue id: %r" % getattr(s, "_signet_last", ""))
                    with lock:
                        acked[token] = m.group(1)
                        stats["acked"] += 1
        except (OSError, smtplib.SMTPException):
            with lock:
                stats["errors"] += 1
            time.sleep(0.05)


def start_relay(log):
    proc = subprocess.Popen([args.java, "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-jar", args.jar, "serve",
                             "--config", args.config], stdout=log, stderr=log)
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit("relay exited with %s at start; see %s" % (proc.returncode, args.log))
        try:
            socket.create_connection(("127.0.0.1", args.port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("relay did not start listening within 60 s")


def dnsfunc(name, timeout=5):
    return record if name.startswith(b"crash._domainkey.example.com") else None


verified = set()


def check_spool(label):
    """The spool as the next start finds it. Returns problems (empty = good) and counts."""
    problems = []
    files = set(os.listdir(QUEUE))
    envs = {f[:-4] for f in files if f.endswith(".env")}
    emls = {f[:-4] for f in files if f.endswith(".eml")}
    orphans = emls - envs  # not visible: recovery moves them to corrupt/
    for qid in envs:
        if qid not in emls:
            problems.append("%s: envelope without message" % qid)
            continue
        with open(os.path.join(QUEUE, qid + ".env"), "rb") as f:
            env = f.read()
        if not (env.startswith(b"signet-envelope 1\nid " + qid.encode() + b"\n") and env.endswith(b"\nend\n")):
            problems.append("%s: incomplete envelope %r" % (qid, env[-40:]))
        with open(os.path.join(QUEUE, qid + ".eml"), "rb") as f:
            eml = f.read()
        m = re.search(rb"END-OF-MESSAGE ([0-9a-f]{32})\r\n$", eml)
        if not m:
            problems.append("%s: message does not end with its trailer" % qid)
            continue
        if qid not in verified:
            if not dkim.verify(eml, dnsfunc=dnsfunc):
                problems.append("%s: DKIM signature does not verify" % qid)
            verified.add(qid)
    with lock:
        snapshot = dict(acked)
    missing = [t for t, qid in snapshot.items() if qid not in envs]
    for t in missing:
        problems.append("acknowledged message %s (token %s) is not in the spool" % (snapshot[t], t))
    return problems, len(envs), len(orphans), len(snapshot)


def main():
    log = open(args.log, "ab")
    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(args.clients)]
    started = time.time()
    for t in threads:
        t.start()
    failures = []
    for round_ in range(1, args.kills + 1):
        proc = start_relay(log)
        # Kill while mail flows: after the first new 250 of this run (or 10 s), at a random moment.
        with lock:
            before = stats["acked"]
        deadline = time.time() + 10
        while time.time() < deadline:
            with lock:
                if stats["acked"] > before:
                    break
            time.sleep(0.01)
        time.sleep(random.uniform(0.0, 1.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        problems, queued, orphans, acked_n = check_spool("kill %d" % round_)
        print("kill %2d: %5d acknowledged so far, %5d in queue/, %d unacknowledged leftovers (.eml without .env)"
              % (round_, acked_n, queued, orphans), flush=True)
        failures += ["after kill %d: %s" % (round_, p) for p in problems]
    # a last clean run: recovery, then a graceful stop
    proc = start_relay(log)
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join(15)
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)
    problems, queued, orphans, acked_n = check_spool("final")
    failures += ["final: %s" % p for p in problems]
    corrupt = len(os.listdir(CORRUPT)) if os.path.isdir(CORRUPT) else 0
    print("crash-submission: %d SIGKILLs in %.0f s, %d clients; %d messages sent, %d acknowledged (250), "
          "%d in the spool, %d DKIM-verified, %d acknowledged messages missing, %d leftovers moved to corrupt/ "
          "by recovery (never acknowledged), client connection errors %d"
          % (args.kills, time.time() - started, args.clients, stats["sent"], acked_n, queued, len(verified),
             sum(1 for f in failures if "not in the spool" in f), corrupt, stats["errors"]))
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures[:50]))
        sys.exit(1)
    if acked_n == 0:
        print("FAILED: no message was acknowledged at all")
        sys.exit(1)
    print("crash-submission: OK")


main()
