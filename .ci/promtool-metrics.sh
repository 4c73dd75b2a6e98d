#!/usr/bin/env bash
# Prometheus' own linter on a running relay's exposition: starts `signet serve` on loopback, signs one
# message (so the lazily registered meters exist too), scrapes /metrics and runs it through
# `promtool check metrics`. Any finding for a signet_* metric fails; findings for the JVM metrics of
# Micrometer's binders are printed but not ours to fix.
# Usage: .ci/promtool-metrics.sh target/signet.jar     (needs prometheus (promtool), curl, python3)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../bench/suites/relay-common.sh"
relay_config lint
cat >> signet.yaml <<YAML
# Delivery goes to a loopback port nobody listens on: the message is deferred, nothing leaves.
delivery:
  smarthost: 127.0.0.1:$closed
  retry: [1h]
YAML
start_relay

$py - "$smtp" <<'PY'
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1])) as s:
    s.sendmail("app@example.com", ["user@example.org"],
               "From: app@example.com\r\nTo: user@example.org\r\nSubject: lint\r\n\r\nHello.\r\n")
PY

curl -fsS "http://127.0.0.1:$metrics/metrics" > exposition.txt
grep -q '^signet_messages_signed_total' exposition.txt || { echo "no signet_messages_signed_total in the exposition"; exit 1; }
status=0
promtool check metrics < exposition.txt > findings.txt 2>&1 || status=$?
if grep -q '^signet_' findings.txt; then
  echo "promtool findings for Signet's metrics:"; grep '^signet_' findings.txt
  exit 1
fi
# promtool exits 1 for lint findings and 3 when the exposition does not parse at all.
if [ "$status" -ne 0 ] && ! grep -qv '^signet_' findings.txt; then
  echo "promtool failed (exit $status) without findings:"; cat findings.txt; exit 1
fi
if grep -qi 'error' findings.txt; then
  echo "promtool could not check the exposition:"; cat findings.txt; exit 1
fi
echo "promtool check metrics: no findings for signet_* ($(grep -c '^# HELP signet_' exposition.txt) Signet metric families)"
[ ! -s findings.txt ] || { echo "(findings outside signet_*, from Micrometer's JVM binders:)"; sed 's/^/  /' findings.txt; }
