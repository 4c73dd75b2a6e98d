#!/usr/bin/env bash
# DKIM interop with verifiers Signet did not write (proof that receivers accept the signatures): every corpus message is signed
# by `signet sign` with RSA-2048 and Ed25519 keys made by `signet keygen`, under each of the four
# canonicalizations (RFC 6376 §3.4), and verified by dkimpy and Mail::DKIM, which fetch the keys from
# a real DNS server (dnsmasq on 127.0.0.1) serving the TXT records exactly as keygen printed them.
# One changed body byte and one changed From byte must make each verifier fail; our bh= must equal
# dkimpy's body hash; a 200 MB message must sign in a 64 MB heap.
#
# usage: .ci/interop-dkim.sh target/signet.jar
# needs (Debian): python3-dkim python3-dnspython python3-nacl libmail-dkim-perl libnet-dns-perl
#                 libcryptx-perl dnsmasq-base
set -euo pipefail

jar=$(realpath "${1:?usage: $0 JAR}")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
corpus="$here/../src/test/resources/corpus"
helpers="$here/interop"
java="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
[ -x "$java" ] || java=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
python=/usr/bin/python3   # Debian's, where python3-dkim lives (not a pyenv shim)
work=$(mktemp -d /tmp/signet-interop.XXXXXX)
# Short-lived JVMs: C1 only, serial GC, and an AppCDS archive (written by the first run, the keygen
# below, then mapped by the ~300 sign runs) save about a quarter of each start-up. No perf data file: with
# JVMs starting and stopping two per core, one once found another's /tmp/hsperfdata file locked and
# warned, and the JVM's warnings go to stdout, here the signed message; they go to stderr instead.
jvm=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:SharedArchiveFile="$work/signet.jsa" -XX:+AutoCreateSharedArchive
  -XX:-UsePerfData -Xlog:disable -Xlog:all=warning:stderr)
dns_pid=""
cleanup() {
  if [ -n "$dns_pid" ]; then kill "$dns_pid" 2>/dev/null || true; wait "$dns_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

extra_passed=0
extra_failed=0
check() { # check NAME COMMAND... : one extra pass/fail line
  local name=$1; shift
  if "$@"; then extra_passed=$((extra_passed + 1)); echo "ok     $name"
  else extra_failed=$((extra_failed + 1)); echo "FAILED $name"; fi
}

echo "== keys (signet keygen)"
domain=example.com
"$java" "${jvm[@]}" -jar "$jar" keygen --domain $domain --selector rsa2048 --algorithm rsa --bits 2048 \
  --keys "$work/keys" > "$work/rsa2048.zone"
"$java" "${jvm[@]}" -jar "$jar" keygen --domain $domain --selector ed25519 --algorithm ed25519 \
  --keys "$work/keys" > "$work/ed25519.zone"
cat "$work/rsa2048.zone" "$work/ed25519.zone"

# The zone-file line keygen prints -> a dnsmasq txt-record line: one record, several strings, which
# verifiers concatenate (RFC 6376 §3.6.2.2). Each string must be <= 255 octets (RFC 1035 §3.3.14).
# (dnsmasq strips the quotes only when reading a config file, not from a command-line option.)
txt_record() {
  "$python" - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
m = re.search(r'^(\S+)\s+(?:\d+\s+)?IN\s+TXT\s+\(?(.*?)\)?\s*$', text, re.M | re.S)
if not m:
    sys.exit("no TXT record line in keygen output")
strings = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2))
if not strings or any(len(s) > 255 for s in strings):
    sys.exit("TXT strings missing or longer than 255: %s" % [len(s) for s in strings])
print("txt-record=%s,%s" % (m.group(1).rstrip("."), ",".join('"%s"' % s for s in strings)))
PY
}
txt_record "$work/rsa2048.zone" > "$work/dnsmasq.conf" && txt_rsa=ok || txt_rsa=""
txt_record "$work/ed25519.zone" >> "$work/dnsmasq.conf" && txt_ed=ok || txt_ed=""
check "keygen RSA record split into strings of <= 255 octets" test -n "$txt_rsa"
check "keygen Ed25519 record split into strings of <= 255 octets" test -n "$txt_ed"

echo "== DNS (dnsmasq on 127.0.0.1)"
port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dnsmasq --keep-in-foreground --conf-file="$work/dnsmasq.conf" --no-resolv --no-hosts \
  --listen-address=127.0.0.1 --bind-interfaces --port="$port" --user=root --log-facility="$work/dnsmasq.log" &
dns_pid=$!
for _ in $(seq 50); do   # bounded wait for the server to answer
  if "$python" - "$port" <<'PY' 2>/dev/null
import sys, dns.resolver
r = dns.resolver.Resolver(configure=False); r.nameservers = ["127.0.0.1"]; r.port = int(sys.argv[1]); r.lifetime = 1
r.resolve("rsa2048._domainkey.example.com", "TXT")
PY
  then break; fi
  kill -0 "$dns_pid" 2>/dev/null || { echo "dnsmasq exited"; cat "$work/dnsmasq.log" || true; exit 1; }
  sleep 0.2
done
echo "dnsmasq pid $dns_pid on 127.0.0.1:$port"

echo "== sign (signet sign): 2 algorithms x 4 canonicalizations x $(ls "$corpus"/*.eml | wc -l) messages"
mkdir -p "$work/signed" "$work/errors"
# One JVM per message, as a user runs `sign`; two at a time per core keeps the wall time down.
sign_one() { # SELECTOR ALG CANON EML
  local name="$2.${3/\//-}.$(basename "$4")"
  if ! "$java" "${jvm[@]}" -jar "$jar" sign --keys "$work/keys" --domain "$domain" --selector "$1" \
      --config "$work/${3/\//-}.yaml" < "$4" > "$work/signed/$name" 2> "$work/errors/$name"; then
    rm -f "$work/signed/$name"
  else
    rm -f "$work/errors/$name"
  fi
}
export -f sign_one
export java jar work domain
export jvm_flags="${jvm[*]}"
for canon in simple/simple simple/relaxed relaxed/simple relaxed/relaxed; do
  printf 'dkim:\n  canonicalization: %s\n' "$canon" > "$work/${canon/\//-}.yaml"
done
for selector in rsa2048 ed25519; do
  alg=$([ $selector = rsa2048 ] && echo rsa || echo ed25519)
  for canon in simple/simple simple/relaxed relaxed/simple relaxed/relaxed; do
    for eml in "$corpus"/*.eml; do echo "$selector $alg $canon $eml"; done
  done
done | xargs -P "$(( $(nproc) * 2 ))" -L 1 bash -c 'jvm=($jvm_flags); sign_one "$@"' _
signed=$(ls "$work/signed" | wc -l)
for err in "$work"/errors/*; do
  [ -e "$err" ] || continue
  echo "FAILED sign $(basename "$err"): $(tr '\n' ' ' < "$err")"
  extra_failed=$((extra_failed + 1))
done
echo "signed $signed messages"

echo "== verify (dkimpy $("$python" -c 'import importlib.metadata as m; print(m.version("dkimpy"))' 2>/dev/null || echo '?'),"\
  "Mail::DKIM $(perl -MMail::DKIM -e 'print $Mail::DKIM::VERSION'))"
"$python" "$helpers/cases.py" "$work/signed" "$work/tampered" > "$work/manifest.tsv"
"$python" "$helpers/dkimpy_verify.py" "$port" "$work/manifest.tsv" > "$work/dkimpy.tsv"
perl "$helpers/mail_dkim_verify.pl" "$port" "$work/manifest.tsv" > "$work/maildkim.tsv"
summary_status=0
"$python" "$helpers/summarize.py" "$work/manifest.tsv" "dkimpy=$work/dkimpy.tsv" "Mail::DKIM=$work/maildkim.tsv" \
  > "$work/summary.txt" || summary_status=$?
grep -v -E '^(RESULT|SKIPPED) ' "$work/summary.txt"
read -r _ skipped < <(grep '^SKIPPED ' "$work/summary.txt")
read -r _ matrix_passed matrix_failed < <(grep '^RESULT ' "$work/summary.txt")
[ "$summary_status" -eq 0 ] || [ "$matrix_failed" -gt 0 ] || matrix_failed=1

echo "== large message: 200 MB signed with -Xmx64m (body streamed, never held whole)"
"$python" - "$work/big.eml" <<'PY'
import sys
line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd\r\n"  # 78 octets
with open(sys.argv[1], "wb") as f:
    f.write(b"From: big@example.com\r\nTo: bob@example.net\r\nSubject: 200 MB\r\n\r\n")
    block = line * 13443  # ~1 MB
    for _ in range(200):
        f.write(block)
PY
printf 'dkim:\n  canonicalization: simple/simple\n' > "$work/big.yaml"
big_ok=true
"$java" -Xmx64m -jar "$jar" sign --keys "$work/keys" --domain $domain --selector rsa2048 --config "$work/big.yaml" \
  < "$work/big.eml" > "$work/signed-big.eml" || big_ok=false
rm -f "$work/big.eml"
check "200 MB message signs with -Xmx64m" $big_ok
printf 'big\t%s\tverify\tpass\n' "$work/signed-big.eml" > "$work/big.tsv"
check "200 MB message verifies with Mail::DKIM" \
  grep -q $'\tpass\t' <(perl "$helpers/mail_dkim_verify.pl" "$port" "$work/big.tsv")
check "200 MB message bh= equals SHA-256 of its body (simple)" "$python" - "$work/signed-big.eml" <<'PY'
import base64, hashlib, re, sys
h = hashlib.sha256()
with open(sys.argv[1], "rb") as f:
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        head += f.readline()
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
bh = re.search(rb"bh=([^;]+);", re.sub(rb"\r\n[ \t]", b"", head)).group(1)
sys.exit(0 if re.sub(rb"\s", b"", bh) == base64.b64encode(h.digest()) else 1)
PY
rm -f "$work/signed-big.eml"

passed=$((matrix_passed + extra_passed))
failed=$((matrix_failed + extra_failed))
[ "$skipped" -eq 0 ] || echo "interop: $skipped checks skipped (a verifier without the algorithm; see NOTE above)"
echo "interop: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
