#!/usr/bin/env bash
# RCPT latency with an empty suppression list and with 1 million entries (bench/suppression_rcpt.py).
# Usage: bench/suppression-bench.sh [--entries N] [--rcpts N]   (builds target/signet.jar if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f target/signet.jar ] || mvn -q -B package -DskipTests
exec python3 bench/suppression_rcpt.py "$@"
