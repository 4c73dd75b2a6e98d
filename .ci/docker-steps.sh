#!/usr/bin/env bash
# No Docker engine runs on these machines, so this replays the Dockerfile's own steps without one:
# the build stage's `RUN mvn ...` lines in a copy holding only what the Dockerfile COPYs (pom.xml, src),
# then the runtime stage's ENTRYPOINT (the repo's launcher) with its ENV (paths moved under a temp dir, ports
# made free): `sign` must leave stderr empty, and CMD must pass the HEALTHCHECK's own command. A Dockerfile edit that breaks a step breaks this check.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work="$(mktemp -d)"
pid=""
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

echo "== build stage: RUN lines of the Dockerfile in a copy with only pom.xml and src/"
mkdir -p "$work/src-copy"
cp -r pom.xml src "$work/src-copy/"
awk '/^FROM .* AS build/{b=1; next} /^FROM /{b=0} b && /^RUN /{sub(/^RUN /,""); print}' Dockerfile > "$work/build-steps"
[ -s "$work/build-steps" ] || { echo "no RUN lines found in the Dockerfile's build stage"; exit 1; }
while IFS= read -r step; do
  echo "+ $step"
  (cd "$work/src-copy" && bash -c "$step")
done < "$work/build-steps"
jar="$work/src-copy/target/signet.jar"
[ -f "$jar" ] || { echo "the build stage did not produce target/signet.jar (COPY --from=build expects it)"; exit 1; }
grep -q "COPY --from=build /src/target/signet.jar" Dockerfile || { echo "Dockerfile no longer copies target/signet.jar"; exit 1; }

echo "== runtime stage: ENTRYPOINT + CMD with the Dockerfile's ENV"
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
smtp=$(free_port); metrics=$(free_port)
mkdir -p "$work/etc/keys" "$work/spool"
# ENV as the image sets it, with the container paths moved under $work and loopback ports.
env_args=(
  SIGNET_LISTEN_SUBMISSION=127.0.0.1:$smtp
  SIGNET_METRICS_LISTEN=127.0.0.1:$metrics
  SIGNET_ADMIN_LISTEN=127.0.0.1:0
  SIGNET_DKIM_KEYS="$work/etc/keys"
  SIGNET_SPOOL_DIR="$work/spool"
)
for name in SIGNET_LISTEN_SUBMISSION SIGNET_METRICS_LISTEN SIGNET_DKIM_KEYS SIGNET_SPOOL_DIR; do
  grep -q "$name=" Dockerfile || { echo "Dockerfile no longer sets $name; update this check"; exit 1; }
done
entry=$(sed -n 's/^ENTRYPOINT \["\(.*\)"\]$/\1/p' Dockerfile)
cmd=$(sed -n 's/^CMD \["\(.*\)"\]$/\1/p' Dockerfile)
[ "$entry" = "/opt/signet/signet" ] && [ "$cmd" = "serve" ] || { echo "unexpected ENTRYPOINT/CMD: $entry $cmd"; exit 1; }
grep -q "^COPY signet /opt/signet/signet$" Dockerfile || { echo "Dockerfile no longer copies the launcher to $entry"; exit 1; }
grep -q "SIGNET_JAR=/opt/signet/signet.jar" Dockerfile || { echo "Dockerfile no longer points SIGNET_JAR at the jar"; exit 1; }
# The image's JVM options, with its logback path moved to the repo's copy (COPY conf/logback.xml /etc/signet/).
java_opts=$(sed -n 's/^ *SIGNET_JAVA_OPTS="\(.*\)".*$/\1/p' Dockerfile | sed "s#/etc/signet/logback.xml#$PWD/conf/logback.xml#")
[ -n "$java_opts" ] || { echo "Dockerfile sets no SIGNET_JAVA_OPTS"; exit 1; }
env_args+=(SIGNET_JAR="$jar" SIGNET_JAVA_OPTS="$java_opts")

echo "== a one-shot command through the entry point: sign writes the message on stdout and nothing on stderr"
env "${env_args[@]}" ./signet keygen --domain example.com --selector s1 --keys "$work/etc/keys" > /dev/null
printf 'From: app@example.com\nTo: you@example.org\nSubject: hi\n\nHello\n' \
  | env "${env_args[@]}" ./signet sign > "$work/signed.eml" 2> "$work/sign.err"
grep -q '^DKIM-Signature: ' "$work/signed.eml" || { echo "sign through the entry point wrote no signature"; exit 1; }
if [ -s "$work/sign.err" ]; then
  echo "sign through the entry point wrote to stderr (scripts read it):"; cat "$work/sign.err"
  echo "docker-steps: 0 passed, 1 failed"; exit 1
fi
echo "sign: signed, stderr empty"

echo "== the image's start-up cache: its RUN line's training (fewer messages), then CMD must load the cache"
train=$(sed -n 's#^RUN /opt/signet/train-startup-cache.sh \([0-9]*\) .*#\1#p' Dockerfile)
[ -n "$train" ] || { echo "Dockerfile no longer trains the start-up cache"; exit 1; }
grep -q "SIGNET_STARTUP_CACHE_DIR=/opt/signet" Dockerfile || { echo "Dockerfile no longer points the cache at /opt/signet"; exit 1; }
env_args+=(SIGNET_STARTUP_CACHE_DIR="$work/cache")
env "${env_args[@]}" TRAIN_LAUNCHER="$PWD/signet" bash src/main/sh/train-startup-cache.sh 100 2>&1 | grep '^train-startup-cache'
cache=$(compgen -G "$work/cache/signet-*" | head -1 || true)
[ -n "$cache" ] || { echo "docker-steps: 1 passed, 1 failed (the training saved no start-up cache)"; exit 1; }

env "${env_args[@]}" ./signet "$cmd" > "$work/serve.log" 2>&1 &
pid=$!
health=$(sed -n 's/^HEALTHCHECK .* CMD \(.*\) || exit 1$/\1/p' Dockerfile | sed "s/127.0.0.1:9465/127.0.0.1:$metrics/")
[ -n "$health" ] || { echo "no HEALTHCHECK command found"; exit 1; }
for _ in $(seq 1 120); do
  if bash -c "$health" >/dev/null 2>&1; then
    echo "healthy: $health"
    if ! tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "=$cache "; then
      tr '\0' ' ' < "/proc/$pid/cmdline"; echo
      echo "docker-steps: 3 passed, 1 failed (the entry point did not load the trained start-up cache $cache)"
      exit 1
    fi
    echo "start-up cache loaded: $(basename "$cache")"
    # The entry point adds no module (the cache would lose its AOT-linked classes): the signer's start-up
    # line names the eight-byte scan, and no JVM warning about an incubator module is in the log.
    if grep -q "relaxed body scan: eight bytes at a time" "$work/serve.log" && ! grep -q "incubator" "$work/serve.log"; then
      echo "body scan: $(grep -o 'relaxed body scan: [^,]*' "$work/serve.log" | head -1)"
      echo "docker-steps: 5 passed, 0 failed"
      exit 0
    fi
    cat "$work/serve.log"
    echo "docker-steps: 4 passed, 1 failed (the entry point's relay runs with the Vector API module)"
    exit 1
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
cat "$work/serve.log"
echo "docker-steps: 3 passed, 1 failed (the entrypoint never became healthy)"
exit 1
