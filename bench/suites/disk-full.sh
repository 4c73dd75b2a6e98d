#!/usr/bin/env bash
# Fault suite, disk full: `signet serve` with its spool on a real 2 MB tmpfs. Messages are
# submitted until the filesystem is full; the relay must answer 4xx (451/452 4.3.x), never 250, for
# what it cannot store; every message that got a 250 must be in the spool, complete (dkimpy verifies
# it); once space is freed it accepts again. Needs root (mount) and python3-dkim.
# Usage: bench/suites/disk-full.sh target/signet.jar
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/relay-common.sh"
on_exit 'mountpoint -q "$work/spool" && umount "$work/spool"'
mkdir spool
if ! mount -t tmpfs -o size=2m tmpfs "$work/spool" 2>mount.err; then
  echo "SKIP: cannot mount a tmpfs here ($(cat mount.err)); disk-full not tested"; exit 0
fi
# deliveries go nowhere (DNS on a closed loopback port): accepted mail stays deferred in the spool
relay_config full --deferred "$closed"
start_relay -Xmx256m

# submit(n, tag): n messages of ~100 kB; prints one line per message: "<code> <enhanced> <tag>-<i>"
cat > submit.py <<'PY'
import smtplib, sys
port, n, tag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
body = ("x" * 76 + "\r\n") * 1300
for i in range(n):
    msg = (f"From: app@example.com\r\nTo: rcpt@example.org\r\nSubject: {tag}-{i}\r\n"
           f"Message-ID: <{tag}-{i}@example.com>\r\n\r\n{body}")
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
            s.sendmail("app@example.com", ["rcpt@example.org"], msg.encode())
            print(f"250 ok {tag}-{i}")
    except smtplib.SMTPResponseException as e:
        print(f"{e.smtp_code} {e.smtp_error.decode(errors='replace')[:60]} {tag}-{i}")
    except smtplib.SMTPRecipientsRefused as e:
        code, text = list(e.recipients.values())[0]
        print(f"{code} {text.decode(errors='replace')[:60]} {tag}-{i}")
PY
$py submit.py "$smtp" 30 fill > fill.txt
accepted=$(grep -c '^250 ' fill.txt || true)
refused=$(grep -vc '^250 ' fill.txt || true)
echo "filling a 2 MB spool with ~100 kB messages: $accepted accepted, $refused refused"
grep -v '^250 ' fill.txt | awk '{print $1, $2}' | sort | uniq -c | sed 's/^/  refused with: /'
[ "$refused" -gt 0 ] && ok "the full spool refuses mail" || fail "nothing refused: is the spool really full?"
bad=$(grep -v '^250 ' fill.txt | grep -Evc '^(451|452) 4\.3\.' || true)
[ "$bad" -eq 0 ] && ok "every refusal is 451/452 4.3.x" || fail "$bad refusals are not 451/452 4.3.x: $(grep -v '^250 ' fill.txt | grep -Ev '^(451|452) 4\.3\.' | head -3)"
[ "$(ls spool/tmp 2>/dev/null | wc -l)" -eq 0 ] && ok "no half-written files left in spool/tmp" || fail "spool/tmp: $(ls spool/tmp)"

# every acknowledged message is in the spool and verifies
verify() {
  $py - "$work" <<'PY'
import dkim, glob, re, sys
work = sys.argv[1]
text = open(f"{work}/record.txt").read()
record = "".join(re.findall(r'"([^"]*)"', text)).encode()
found, good = {}, 0
for f in glob.glob(f"{work}/spool/queue/*.msg"):
    data = open(f, "rb").read().split(b"\nend\n", 1)[1]  # the envelope comes first, the signed message after it
    m = re.search(rb"\r\nSubject: (\S+)\r\n", data)
    if m: found[m.group(1).decode()] = dkim.verify(data, dnsfunc=lambda name, timeout=5: record)
print(" ".join(f"{k}:{'ok' if v else 'BAD'}" for k, v in sorted(found.items())))
PY
}
verify > spooled.txt
missing=0
for tag in $(grep '^250 ' fill.txt | awk '{print $3}'); do
  grep -q "\b$tag:ok\b" spooled.txt || { missing=$((missing + 1)); echo "  lost or broken: $tag"; }
done
[ "$missing" -eq 0 ] && ok "all $accepted acknowledged messages are in the spool and verify (dkimpy)" \
  || fail "$missing acknowledged messages missing or not verifying"

# free space: move two queued messages out (as delivery would), then the relay accepts again
for msg in $(ls spool/queue/*.msg | head -2); do
  id=$(basename "$msg" .msg); mkdir -p moved; mv "spool/queue/$id".* moved/
done
$py submit.py "$smtp" 2 after > after.txt
cat after.txt | sed 's/^/  after freeing space: /'
[ "$(grep -c '^250 ' after.txt || true)" -eq 2 ] && ok "accepts again once space is freed" || fail "still refusing after space was freed"
stop_relay
# after a clean stop: the moved-out ones plus what is still queued are exactly the acknowledged ones
verify > final.txt
queued=$(ls spool/queue/*.msg | wc -l)
for tag in $(cat fill.txt after.txt | grep '^250 ' | awk '{print $3}'); do
  grep -q "\b$tag:ok\b" final.txt || grep -rqs "Subject: $tag\b" moved/ || fail "lost: $tag"
done
[ $((queued + 2)) -eq $((accepted + 2)) ] && ok "nothing lost: $queued queued + 2 moved out = $accepted + 2 acknowledged" \
  || fail "$queued queued + 2 moved out, but $((accepted + 2)) acknowledged"
grep -E "ERROR|Exception" serve.log | head -5 | sed 's/^/  serve.log: /' || true

summary disk-full
