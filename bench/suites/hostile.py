"""The hostile-client attacks of bench/suites/hostile.sh, against a running relay.

Usage: hostile.py SMTP_PORT METRICS_PORT WORK_DIR
The relay: clients.networks [127.0.0.1/32], user alice (password "secret", example.com), STARTTLS
with a self-signed certificate, smarthost = itself, hostname relay.hostile.test. Prints one line per
check ("ok ..." / "FAIL ..."); exits 1 if any failed.
"""
import base64
import glob
import os
import socket
import ssl
import stat
import statistics
import sys
import threading
import time
import urllib.request

SMTP, METRICS, WORK = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


class Client:
    def __init__(self, source="127.0.0.1", timeout=60):
        self.s = socket.create_connection(("127.0.0.1", SMTP), timeout=timeout, source_address=(source, 0))
        self.f = self.s.makefile("rb")

    def reply(self):
        lines = []
        while True:
            line = self.f.readline().decode("utf-8", "replace")
            if not line:
                return " | ".join(lines) if lines else ""
            lines.append(line.rstrip("\r\n"))
            if len(line) < 4 or line[3] != "-":
                return " | ".join(lines)

    def cmd(self, c):
        self.s.sendall(c.encode() + b"\r\n")
        return self.reply()

    def hello(self):
        greeting = self.reply()
        return greeting, self.cmd("EHLO hostile.test")

    def starttls(self):
        r = self.cmd("STARTTLS")
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.s = ctx.wrap_socket(self.s, server_hostname="relay.hostile.test")
        self.f = self.s.makefile("rb")
        return r

    def auth(self, user, password):
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        return self.cmd("AUTH PLAIN " + token)

    def send(self, sender, rcpt, data):
        """MAIL, RCPT, DATA; returns the reply to the data (or the first refusal)."""
        for c in (f"MAIL FROM:<{sender}>", f"RCPT TO:<{rcpt}>"):
            r = self.cmd(c)
            if not r.startswith("250"):
                return r
        r = self.cmd("DATA")
        if not r.startswith("354"):
            return r
        self.s.sendall(data.encode() if isinstance(data, str) else data)
        self.s.sendall(b"\r\n.\r\n")
        return self.reply()

    def close(self):
        try:
            self.f.close()  # the file keeps the socket open otherwise
            self.s.close()
        except OSError:
            pass


def message(headers="", body="hello"):
    return f"From: app@example.com\r\nTo: bob@example.org\r\nSubject: t\r\n{headers}\r\n{body}"


def healthz(timeout=5):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{METRICS}/healthz", timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError as e:
        return str(e)


# -- /healthz with half-sent requests open (they stay open during the checks below)
idle_http = []
for _ in range(50):
    s = socket.create_connection(("127.0.0.1", METRICS), timeout=60)
    s.sendall(b"GET /metrics HTTP/1.1\r\n")
    idle_http.append(s)
started = time.time()
check(healthz() == 200 and time.time() - started < 3,
      f"/healthz answers 200 in {time.time() - started:.2f} s with 50 half-sent requests open")
http_opened = time.time()

# -- header bombs: 20 sessions at once, 250 000 empty fields each (1 MB, under the header size limit)
bomb = ("From: app@example.com\r\n" + "X:\r\n" * 250_000 + "\r\nbody").encode()
replies = [None] * 20


def bomber(i):
    c = Client()
    try:
        c.hello()
        replies[i] = c.send("app@example.com", "bob@example.org", bomb)
    except OSError as e:
        replies[i] = "error " + str(e)
    finally:
        c.close()


started = time.time()
threads = [threading.Thread(target=bomber, args=(i,)) for i in range(20)]
for t in threads:
    t.start()
for t in threads:
    t.join()
check(all(r and r.startswith("552 5.3.4") for r in replies),
      f"20 concurrent header bombs refused in {time.time() - started:.1f} s: {sorted(set(replies))}")
c = Client()
c.hello()
r = c.send("app@example.com", "bob@example.org", message())
check(r.startswith("250 2.0.0"), f"a normal message is accepted after the bombs: {r}")
c.close()

# -- From spoofing by an authenticated user (alice may use example.com only)
c = Client()
c.hello()
check(c.auth("alice", "secret").startswith("235"), "alice authenticates (loopback, no TLS needed)")
for value in ["app@example.com, ceo@victim.test", "x: app@example.com, ceo@victim.test;",
              "<app@example.com> <ceo@victim.test>", "<app@example.com> ceo@victim.test",
              "ceo\\@victim.test@example.com"]:
    r = c.send("app@example.com", "bob@example.org", f"From: {value}\r\nSubject: s\r\n\r\nx")
    check(r.startswith("550 5.6.0") or r.startswith("550 5.7.1"), f"From: {value} -> {r}")
r = c.send("app@example.com", "bob@example.org", "From: app@example.com, ceo@victim.test\r\nSender: app@example.com\r\n\r\nx")
check(r.startswith("550 5.7.1"), f"two authors with a Sender, one foreign -> {r}")
c.close()

# -- AUTH before EHLO; STARTTLS discards AUTH (127.0.0.2: loopback, so AUTH without TLS, but outside the networks)
c = Client(source="127.0.0.2")
c.reply()
r = c.auth("alice", "secret")
check(r.startswith("503"), f"AUTH before EHLO -> {r}")
c.cmd("EHLO hostile.test")
check(c.auth("alice", "secret").startswith("235"), "AUTH after EHLO succeeds")
c.starttls()
c.cmd("EHLO hostile.test")
r = c.cmd("MAIL FROM:<app@example.com>")
check(r.startswith("530"), f"AUTH before STARTTLS does not survive the handshake -> {r}")
c.close()

# -- AUTH timing: unknown user vs wrong password (bcrypt cost 12 for both)
def auth_time(user, source):
    c = Client(source=source)  # one address per attempt: the failure throttle counts per address
    c.hello()
    t = time.perf_counter()
    c.auth(user, "wrong")
    elapsed = time.perf_counter() - t
    c.close()
    return elapsed


known, unknown = [], []
for i in range(7):
    known.append(auth_time("alice", f"127.0.1.{i + 1}"))
    unknown.append(auth_time("nobody", f"127.0.2.{i + 1}"))
# Both replies include the same failure delay (AuthThrottle); the bcrypt check at cost 12 takes about
# 250 ms on an idle machine, the old dummy's cost 10 about 65 ms: those two sets of times never overlapped.
# The check is that they overlap, which holds however slow a loaded machine makes every bcrypt.
overlap = min(unknown) <= max(known) and min(known) <= max(unknown)
check(overlap, f"AUTH timing: wrong password {min(known) * 1000:.0f}-{max(known) * 1000:.0f} ms, unknown user "
      f"{min(unknown) * 1000:.0f}-{max(unknown) * 1000:.0f} ms (7 each, interleaved; medians "
      f"{statistics.median(known) * 1000:.0f} / {statistics.median(unknown) * 1000:.0f} ms): the ranges must overlap")

# -- address literals and hop count
c = Client()
c.hello()
c.cmd("MAIL FROM:<app@example.com>")
for rcpt, want in [("x@[IPv6:dead.beef]", "553"), ("x@[127.1]", "553"), ("x@[2130706433]", "553"), ("x@[0]", "553"),
                   ("x@[127.0.0.1]", "550 5.1.2")]:
    r = c.cmd(f"RCPT TO:<{rcpt}>")
    check(r.startswith(want), f"RCPT TO:<{rcpt}> -> {r}")
c.cmd("RSET")
received = "Received: from a.test by b.test; Sat, 5 Dec 2026 10:00:00 +0000\r\n" * 50
r = c.send("app@example.com", "bob@example.org", received + message())
check(r.startswith("554 5.4.6"), f"50 Received fields -> {r}")
c.close()

# -- the smarthost is the relay itself: the first message (accepted above) must fail once, not loop
deadline = time.time() + 30
log = ""
while time.time() < deadline:
    log = open(os.path.join(WORK, "serve.log"), encoding="utf-8", errors="replace").read()
    if "loops back to myself" in log:
        break
    time.sleep(0.2)
accepted = log.count("result=accepted")
check("loops back to myself" in log, "delivery to a smarthost that is this relay fails: loops back to myself")
check(accepted == 1, f"the relay accepted {accepted} message(s) in all (the loop did not re-submit)")

# -- 300 idle strangers from 15 addresses, then the relay's own apps
def active_sessions():
    with urllib.request.urlopen(f"http://127.0.0.1:{METRICS}/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("signet_smtp_sessions_active"):
                return float(line.split()[-1])


print(f"     sessions active before the strangers: {active_sessions():.0f}")
strangers = []
refused = 0
for i in range(300):
    try:
        s = Client(source=f"127.0.0.{2 + i % 15}", timeout=60)
        if s.reply().startswith("421"):
            refused += 1
            s.close()
        else:
            strangers.append(s)
    except OSError:
        refused += 1
greetings = []
pool = []
for _ in range(45):  # of the 50 reserved (limits.connections-reserved), leaving room for the relay's own deliveries
    a = Client()
    greetings.append(a.reply())
    pool.append(a)
check(all(g.startswith("220") for g in greetings),
      f"with {len(strangers)} strangers holding connections ({refused} refused), 45 app connections all get 220")
for a in pool:
    a.cmd("QUIT")
    a.close()
# a pool reconnecting right after QUIT
bad = []
for _ in range(3):
    for _ in range(50):
        a = Client()
        g = a.reply()
        if not g.startswith("220"):
            bad.append(g)
        a.cmd("QUIT")
        a.close()
check(not bad, f"150 reconnects right after QUIT from the app network: {len(bad)} refused {bad[:1]}")
start = time.time()
s = strangers[0]
r = s.reply()  # the relay gives up on the silent stranger (30 s before AUTH)
check(r.startswith("421") and time.time() - start < 40, f"an idle stranger is disconnected: {r}")
for s in strangers:
    s.close()

# -- half-sent HTTP requests are closed by the server (10 s to send a request)
time.sleep(max(0, http_opened + 13 - time.time()))
closed = 0
for s in idle_http:
    s.settimeout(2)
    try:
        closed += s.recv(100) == b""
    except OSError:
        closed += 1
    s.close()
check(closed == 50, f"{closed} of 50 half-sent HTTP requests closed by the server after 10 s")

# -- spool permissions (the looping messages are gone by now: what remains is checked, the lock at least)
spool = os.path.join(WORK, "spool")
paths = [spool] + glob.glob(spool + "/*") + glob.glob(spool + "/*/*")
modes = {p: stat.S_IMODE(os.stat(p).st_mode) for p in paths}
files = [p for p in modes if os.path.isfile(p)]
check(files and all(modes[p] == 0o600 for p in files), f"spool files 0600: {sorted(os.path.relpath(p, spool) for p in files)}")
check(all(modes[p] == 0o700 for p in modes if os.path.isdir(p)), "spool directories 0700")

# -- queue/ unusable: /healthz must say so
queue = os.path.join(spool, "queue")
os.rename(queue, queue + ".away")
open(queue, "w").close()
status = healthz()
os.remove(queue)
os.rename(queue + ".away", queue)
check(status == 503, f"/healthz with queue/ unusable -> {status}")
check(healthz() == 200, "/healthz is 200 again once queue/ is back")

print(f"hostile: {len(failures)} failed")
sys.exit(1 if failures else 0)
