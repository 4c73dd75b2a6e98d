#!/usr/bin/env bash
# Crash test of the submission path: several SMTP clients send continuously while the relay
# JVM is killed with SIGKILL at random moments (default 20 times) and restarted. After every kill the
# spool on disk is checked, as the next start will find it: every message that got a 250 must be in
# queue/ complete (envelope parses, message ends with its trailer, DKIM signature verifies with
# dkimpy), and no envelope may be visible without its complete message. With one client each message is
# written alone and its signatures are computed while its fsync runs: a kill in that window leaves it in
# queue/ with NUL where its b= values go, never acknowledged; the check accepts that only for a message
# without a 250, and verifies it after the next start signed it again.
#
#   bench/crash-submission.sh [KILLS] [CLIENTS]        (defaults: 20 kills, 4 clients; about 2 minutes)
#
# Needs: JDK 21+ (JAVA_HOME or /usr/lib/jvm/temurin-25-jdk-amd64), openssl, python3 with dkimpy
# (Debian: python3-dkim). Builds target/signet.jar if it is missing. Uses loopback only.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
kills="${1:-20}"
clients="${2:-4}"
. bench/crash-common.sh
cat >> "$work/signet.yaml" <<YAML
# serve delivers: a smarthost on a loopback port nobody listens on defers every message (retry 1h),
# so accepted mail stays in the spool for the checks and no traffic leaves the machine.
delivery:
  smarthost:
    address: 127.0.0.1:$((port + 2))
    tls: opportunistic
  retry: [1h]
YAML
run_driver bench/crash_submission.py
