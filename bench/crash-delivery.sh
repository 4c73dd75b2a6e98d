#!/usr/bin/env bash
# Crash test of submission *and delivery*: clients submit continuously (1 to 3 recipients
# over two domains) while the relay JVM is SIGKILLed at random moments and restarted; it delivers
# through a smarthost that is a recording SMTP sink in the driver (bench/smtp_sink.py), which answers
# 250 only after the message's token and recipients are fsynced to its record, and defers 10 % of
# RCPTs with 451 so that per-recipient outcomes (some delivered, some to retry) are exercised. Half
# the kills aim just after a client's 250, half just after the sink saw a new transaction. A last
# run without clients drains the queue (up to 120 s) and stops with SIGTERM. Then:
#   - every acknowledged message reached the sink for each of its recipients (lost = 0),
#   - no DKIM failure at the sink (dkimpy, the test key), nothing acknowledged left in queue/ or
#     corrupt/,
#   - no event lost: the relay posts its delivery events to a webhook in the driver
#     (bench/webhook_sink.py: checks each Signet-Signature, answers 503 to 20 % of the POSTs), and
#     every acknowledged recipient's "accepted" and "delivered" events arrive (at least once),
#   - duplicates only inside the window the design allows: the relay records an outcome after the
#     remote 250 (RFC 5321 §6.1), so a kill between the two sends that recipient again. Each delivery
#     attempt is one (message, domain) transaction and holds one of delivery.concurrency slots until
#     its outcome is on disk, so the honest bound is: every earlier copy of a recipient comes from a
#     run that ended in SIGKILL (never from the SIGTERM run, never twice from one run), and one run
#     leaves at most delivery.concurrency transactions unrecorded; in all, duplicated transactions
#     <= kills x delivery.concurrency (set to 4 here), each carrying at most 3 recipients.
#
#   bench/crash-delivery.sh [KILLS] [CLIENTS]    (defaults: 50 kills, 4 clients, about 2.5 minutes;
#                                                  .ci/run uses 20 4, about 1 minute on 2 cores)
#
# Needs: JDK 21+ (JAVA_HOME or /usr/lib/jvm/temurin-25-jdk-amd64), openssl, python3 with dkimpy
# (Debian: python3-dkim). Builds target/signet.jar if it is missing. Uses loopback only.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
kills="${1:-50}"
clients="${2:-4}"
concurrency=4
. bench/crash-common.sh
cat >> "$work/signet.yaml" <<YAML
delivery:
  smarthost:
    address: 127.0.0.1:$((port + 2))
    tls: opportunistic            # the sink offers no STARTTLS: plaintext on loopback
  retry: [1s, 2s]                 # deferred recipients come back within the run
  concurrency: $concurrency
  per-domain: $concurrency
YAML
run_driver bench/crash_delivery.py --sink-port $((port + 2)) --record "$work/sink.record" --concurrency "$concurrency"
