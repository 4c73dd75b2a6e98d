#!/usr/bin/env bash
# Smoke test of `signet serve` with real clients nobody here wrote: swaks submits over plain SMTP,
# STARTTLS and AUTH; SMTP smuggling payloads must be refused; every accepted message in the spool
# must verify with dkimpy against the key published in a real DNS server (dnsmasq on loopback).
# Usage: .ci/smoke-relay.sh target/signet.jar     (needs swaks, openssl, dnsmasq-base, python3-dkim, python3-dnspython)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../bench/suites/relay-common.sh"
dnsport=$(free_port)
# serve delivers: keep it on loopback (DNS from dnsmasq, example.org's MX is 127.0.0.1 on a port
# nobody listens on), so accepted mail is deferred and stays in the spool for the checks below.
relay_config smoke --tls --user app s3cret-pass --deferred "$dnsport"
# The TXT strings exactly as keygen printed them, as one dnsmasq record of several strings.
strings=$(sed -e 's/^[^(]*( "//' -e 's/" )$//' -e 's/" "/,/g' record.txt)
dnsmasq --keep-in-foreground --no-resolv --no-hosts --port="$dnsport" --listen-address=127.0.0.1 \
  --bind-interfaces --txt-record="smoke._domainkey.example.com,$strings" --pid-file="$work/dnsmasq.pid" \
  --mx-host=example.org,mx.example.org,10 --host-record=mx.example.org,127.0.0.1 2>dnsmasq.log &
pids+=($!)
start_relay

accepted() { grep -qE "^<[-~]  250 2.0.0 Ok: queued as" "$1"; }
swaks_to() { swaks --server 127.0.0.1 --port "$smtp" --from app@example.com --to user@example.org "$@"; }

swaks_to --header "Subject: plain" > plain.log 2>&1 && accepted plain.log && ok "plain SMTP accepted" || fail "plain SMTP: $(tail -3 plain.log)"
swaks_to --tls --header "Subject: starttls" > tls.log 2>&1 && accepted tls.log && ok "STARTTLS accepted" || fail "STARTTLS: $(tail -3 tls.log)"
swaks_to --tls --auth PLAIN --auth-user app --auth-password s3cret-pass --header "Subject: auth" > auth.log 2>&1 \
  && accepted auth.log && ok "AUTH PLAIN over STARTTLS accepted" || fail "AUTH: $(tail -3 auth.log)"
if swaks_to --tls --auth LOGIN --auth-user app --auth-password wrong > badauth.log 2>&1; then
  fail "wrong password accepted"
else
  grep -qE "^<[-~]?\*+ *535" badauth.log && ok "wrong password refused with 535" || fail "wrong password: $(tail -3 badauth.log)"
fi
# A second loopback address outside clients.networks (127.0.0.1/32) without AUTH: no relaying.
if swaks_to --local-interface 127.0.0.2 --header "Subject: relay" > relay.log 2>&1; then
  fail "open relay: a client outside clients.networks was accepted"
else
  grep -qE "^<[-~]?\*+ *5[0-9][0-9] 5\.7\." relay.log && ok "relay from outside clients.networks refused" || fail "relay: $(tail -3 relay.log)"
fi
# SMTP smuggling (RFC 5321 §4.1.1.4 end of data is CRLF.CRLF only): bare LF/CR around a dot must be
# refused, never split into two messages. swaks turns bare LF into CRLF, so these go over a raw socket.
for name in smuggle-lf-dot-crlf smuggle-crlf-dot-lf smuggle-lf-dot-lf; do
  reply=$(/usr/bin/python3 - "$smtp" "$name" <<'PY'
import socket, sys
seq = {"smuggle-lf-dot-crlf": b"\n.\r\n", "smuggle-crlf-dot-lf": b"\r\n.\n", "smuggle-lf-dot-lf": b"\n.\n"}[sys.argv[2]]
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
f = s.makefile("rb")
def reply():
    lines = []
    while True:
        line = f.readline().decode().rstrip()
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return lines[-1]
reply()
for cmd in [b"EHLO smoke.test", b"MAIL FROM:<app@example.com>", b"RCPT TO:<user@example.org>", b"DATA"]:
    s.sendall(cmd + b"\r\n"); reply()
s.sendall(b"From: app@example.com\r\nTo: user@example.org\r\nSubject: " + sys.argv[2].encode() + b"\r\n\r\nbefore" + seq
          + b"MAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\nFrom: evil@example.com\r\n\r\nsmuggled\r\n.\r\n")
print(reply())
s.sendall(b"QUIT\r\n")
PY
)
  case "$reply" in
    "550 5.6."*) ok "$name refused: $reply" ;;
    *) fail "$name: $reply" ;;
  esac
done

count=$(ls spool/queue/*.msg 2>/dev/null | wc -l)
[ "$count" -eq 3 ] && ok "3 messages in the spool" || fail "expected 3 spooled messages, found $count"
if grep -rq "smuggled" spool/queue/ 2>/dev/null; then fail "smuggled content reached the spool"; else ok "no smuggled content in the spool"; fi

for msg in spool/queue/*.msg; do
  if /usr/bin/python3 - "$msg" "$dnsport" <<'PY'
import sys, dkim, dns.resolver
res = dns.resolver.Resolver(configure=False); res.nameservers = ["127.0.0.1"]; res.port = int(sys.argv[2])
def txt(name, timeout=5):
    return b"".join(b"".join(r.strings) for r in res.resolve(name.decode().rstrip("."), "TXT"))
signed = open(sys.argv[1], "rb").read().split(b"\nend\n", 1)[1]  # after the envelope: the signed message
sys.exit(0 if dkim.verify(signed, dnsfunc=txt) else 1)
PY
  then ok "dkimpy verifies $(basename "$msg")"; else fail "dkimpy rejects $(basename "$msg")"; fi
done

curl -fsS "http://127.0.0.1:$metrics/metrics" > metrics.txt
grep -q '^signet_messages_received_total{result="accepted"} 3' metrics.txt && ok "metrics count 3 accepted" \
  || fail "metrics: $(grep signet_messages_received_total metrics.txt | tr '\n' ' ')"

summary smoke
