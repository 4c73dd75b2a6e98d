#!/usr/bin/env bash
# The launcher's start-up cache, as a user meets it: the first `./signet serve` on a jar saves the cache
# when it stops (Java 25+: AOT cache with the JIT's profiles; 21-24: a CDS archive), the second start loads
# it, answers /healthz, and no JVM notice about the cache reaches the log.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
jar=${1:-target/signet.jar}
work="$(mktemp -d)"
pid=""
cleanup() { [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
smtp=$(free_port); metrics=$(free_port)
env_args=(SIGNET_JAR="$PWD/$jar" SIGNET_STARTUP_CACHE_DIR="$work/cache" SIGNET_LISTEN_SUBMISSION=127.0.0.1:$smtp
  SIGNET_METRICS_LISTEN=127.0.0.1:$metrics SIGNET_ADMIN_LISTEN=127.0.0.1:0 SIGNET_DKIM_KEYS="$work/keys"
  SIGNET_SPOOL_DIR="$work/spool")
mkdir -p "$work/keys"
env "${env_args[@]}" ./signet keygen --domain example.com --selector s1 --keys "$work/keys" > /dev/null

start() { # $1: log file; waits for /healthz
  env "${env_args[@]}" ./signet serve > "$1" 2>&1 &
  pid=$!
  for _ in $(seq 1 240); do
    curl -fsS "http://127.0.0.1:$metrics/healthz" > /dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$1"; echo "startup-cache: serve exited"; exit 1; }
    sleep 0.25
  done
  cat "$1"; echo "startup-cache: serve not healthy after 60 s"; exit 1
}
stop() { kill -TERM "$pid"; wait "$pid" || true; pid=""; }

start "$work/first.log"
stop
cache=$(compgen -G "$work/cache/signet-*.[aj][os][ta]" | head -1 || true)
[ -n "$cache" ] || { cat "$work/first.log"; echo "startup-cache: the first serve saved no cache in $work/cache"; exit 1; }
echo "first serve saved $(basename "$cache") ($(du -k "$cache" | cut -f1) kB)"

start "$work/second.log"
tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "=$cache " || { tr '\0' ' ' < "/proc/$pid/cmdline"; echo; echo "startup-cache: the second serve did not load $cache"; exit 1; }
stop
if grep -E '^\[[0-9.]+s\]\[(warning|error)\]' "$work/second.log"; then
  echo "startup-cache: JVM notices about the cache in the log"; exit 1
fi
echo "second serve loaded it; startup-cache: 2 passed, 0 failed"
