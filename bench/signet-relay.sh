#!/usr/bin/env bash
# Signet's `serve` on loopback, set up like the Postfix+OpenDKIM peer: RSA-2048 relaxed/relaxed for signet.test,
# everything relayed to smtp-sink on 127.0.0.1:$SINK_PORT (as a smarthost, no TLS), spool on the same disk.
#
#   bench/signet-relay.sh start    # builds target/signet.jar if missing, starts serve, waits for the port
#   bench/signet-relay.sh stop     # stops it by PID (SIGTERM, then SIGKILL after 35 s)
#
# Environment (defaults; no SIGNET_ prefix: serve takes SIGNET_* as config overrides): BENCH_SIGNET_DIR (/var/lib/signet-bench: config, keys, spool, log, PID; the same ext4 disk as
# the Postfix peer's queue, not tmpfs, so fsync costs the same); BENCH_SIGNET_PORT (12528); SINK_PORT (12526);
# METRICS_PORT (12529); DKIM_DOMAIN (signet.test); BENCH_SIGNET_JAVA_OPTS (-Xmx512m: passed as SIGNET_JAVA_OPTS to
# the launcher ./signet, which adds its own options as for any user); JAVA_HOME (a JDK >= 21);
# BENCH_SIGNET_JAR (target/signet.jar: another build to measure, see bench/signet-ab.sh);
# BENCH_SIGNET_STARTUP_CACHE (on; off = SIGNET_STARTUP_CACHE=off for the launcher).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
BENCH_SIGNET_DIR=${BENCH_SIGNET_DIR:-/var/lib/signet-bench}
BENCH_SIGNET_PORT=${BENCH_SIGNET_PORT:-12528}
SINK_PORT=${SINK_PORT:-12526}
METRICS_PORT=${METRICS_PORT:-12529}
DKIM_DOMAIN=${DKIM_DOMAIN:-signet.test}
jar=${BENCH_SIGNET_JAR:-$root/target/signet.jar}

log() { echo "signet-relay: $*" >&2; }

find_java() {
  local candidate major
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64; do
    [[ -n $candidate && -x $candidate/bin/java ]] || continue
    major=$("$candidate/bin/java" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/ {print $2}')
    if [[ ${major%%.*} -ge 21 ]]; then echo "$candidate/bin/java"; return 0; fi
  done
  log "need a JDK >= 21 (set JAVA_HOME)"
  return 1
}

start() {
  local java
  java=$(find_java)
  if [[ -f $BENCH_SIGNET_DIR/signet.pid ]] && kill -0 "$(cat "$BENCH_SIGNET_DIR/signet.pid")" 2>/dev/null; then
    log "already running (pid $(cat "$BENCH_SIGNET_DIR/signet.pid")); stop it first"
    return 1
  fi
  if ss -Hltn "sport = :$BENCH_SIGNET_PORT" | grep -q .; then log "port $BENCH_SIGNET_PORT is already in use"; return 1; fi
  [[ -f $jar ]] || (cd "$root" && mvn -q -B -DskipTests package)
  mkdir -p "$BENCH_SIGNET_DIR"
  # A fresh spool every start, so one run's leftovers never count in the next. The key is kept.
  rm -rf "$BENCH_SIGNET_DIR/spool" "$BENCH_SIGNET_DIR/signet.log"
  if [[ ! -f $BENCH_SIGNET_DIR/keys/$DKIM_DOMAIN/bench.pem ]]; then
    "$java" -jar "$jar" keygen --domain "$DKIM_DOMAIN" --selector bench --algorithm rsa --bits 2048 \
      --keys "$BENCH_SIGNET_DIR/keys" > "$BENCH_SIGNET_DIR/dns-record.txt"
  fi
  cat > "$BENCH_SIGNET_DIR/signet.yaml" <<EOF
hostname: relay.$DKIM_DOMAIN
listen:
  submission: 127.0.0.1:$BENCH_SIGNET_PORT
clients:
  networks: [127.0.0.0/8]
dkim:
  keys: $BENCH_SIGNET_DIR/keys
  canonicalization: relaxed/relaxed
spool:
  dir: $BENCH_SIGNET_DIR/spool
delivery:
  smarthost:
    address: 127.0.0.1:$SINK_PORT
    tls: opportunistic
metrics:
  listen: 127.0.0.1:$METRICS_PORT
admin:
  listen: 127.0.0.1:0               # any free port: it is published in <spool>/admin
EOF
  # The config file is the whole configuration here: serve reads SIGNET_* variables as overrides (and refuses
  # unknown ones), so none from the caller's environment may leak in.
  local unset_signet=()
  for name in $(compgen -e); do [[ $name == SIGNET_* ]] && unset_signet+=(-u "$name"); done
  # Started as a user starts it: the repo's launcher (its JVM options, its start-up cache), on this jar.
  env "${unset_signet[@]}" JAVA_HOME="$(dirname "$(dirname "$java")")" SIGNET_JAR="$jar" \
    SIGNET_STARTUP_CACHE="${BENCH_SIGNET_STARTUP_CACHE:-on}" \
    SIGNET_JAVA_OPTS="${BENCH_SIGNET_JAVA_OPTS:--Xmx512m}" "$root/signet" serve --config "$BENCH_SIGNET_DIR/signet.yaml" \
    > "$BENCH_SIGNET_DIR/signet.log" 2>&1 &
  echo $! > "$BENCH_SIGNET_DIR/signet.pid"
  local i
  for ((i = 0; i < 300; i++)); do
    ss -Hltn "sport = :$BENCH_SIGNET_PORT" | grep -q . && break
    kill -0 "$(cat "$BENCH_SIGNET_DIR/signet.pid")" 2>/dev/null || { log "serve exited:"; tail -20 "$BENCH_SIGNET_DIR/signet.log" >&2; return 1; }
    sleep 0.1
  done
  ss -Hltn "sport = :$BENCH_SIGNET_PORT" | grep -q . || { log "serve not listening after 30 s"; stop; return 1; }
  log "Signet on 127.0.0.1:$BENCH_SIGNET_PORT (pid $(cat "$BENCH_SIGNET_DIR/signet.pid")), smarthost 127.0.0.1:$SINK_PORT"
}

stop() {
  [[ -f $BENCH_SIGNET_DIR/signet.pid ]] || return 0
  local pid i
  pid=$(cat "$BENCH_SIGNET_DIR/signet.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 350; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then log "pid $pid still running after 35 s, SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$BENCH_SIGNET_DIR/signet.pid"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
