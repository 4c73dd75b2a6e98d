#!/usr/bin/env bash
# `signet dns --check` (the jar, as an operator runs it) against a real DNS server: dnsmasq on loopback
# serving (a) every record a receiver consults, published correctly -> exit 0, every line ✔; and
# (b) the same names published wrongly -> exit 1, the right ✘ lines, and under each the exact record
# to publish. Checked on the table and on --json (parsed by Python, not by us).
#
# The good set: the DKIM key keygen made; SPF authorizing the source address (through an include) for
# the From domain, a subdomain From, the envelope sender domain and the hostname; DMARC with a report
# address on another domain that authorizes it; the source address's PTR forward-confirming to the
# hostname. The broken set: a different DKIM key; SPF not authorizing the address and ending in ?all;
# two SPF records; more than 10 DNS-querying terms; DMARC adkim=s with subdomain signing, aspf=s with
# another envelope domain and an unauthorized rua; a From domain without a key; PTR missing, PTR
# forward-confirming to another name, PTR not forward-confirmed. And (c): the example in README.md is
# what the command prints for the records the README describes. dnsmasq passes no DNSSEC, so each run
# has one DNSSEC note (not a failure) saying the records could not be validated; signed, unsigned and
# bogus zones are tested against BIND in DnsDoctorDnssecTest.
#
# usage: .ci/dns-doctor.sh target/signet.jar      (needs dnsmasq-base, python3)
set -euo pipefail
jar=$(realpath "${1:?usage: $0 JAR}")
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
python=/usr/bin/python3
work=$(mktemp -d /tmp/signet-dns-doctor.XXXXXX)
jvm=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC)
dns_pid=""
stop_dns() {
  if [ -n "$dns_pid" ]; then kill "$dns_pid" 2>/dev/null || true; wait "$dns_pid" 2>/dev/null || true; dns_pid=""; fi
}
cleanup() { stop_dns; [ -n "${KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT
passed=0; failed=0
check() { # check NAME COMMAND... : one pass/fail line
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok     $name"
  else failed=$((failed + 1)); echo "FAILED $name"; fi
}
signet() { "$java" "${jvm[@]}" -jar "$jar" "$@"; }

# keygen's zone line -> the value of a dnsmasq txt-record: the quoted strings, comma-separated.
txt_strings() { sed -n 's/^[^(]*( \(.*\) )$/\1/p' "$1" | sed 's/" "/","/g'; }
signet keygen --domain example.com --selector ci --keys "$work/keys" > "$work/ci.zone" 2> "$work/keygen.err"
signet keygen --domain example.com --selector ci --keys "$work/other-keys" > "$work/other.zone" 2>> "$work/keygen.err"
dkim_good=$(txt_strings "$work/ci.zone")
dkim_other=$(txt_strings "$work/other.zone")
[ -n "$dkim_good" ] && [ -n "$dkim_other" ] || { echo "no TXT strings in keygen's output:"; cat "$work/ci.zone"; exit 1; }

# dnsmasq answers only for names it holds; --local makes it say NXDOMAIN (not REFUSED) for the others
# of these zones, as an authoritative server would.
start_dns() { # start_dns CONF
  local port
  port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  dnsmasq --keep-in-foreground --conf-file="$1" --no-resolv --no-hosts --listen-address=127.0.0.1 \
    --bind-interfaces --port="$port" --user=root --log-facility="$work/dnsmasq.log" \
    --local=/example.com/ --local=/example.net/ --local=/example.org/ --local=/127.in-addr.arpa/ &
  dns_pid=$!
  for _ in $(seq 50); do   # bounded wait until it answers
    if "$python" - "$port" <<'PY' 2>/dev/null
import socket, struct, sys
q = struct.pack(">HHHHHH", 1, 0x0100, 1, 0, 0, 0) + b"\x07example\x03com\x00" + struct.pack(">HH", 16, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.5)
s.sendto(q, ("127.0.0.1", int(sys.argv[1]))); s.recv(512)
PY
    then break; fi
    kill -0 "$dns_pid" 2>/dev/null || { echo "dnsmasq exited"; cat "$work/dnsmasq.log" || true; exit 1; }
    sleep 0.1
  done
  dns_port=$port
}

config() { # config SOURCE-ADDRESSES
  cat > "$work/signet.yaml" <<YAML
hostname: relay.example.com
dkim:
  keys: $work/keys
  subdomains: true
spool:
  dir: $work/spool
delivery:
  dns: [127.0.0.1:$dns_port]
  source-addresses: [$1]
YAML
}
doctor() { # doctor NAME ARGS... : table to NAME.txt, JSON to NAME.json, exit statuses to NAME.rc
  local name=$1 rc=0 jrc=0; shift
  signet dns --check --config "$work/signet.yaml" "$@" > "$work/$name.txt" 2> "$work/$name.err" || rc=$?
  signet dns --check --json --config "$work/signet.yaml" "$@" > "$work/$name.json" 2>> "$work/$name.err" || jrc=$?
  echo "$rc $jrc" > "$work/$name.rc"
  echo "--- signet dns --check $* (exit $rc)"; cat "$work/$name.txt" "$work/$name.err"
}
domains=(--from example.com,news.example.com --mail-from bounces.example.com)

echo "== (a) every record published correctly"
cat > "$work/good.conf" <<EOF
txt-record=ci._domainkey.example.com,$dkim_good
txt-record=_spf.example.com,"v=spf1 ip4:127.0.0.1 -all"
txt-record=example.com,"v=spf1 include:_spf.example.com -all"
txt-record=news.example.com,"v=spf1 include:_spf.example.com -all"
txt-record=bounces.example.com,"v=spf1 include:_spf.example.com ~all"
txt-record=relay.example.com,"v=spf1 a -all"
txt-record=_dmarc.example.com,"v=DMARC1; p=reject; adkim=r; aspf=r; rua=mailto:dmarc@reports.example.net"
txt-record=example.com._report._dmarc.reports.example.net,"v=DMARC1"
host-record=relay.example.com,127.0.0.1
mx-host=example.com,relay.example.com,10
EOF
start_dns "$work/good.conf"
config "127.0.0.1"
doctor good "${domains[@]}"
stop_dns
read -r rc jrc < "$work/good.rc"
check "good records: dns --check exits 0" test "$rc" -eq 0
check "good records: nothing on stderr" test ! -s "$work/good.err"
check "good records: dns --check --json exits 0" test "$jrc" -eq 0
# dnsmasq passes no DNSSEC (it cannot serve the root's signed DNSKEY set): the DNSSEC check says so
# in one note (ℹ, not a failure) instead of calling every domain bogus.
check "good records: every finding line is ✔, none ✘, the one ℹ is the DNSSEC note" "$python" - "$work/good.txt" <<'PY'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
findings = [l for l in lines if l[:1] in "✔✘ℹ"]
notes = [l for l in findings if l.startswith("ℹ")]
assert findings and all(l.startswith("✔") for l in findings if l not in notes), lines
assert len(notes) == 1 and notes[0].split()[1:3] == ["dnssec", "."], notes
assert not any("->" in l for l in lines), lines
assert lines[-1] == "all %d checks passed (1 note)" % len(findings), lines[-1]
PY
check "good records: JSON has every check kind, all ok, no fix" "$python" - "$work/good.json" "$work/good.txt" <<'PY'
import json, sys
findings = json.load(open(sys.argv[1], encoding="utf-8"))
table = [l for l in open(sys.argv[2], encoding="utf-8").read().splitlines() if l[:1] in "✔✘ℹ"]
assert len(findings) == len(table), (len(findings), len(table))
assert {f["check"] for f in findings} == {"dkim", "spf", "dmarc", "ptr", "dnssec"}, findings
assert all(f["ok"] is True and f["fix"] is None for f in findings), [f for f in findings if not f["ok"]]
assert [f["level"] for f in findings if f["check"] == "dnssec"] == ["note"], findings
assert all(f["level"] == "pass" for f in findings if f["check"] != "dnssec"), findings
dnssec = [f for f in findings if f["check"] == "dnssec"][0]
assert dnssec["name"] == "." and dnssec["detail"].startswith("not checked: the DNSKEY set of trust anchor . does "
    "not validate through the delivery.dns resolvers"), dnssec
names = {(f["check"], f["name"]) for f in findings}
for want in [("dkim", "ci._domainkey.example.com."), ("spf", "example.com."), ("spf", "news.example.com."),
             ("spf", "bounces.example.com."), ("spf", "relay.example.com."), ("dmarc", "_dmarc.example.com."),
             ("ptr", "127.0.0.1")]:
    assert want in names, (want, sorted(names))
details = [f["detail"] for f in findings]
for want in ["published key matches the key on disk", "127.0.0.1 passes", "rua dmarc@reports.example.net is "
             "authorized by example.com._report._dmarc.reports.example.net.", "DKIM d=example.com aligns with From "
             "news.example.com (adkim=r)", "PTR relay.example.com resolves back to 127.0.0.1 and is the hostname"]:
    assert want in details, (want, details)
PY

echo "== (b) the same names published wrongly"
# 11 DNS-querying terms (RFC 7208 §4.6.4 allows 10), each naming a host that exists.
many="v=spf1"; for i in $(seq 11); do many="$many a:relay.example.com"; done; many="$many -all"
cat > "$work/bad.conf" <<EOF
txt-record=ci._domainkey.example.com,$dkim_other
txt-record=example.com,"v=spf1 ip4:192.0.2.1 ?all"
txt-record=news.example.com,"v=spf1 ip4:127.0.0.0/29 -all"
txt-record=bounces.example.com,"$many"
txt-record=relay.example.com,"v=spf1 ip4:127.0.0.1 -all"
txt-record=relay.example.com,"v=spf1 a -all"
txt-record=_dmarc.example.com,"v=DMARC1; p=quarantine; adkim=s; aspf=s; rua=mailto:dmarc@reports.example.net"
txt-record=example.org,"v=spf1 ip4:127.0.0.0/29 -all"
txt-record=_dmarc.example.org,"v=DMARC1; p=none"
host-record=relay.example.com,127.0.0.9
host-record=other.example.com,127.0.0.2
ptr-record=3.0.0.127.in-addr.arpa,ghost.example.com
EOF
start_dns "$work/bad.conf"
config "127.0.0.1, 127.0.0.2, 127.0.0.3"
doctor bad --from example.com,news.example.com,example.org --mail-from bounces.example.com
stop_dns
read -r rc jrc < "$work/bad.rc"
check "broken records: dns --check exits 1" test "$rc" -eq 1
check "broken records: nothing on stderr (a broken record is a finding, not a stack trace)" test ! -s "$work/bad.err"
check "broken records: dns --check --json exits 1" test "$jrc" -eq 1
# Each broken record: check, name, the finding, and the exact record the fix line must show (DKIM:
# keygen's own zone line for the key on disk; -: no record can fix it).
cat > "$work/expected.tsv" <<'EOF'
dkim	ci._domainkey.example.com.	MISMATCH: the published key differs from the key on disk	DKIM
spf	example.com.	127.0.0.3 gets neutral, not pass: the record does not authorize this source address	example.com. IN TXT "v=spf1 ip4:192.0.2.1 ip4:127.0.0.1 ip4:127.0.0.2 ip4:127.0.0.3 ~all"
spf	example.com.	ends in ?all: anyone may pass as this domain; end with -all or ~all	example.com. IN TXT "v=spf1 ip4:192.0.2.1 ~all"
spf	bounces.example.com.	127.0.0.3 gets permerror, not pass: the record does not authorize this source address	bounces.example.com. IN TXT "v=spf1 ip4:127.0.0.1 ip4:127.0.0.2 ip4:127.0.0.3 ~all"
spf	relay.example.com.	2 SPF records (RFC 7208 §3.2 allows one; receivers return permerror): merge them into one	relay.example.com. IN TXT "v=spf1 ip4:127.0.0.1 ip4:127.0.0.2 ip4:127.0.0.3 ~all"
spf	bounces.example.com.	11 DNS-querying terms with includes (RFC 7208 §4.6.4 allows 10; receivers return permerror): replace includes by ip4:/ip6: terms	bounces.example.com. IN TXT "v=spf1 ip4:127.0.0.1 ip4:127.0.0.2 ip4:127.0.0.3 ~all"
dmarc	_dmarc.example.com.	adkim=s but mail from news.example.com is signed d=example.com (dkim.subdomains): strict alignment fails; relax it	_dmarc.example.com. IN TXT "v=DMARC1; p=quarantine; adkim=r; aspf=s; rua=mailto:dmarc@reports.example.net"
dmarc	_dmarc.example.com.	aspf=s but the envelope sender domain bounces.example.com differs from From example.com: SPF can never align; relax it	_dmarc.example.com. IN TXT "v=DMARC1; p=quarantine; adkim=s; aspf=r; rua=mailto:dmarc@reports.example.net"
dmarc	_dmarc.example.com.	aspf=s but the envelope sender domain bounces.example.com differs from From news.example.com: SPF can never align; relax it	_dmarc.example.com. IN TXT "v=DMARC1; p=quarantine; adkim=s; aspf=r; rua=mailto:dmarc@reports.example.net"
dmarc	_dmarc.example.com.	rua dmarc@reports.example.net is on another domain that has not authorized reports for example.com (receivers drop them); the owner of reports.example.net publishes	example.com._report._dmarc.reports.example.net. IN TXT "v=DMARC1"
dmarc	_dmarc.example.org.	no key signs mail from example.org, so DKIM cannot align: create one with signet keygen --domain example.org --selector <name>	-
ptr	127.0.0.1	no PTR record for 127.0.0.1 (large receivers refuse such mail); ask the address's provider to publish	1.0.0.127.in-addr.arpa. IN PTR relay.example.com.
ptr	127.0.0.2	PTR other.example.com forward-confirms but the relay says EHLO relay.example.com: set hostname: other.example.com in the config, or change the PTR	2.0.0.127.in-addr.arpa. IN PTR relay.example.com.
ptr	127.0.0.3	PTR ghost.example.com does not resolve back to 127.0.0.3 (not forward-confirmed); publish	ghost.example.com. IN A 127.0.0.3
EOF
check "broken records: JSON reports each broken record, with the record to publish" \
  "$python" - "$work/bad.json" "$work/expected.tsv" "$work/ci.zone" <<'PY'
import json, sys
findings = json.load(open(sys.argv[1], encoding="utf-8"))
zone = [l for l in open(sys.argv[3], encoding="utf-8").read().splitlines() if l and not l.startswith(";")]
bad = [f for f in findings if not f["ok"]]
problems = []
for line in open(sys.argv[2], encoding="utf-8").read().splitlines():
    check, name, detail, fix = line.split("\t")
    if fix == "DKIM":
        fix = zone[0]
    hits = [f for f in bad if f["check"] == check and f["name"] == name and f["detail"] == detail]
    if not hits:
        problems.append("missing: %s %s %s" % (check, name, detail))
    elif fix != "-" and hits[0]["fix"] != fix:
        problems.append("fix of %s %s: %r, expected %r" % (check, name, hits[0]["fix"], fix))
    elif fix == "-" and hits[0]["fix"] is not None:
        problems.append("unexpected fix for %s %s: %r" % (check, name, hits[0]["fix"]))
# The SPF evaluations that must fail too (jSPF's verdicts), and nothing broken that is not expected.
verdicts = [("spf", "example.com.", "127.0.0.%d gets neutral, not pass" % i) for i in (1, 2, 3)] \
    + [("spf", "bounces.example.com.", "127.0.0.%d gets permerror, not pass" % i) for i in (1, 2, 3)]
for want in verdicts:
    if not any(f["check"] == want[0] and f["name"] == want[1] and f["detail"].startswith(want[2]) for f in bad):
        problems.append("missing: %s %s %s..." % want)
expected = {tuple(l.split("\t")[:3]) for l in open(sys.argv[2], encoding="utf-8").read().splitlines()}
for f in bad:
    if (f["check"], f["name"], f["detail"]) not in expected \
            and not any((f["check"], f["name"]) == v[:2] and f["detail"].startswith(v[2]) for v in verdicts):
        problems.append("unexpected failure: %s %s %s" % (f["check"], f["name"], f["detail"]))
for want in [("spf", "news.example.com.", "127.0.0.3 passes"), ("spf", "example.org.", "ends in -all"),
             ("dmarc", "_dmarc.example.org.", "valid record, policy p=none (monitoring only: receivers report but do not act on failures)")]:
    if not any(f["ok"] and (f["check"], f["name"], f["detail"]) == want for f in findings):
        problems.append("missing pass: %s %s %s" % want)
for p in problems:
    print("  " + p)
sys.exit(1 if problems else 0)
PY
check "broken records: the table shows the same findings, a ✘ line for each failure, the fixes under them" \
  "$python" - "$work/bad.txt" "$work/bad.json" <<'PY'
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
findings = json.load(open(sys.argv[2], encoding="utf-8"))
rows = [l for l in lines if l[:1] in "✔✘ℹ"]
assert len(rows) == len(findings), (len(rows), len(findings))
for row, f in zip(rows, findings):
    assert row.startswith({"pass": "✔", "note": "ℹ", "fail": "✘"}[f["level"]]), (row, f)
    assert f["ok"] == (f["level"] != "fail"), f
    assert row.split()[1:3] == [f["check"], f["name"]] and row.endswith(f["detail"]), (row, f)
fixes = [l.strip()[3:] for l in lines if l.strip().startswith("-> ")]
assert fixes == [f["fix"] for f in findings if f["fix"] is not None], fixes
failed = sum(1 for f in findings if not f["ok"])
assert lines[-1] == "%d of %d checks failed: publish or change the records shown" % (failed, len(findings)), lines[-1]
PY

echo "== (c) the README's example, byte for byte"
readme="$(dirname "${BASH_SOURCE[0]}")/../README.md"
signet keygen --domain example.com --selector rsa2026 --keys "$work/readme-keys" > "$work/rsa2026.zone" 2>> "$work/keygen.err"
cat > "$work/readme.conf" <<EOF
txt-record=rsa2026._domainkey.example.com,$(txt_strings "$work/rsa2026.zone")
txt-record=example.com,"v=spf1 ip4:192.0.2.1 -all"
txt-record=news.example.com,"v=spf1 ip4:192.0.2.25 -all"
txt-record=mail.example.com,"v=spf1 a -all"
txt-record=_dmarc.example.com,"v=DMARC1; p=reject; adkim=s; rua=mailto:dmarc-reports@example.com"
address=/mail.example.com/192.0.2.25
local=/2.0.192.in-addr.arpa/
EOF
start_dns "$work/readme.conf"
cat > "$work/signet.yaml" <<YAML
hostname: mail.example.com
dkim:
  keys: $work/readme-keys
  subdomains: true
delivery:
  dns: [127.0.0.1:$dns_port]
  source-addresses: [192.0.2.25]
YAML
signet dns --check --config "$work/signet.yaml" --from example.com,news.example.com > "$work/readme.txt" || true
signet dns --check --json --config "$work/signet.yaml" --from example.com,news.example.com > "$work/readme.json" || true
stop_dns
# The block under the command's line in README.md, up to the closing fence.
"$python" - "$readme" "$work/readme-expected.txt" <<'PY'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
start = lines.index("$ ./signet dns --check --from example.com,news.example.com") + 1
end = lines.index("```", start)
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(lines[start:end]) + "\n")
PY
if cmp -s "$work/readme-expected.txt" "$work/readme.txt"; then
  check "README's dns --check example is the real output" true
else
  diff "$work/readme-expected.txt" "$work/readme.txt" || true
  check "README's dns --check example is the real output" false
fi
check "README's --json element is a line of the real --json output" "$python" - "$readme" "$work/readme.json" <<'PY'
import sys
shown = [l for l in open(sys.argv[1], encoding="utf-8").read().split("\n") if l.startswith('{"check": "ptr", "name": "192.0.2.25"')]
real = [l.strip().rstrip(",") for l in open(sys.argv[2], encoding="utf-8").read().split("\n")]
sys.exit(0 if len(shown) == 1 and shown[0] in real else 1)
PY

echo "dns-doctor: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
