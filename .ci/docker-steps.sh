#!/usr/bin/env bash
# No Docker engine runs on these machines, so this replays the Dockerfile's own steps without one:
# the build stage's `RUN mvn ...` lines in a copy holding only what the Dockerfile COPYs (pom.xml, src),
# then the runtime stage's ENTRYPOINT + CMD with its ENV (paths moved under a temp dir, ports made free),
# probed with the HEALTHCHECK's own command. A Dockerfile edit that breaks a step breaks this check.
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
entry=$(sed -n 's/^ENTRYPOINT \["java", "--add-modules", "jdk.incubator.vector", "-jar", "\(.*\)"\]$/\1/p' Dockerfile)
cmd=$(sed -n 's/^CMD \["\(.*\)"\]$/\1/p' Dockerfile)
[ "$entry" = "/opt/signet/signet.jar" ] && [ "$cmd" = "serve" ] || { echo "unexpected ENTRYPOINT/CMD: $entry $cmd"; exit 1; }
env "${env_args[@]}" "${JAVA_HOME:+$JAVA_HOME/bin/}java" --add-modules jdk.incubator.vector -jar "$jar" "$cmd" > "$work/serve.log" 2>&1 &
pid=$!
health=$(sed -n 's/^HEALTHCHECK .* CMD \(.*\) || exit 1$/\1/p' Dockerfile | sed "s/127.0.0.1:9465/127.0.0.1:$metrics/")
[ -n "$health" ] || { echo "no HEALTHCHECK command found"; exit 1; }
for _ in $(seq 1 120); do
  if bash -c "$health" >/dev/null 2>&1; then
    echo "healthy: $health"
    # The entry point's --add-modules must reach the signer: its start-up line names the scan in use.
    if grep -q "relaxed body scan: SIMD" "$work/serve.log"; then
      echo "SIMD scan in use: $(grep -o 'relaxed body scan: [^,]*, [^ ]* vectors' "$work/serve.log" | head -1)"
      echo "docker-steps: 3 passed, 0 failed"
      exit 0
    fi
    cat "$work/serve.log"
    echo "docker-steps: 2 passed, 1 failed (the entrypoint's relay does not use the SIMD scan)"
    exit 1
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
cat "$work/serve.log"
echo "docker-steps: 1 passed, 1 failed (the entrypoint never became healthy)"
exit 1
