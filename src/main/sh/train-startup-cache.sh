#!/usr/bin/env bash
# Builds the launcher's start-up cache ahead of time (the Docker image runs this at build time, where no relay
# ever stops to save one): starts `signet serve` on loopback with a throwaway key and spool, sends it
# messages over SMTP from bash alone (the image has no SMTP client), and stops it, which saves the cache.
# Deliveries go to a closed loopback port and are deferred: the delivery path runs, nothing leaves the host.
#
#   train-startup-cache.sh [MESSAGES]     (default 2000; the environment as serve will have it, with
#                                          SIGNET_STARTUP_CACHE_DIR naming where the cache goes)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
launcher="${TRAIN_LAUNCHER:-$here/signet}"  # not SIGNET_*: serve reads those as settings
messages=${1:-2000}
work="$(mktemp -d)"
pid=""
cleanup() { [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# Ports from the kernel's ephemeral range that nothing listens on (no Python in the image to ask for one).
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
smtp=$(free_port); metrics=$(free_port); closed=$(free_port)
export SIGNET_LISTEN_SUBMISSION=127.0.0.1:$smtp SIGNET_METRICS_LISTEN=127.0.0.1:$metrics \
  SIGNET_ADMIN_LISTEN=127.0.0.1:0 SIGNET_DKIM_KEYS="$work/keys" SIGNET_SPOOL_DIR="$work/spool" \
  SIGNET_DELIVERY_SMARTHOST=127.0.0.1:$closed
mkdir -p "$work/keys"
"$launcher" keygen --domain train.invalid --selector s1 --keys "$work/keys" > /dev/null
"$launcher" serve > "$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 240); do
  (exec 3<>"/dev/tcp/127.0.0.1/$smtp") 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log" >&2; echo "train-startup-cache: serve exited" >&2; exit 1; }
  sleep 0.25
done

# One SMTP reply on fd 3 (continuation lines skipped); fails unless its code starts with $1.
expect() {
  local line
  while IFS= read -r line <&3; do
    [[ $line =~ ^[0-9]{3}- ]] && continue
    [[ $line == "$1"* ]] && return 0
    echo "train-startup-cache: expected $1, got: $line" >&2
    return 1
  done
  echo "train-startup-cache: connection closed, expected $1" >&2
  return 1
}
body=$(printf 'Line %d of a message that trains the JIT on the path every message takes.\r\n' $(seq 1 40))
body=${body%$'\r'}  # $(...) kept the last CR and dropped its LF
for ((i = 1; i <= messages; i++)); do
  exec 3<>"/dev/tcp/127.0.0.1/$smtp"
  expect 220
  printf 'EHLO train.invalid\r\n' >&3; expect 250
  printf 'MAIL FROM:<app@train.invalid>\r\n' >&3; expect 250
  printf 'RCPT TO:<r%d@example.net>\r\n' "$((i % 50))" >&3; expect 250
  printf 'DATA\r\n' >&3; expect 354
  printf 'From: App <app@train.invalid>\r\nTo: r@example.net\r\nSubject: training %d\r\nMessage-ID: <%d@train.invalid>\r\n\r\n%s\r\n.\r\n' \
    "$i" "$i" "$body" >&3
  expect 250
  printf 'QUIT\r\n' >&3; expect 221
  exec 3>&-
done
kill -TERM "$pid"
wait "$pid" || true
pid=""
echo "train-startup-cache: $messages messages; cache in ${SIGNET_STARTUP_CACHE_DIR:-beside the jar}: $(ls "${SIGNET_STARTUP_CACHE_DIR:-$(dirname "${SIGNET_JAR:-$here/target/signet.jar}")}" | grep '^signet-.*\.\(aot\|jsa\)$' | tr '\n' ' ')"
