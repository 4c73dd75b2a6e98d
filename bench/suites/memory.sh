#!/usr/bin/env bash
# Memory check: `signet serve` at -Xmx128m receives one large message streamed end to end
# (SMTP DATA -> normalize -> sign -> spool) and must accept it, with the spooled file verifying
# (dkimpy); then N idle connections are held open and the relay's RSS (VmRSS) is reported.
# CI form: 30 MB and 200 connections. Long form: MESSAGE_MB=100 CONNECTIONS=1000.
# Usage: bench/suites/memory.sh target/signet.jar     (needs python3-dkim)
set -euo pipefail
mb="${MESSAGE_MB:-30}"
connections="${CONNECTIONS:-200}"
source "$(dirname "${BASH_SOURCE[0]}")/relay-common.sh"
rss() { awk '/VmRSS/ {print int($2/1024)}' "/proc/$1/status"; }

relay_config mem --deferred "$closed"
cat >> signet.yaml <<YAML
limits:
  message-size: $(( (mb + 10) * 1048576 ))
  connections: $((connections + 50))
  connections-per-ip: $((connections + 50))
YAML
start_relay -Xmx128m
echo "relay pid $relay at -Xmx128m, RSS $(rss $relay) MB after start"

# A client that streams the message: never holds it whole, and times the transfer.
cat > big.py <<'PY'
import socket, sys, time
port, mb = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=300)
f = s.makefile("rb")
def reply():
    lines = []
    while True:
        line = f.readline().decode()
        lines.append(line.strip())
        if len(line) < 4 or line[3] != "-": return " | ".join(lines)
def cmd(c):
    s.sendall(c.encode() + b"\r\n"); return reply()
reply(); cmd("EHLO client.test")
print(cmd(f"MAIL FROM:<app@example.com> SIZE={mb * 1048576 + 1000}"))
print(cmd("RCPT TO:<rcpt@example.org>"))
print(cmd("DATA"))
s.sendall(b"From: app@example.com\r\nTo: rcpt@example.org\r\nSubject: big\r\n\r\n")
line = b"".join(b"%c" % (33 + (i * 7) % 90) for i in range(76)).replace(b".", b"x") + b"\r\n"
block = line * 13797  # ~1 MB
t = time.time()
for _ in range(mb):
    s.sendall(block)
s.sendall(b".\r\n")
r = reply()
print(r)
print(f"seconds {time.time() - t:.1f}")
cmd("QUIT")
PY
peak=0
( while kill -0 "$relay" 2>/dev/null; do r=$(rss "$relay" 2>/dev/null || echo 0); echo "$r"; sleep 0.2; done ) > rss.samples &
sampler=$!; pids+=($sampler)
$py big.py "$smtp" "$mb" > big.txt
kill "$sampler" 2>/dev/null || true
peak=$(sort -n rss.samples | tail -1)
sed 's/^/  /' big.txt
grep -q "^250 2.0.0" big.txt && ok "$mb MB message accepted at -Xmx128m (peak RSS during the transfer $peak MB)" \
  || fail "$mb MB message not accepted: $(tail -2 big.txt | head -1)"
grep -q "OutOfMemoryError" serve.log && fail "OutOfMemoryError in serve.log" || ok "no OutOfMemoryError"
$py - "$work" > verify.txt <<'PY'
import dkim, glob, re, sys
work = sys.argv[1]
record = "".join(re.findall(r'"([^"]*)"', open(f"{work}/record.txt").read())).encode()
files = glob.glob(f"{work}/spool/queue/*.msg")
for f in files:
    data = open(f, "rb").read().split(b"\nend\n", 1)[1]  # the envelope comes first, the signed message after it
    print(len(data), dkim.verify(data, dnsfunc=lambda name, timeout=5: record))
PY
cat verify.txt | sed 's/^/  spooled: /'
grep -q " True$" verify.txt && ok "the spooled file verifies (dkimpy)" || fail "the spooled file does not verify"

# idle connections: greeting + EHLO, then silence
cat > idle.py <<'PY'
import socket, sys, time
port, n, hold = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.recv(1000); s.sendall(b"EHLO idle.test\r\n"); s.recv(1000)
    socks.append(s)
print(f"open {len(socks)}", flush=True)
deadline = time.time() + 120
import os
while not os.path.exists(hold) and time.time() < deadline:
    time.sleep(0.2)
for s in socks: s.close()
PY
before=$(rss "$relay")
$py idle.py "$smtp" "$connections" "$work/release" > idle.txt &
idler=$!; pids+=($idler)
for _ in $(seq 1 600); do grep -q "^open" idle.txt 2>/dev/null && break; sleep 0.2; done
sleep 2
with=$(rss "$relay")
active=$(curl -fsS "http://127.0.0.1:$metrics/metrics" | awk '/^signet_smtp_sessions_active/ {print $2}')
touch "$work/release"; wait "$idler" 2>/dev/null || true
echo "  RSS: $before MB before, $with MB with $(cat idle.txt) idle connections (sessions active: $active)"
[ "${active%.*}" -ge "$connections" ] 2>/dev/null && ok "$connections idle sessions held open, RSS $with MB (+$((with - before)) MB)" \
  || fail "expected $connections active sessions, metrics say $active"

summary memory
