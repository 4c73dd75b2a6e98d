#!/usr/bin/env bash
# Hostile clients against a real `signet serve`, at the Docker image's heap setting: the attacks of a
# security probe, replayed, each of which must get a clear refusal or be harmless, with the relay
# responsive throughout and no OutOfMemoryError. Runs in about a minute; all traffic on loopback.
#   header bombs from 20 sessions at once (250 000 empty fields each), then a normal message
#   From/Sender spoofing by an AUTH user; STARTTLS keeping AUTH; AUTH timing of unknown users
#   address literals; 50 Received fields; a smarthost that is the relay itself (mail loop)
#   300 idle strangers from 15 addresses, then the relay's own apps (and a 50-connection pool)
#   half-sent HTTP requests against /healthz; spool permissions; /healthz when queue/ breaks
# Heap: the image runs with -XX:MaxRAMPercentage=75; under conf/k8s' 1Gi memory limit that is a 768 MB
# heap. HEAP_OPTS overrides (e.g. HEAP_OPTS=-Xmx512m, the heap the probe's OutOfMemoryError was seen at).
# Usage: bench/suites/hostile.sh target/signet.jar
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
heap="${HEAP_OPTS:--XX:MaxRAM=1g -XX:MaxRAMPercentage=75}"
source "$here/relay-common.sh"
dns=$(free_port)
hostname=relay.hostile.test relay_config hostile --tls --user alice secret
cat >> signet.yaml <<YAML
delivery:
  dns: [127.0.0.1:$dns]
  smarthost:
    address: 127.0.0.1:$smtp
    tls: opportunistic
YAML
# shellcheck disable=SC2086
start_relay $heap -XX:+HeapDumpOnOutOfMemoryError -XX:HeapDumpPath="$work" -XshowSettings:vm
echo "relay pid $relay, heap options: $heap ($(grep -m1 'Max. Heap Size' serve.log | sed 's/^ *//'))"

status=0
$py "$here/hostile.py" "$smtp" "$metrics" "$work" || status=1
if grep -q "OutOfMemoryError" serve.log; then echo "FAIL OutOfMemoryError in serve.log"; status=1; else echo "ok   no OutOfMemoryError"; fi
kill -0 "$relay" 2>/dev/null && echo "ok   the relay is still running" || { echo "FAIL the relay died"; status=1; }
[ "$status" -eq 0 ] || { echo "--- serve.log (tail)"; tail -40 serve.log; }
exit "$status"
