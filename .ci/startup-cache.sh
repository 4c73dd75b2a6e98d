#!/usr/bin/env bash
# The launcher's start-up cache, as a user meets it: the first `./signet serve` on a jar saves the cache
# when it stops (Java 25+: AOT cache with the JIT's profiles; 21-24: a CDS archive), the second start loads
# it, answers /healthz, and no JVM notice about the cache reaches the log. It also checks that serve gets the
# launcher's other JVM options.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$repo/bench/suites/relay-common.sh" "${1:-$repo/target/signet.jar}"
relay_config s1
serve() { start_relay_with env SIGNET_JAR="$jar" SIGNET_STARTUP_CACHE_DIR="$work/cache" "$repo/signet"; }

serve
stop_relay
cache=$(compgen -G "$work/cache/signet-*.[aj][os][ta]" | head -1 || true)
if [ -n "$cache" ]; then
  ok "the first serve saved $(basename "$cache") ($(du -k "$cache" | cut -f1) kB)"
else
  cat serve.log; fail "the first serve saved no cache in $work/cache"
fi

mv serve.log first.log
serve
if [ -n "$cache" ] && tr '\0' ' ' < "/proc/$relay/cmdline" | grep -q -- "=$cache "; then
  ok "the second serve loaded it"
else
  tr '\0' ' ' < "/proc/$relay/cmdline"; echo; fail "the second serve did not load ${cache:-a cache}"
fi
# The launcher's other JVM options for serve (the collector, the poller mode, C2's inlining; ./signet says why).
mapfile -d '' -t cmd < "/proc/$relay/cmdline"
missing=""
options=(-XX:+UseSerialGC -Djdk.pollerMode=1 -XX:InlineSmallCode=1000)
# On Java 25, with a cache loaded: its training run's compilations at once.
if [[ ${cache:-} == *.aot ]] && "${cmd[0]}" -version 2>&1 | grep -q '"25[."]'; then
  options+=(-XX:+AOTCompileEagerly)
fi
for option in "${options[@]}"; do
  printf '%s\n' "${cmd[@]}" | grep -qx -- "$option" || missing="$missing $option"
done
if [ -z "$missing" ]; then
  ok "serve runs with the launcher's JVM options"
else
  echo "${cmd[*]}"; fail "serve runs without$missing"
fi
# Java 25's AOT cache as that JVM takes it: with its classes linked ahead of time and the full module graph.
# The JDK keeps both out of a cache made with a module added (--add-modules): the launcher adds none.
if [[ ${cache:-} == *.aot ]]; then
  for i in "${!cmd[@]}"; do [ "${cmd[$i]}" = -jar ] && break; done
  stop_relay
  "${cmd[@]:0:$i}" -Xlog:aot=info -jar "$jar" --version > aot.log 2>&1 || true
  if grep -q "Using AOT-linked classes: true" aot.log && grep -q "full module graph: enabled" aot.log; then
    ok "the cache has AOT-linked classes and the full module graph"
  else
    grep -E "AOT-linked|module graph|addmods" aot.log || cat aot.log
    fail "the cache lacks AOT-linked classes or the full module graph"
  fi
else
  stop_relay
fi
if grep -E '^\[[0-9.]+s\]\[(warning|error)\]' serve.log; then
  fail "JVM notices about the cache in the log"
fi
summary startup-cache
