#!/usr/bin/env bash
# Two (or more) builds of Signet side by side under the same load, alternating A B A B ..., so that drift of a
# shared machine hits each alike; prints every run and the medians. For "did this change move the numbers":
#
#   bench/signet-ab.sh [--rounds 3] [--messages 20000] [--sessions 20] [--size 4096] [--far-mx MS]
#                      [--cold N] [--java-opts NAME=OPTIONS ...] NAME=JAR NAME=JAR ...
#
# --far-mx MS puts bench/delay_proxy.py between the relay and the sink, holding each chunk MS milliseconds each
# way, so that every round trip to the receiving server costs 2 x MS as to a real MX (deliveries, not acceptance).
#
# --cold N measures a restart, as bench/peer-bench.sh does: before each run the build's start-up cache is trained
# afresh (an unmeasured relay taking N messages, then stopped: the launcher saves the cache), then a new relay
# loads it and is measured twice without a restart, cold (its first N messages) and steady (--messages more).
# Each phase also reports the CPU seconds of the JIT's C2 compiler thread (c2_s). Training before every run,
# not once per build, keeps one lucky or unlucky cache from moving all of a build's runs together.
#
# --java-opts NAME=OPTIONS gives that build's relay these JVM options instead of -Xmx512m (as SIGNET_JAVA_OPTS, to
# which the launcher adds its own), so one jar can be compared with itself under other options. NAME may repeat
# with the same JAR.
#
# e.g. build the old commit in a worktree, then
#   bench/signet-ab.sh before=/tmp/signet-before.jar after=target/signet.jar
# Each run: a fresh relay (bench/signet-relay.sh with BENCH_SIGNET_JAR=JAR, empty spool) and bench/load.sh
# delivering to smtp-sink (from the postfix package: bench/peer/postfix-opendkim.sh install). Each build runs
# from its own copy of its jar (bench/target/ab-builds/NAME/), where the launcher keeps its start-up cache, so
# builds never share or delete each other's caches. Raw lines and the summary go to stdout and to
# bench/target/ab-<time>.txt.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
rounds=3 messages=20000 sessions=20 size=4096 far_mx=0 cold=0
builds=()
declare -A java_opts=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --sessions) sessions=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --far-mx) far_mx=$2; shift 2 ;;
    --cold) cold=$2; shift 2 ;;
    --java-opts) [[ $2 == *=* ]] || { echo "signet-ab.sh: --java-opts takes NAME=OPTIONS" >&2; exit 2; }
      java_opts[${2%%=*}]=${2#*=}; shift 2 ;;
    *=*) builds+=("$1"); shift ;;
    *) echo "signet-ab.sh: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
[[ ${#builds[@]} -ge 2 ]] || { echo "signet-ab.sh: give at least two NAME=JAR builds" >&2; exit 2; }
for b in "${builds[@]}"; do
  [[ -f ${b#*=} ]] || { echo "signet-ab.sh: ${b#*=}: no such jar" >&2; exit 2; }
done
command -v smtp-source > /dev/null || { echo "signet-ab.sh: needs smtp-source (bench/peer/postfix-opendkim.sh install)" >&2; exit 2; }

export BENCH_SIGNET_PORT=${BENCH_SIGNET_PORT:-12528} SINK_PORT=${SINK_PORT:-12526}
export BENCH_SIGNET_DIR=${BENCH_SIGNET_DIR:-/var/lib/signet-bench}
mkdir -p "$here/target"
out="$here/target/ab-$(date -u +%Y%m%dT%H%M%SZ).txt"
sink_port=$SINK_PORT relay_to=$SINK_PORT proxy=
if [[ $far_mx != 0 ]]; then
  relay_to=$((SINK_PORT + 10))
  python3 "$here/delay_proxy.py" "$relay_to" "$sink_port" "$far_mx" &
  proxy=$!
fi
trap '"$here/signet-relay.sh" stop > /dev/null 2>&1 || true; [[ -z $proxy ]] || kill "$proxy" 2> /dev/null || true' EXIT
timeout_s=$((120 + (messages + cold) / 50))

# Each build's own copy of its jar, so that its start-up cache lives (and is trained) beside it alone.
declare -A jar_of=()
no_cache() { rm -f "$here/target/ab-builds/$1"/signet-*.aot "$here/target/ab-builds/$1"/signet-*.jsa; }
for b in "${builds[@]}"; do
  name=${b%%=*}
  mkdir -p "$here/target/ab-builds/$name"
  cp "${b#*=}" "$here/target/ab-builds/$name/signet.jar"
  no_cache "$name"
  jar_of[$name]=$here/target/ab-builds/$name/signet.jar
done

# CPU seconds of the C2 compiler thread(s) of a running JVM, from /proc (utime + stime).
c2_seconds() {
  local pid=$1 total=0 task stat fields
  for task in /proc/"$pid"/task/*; do
    stat=$(cat "$task/stat" 2> /dev/null) || continue
    [[ $stat == *"(C2 CompilerThre"* ]] || continue
    read -r -a fields <<< "${stat##*) }"
    total=$((total + fields[11] + fields[12]))
  done
  awk -v t="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}

relay() { # relay start|stop NAME
  SINK_PORT=$relay_to BENCH_SIGNET_JAR=${jar_of[$2]} BENCH_SIGNET_JAVA_OPTS=${java_opts[$2]:--Xmx512m} \
    "$here/signet-relay.sh" "$1" > /dev/null
}

load() { # load MESSAGES: one load against the running relay; prints load.sh's result line
  "$here/load.sh" --relay "127.0.0.1:$BENCH_SIGNET_PORT" --sink-port "$sink_port" --messages "$1" \
    --sessions "$sessions" --size "$size" --timeout "$timeout_s" --pids "$(cat "$BENCH_SIGNET_DIR/signet.pid")" \
    2> /dev/null | tail -1
}

{
  echo "# signet-ab $(date -u +%FT%TZ): rounds=$rounds messages=$messages cold=$cold sessions=$sessions size=$size" \
    "far_mx=${far_mx}ms ${builds[*]}$(for n in "${!java_opts[@]}"; do printf ' opts[%s]="%s"' "$n" "${java_opts[$n]}"; done)"
  for ((r = 1; r <= rounds; r++)); do
    for b in "${builds[@]}"; do
      name=${b%%=*}
      if [[ $cold == 0 ]]; then
        relay start "$name"
        line=$(load "$messages")
        relay stop "$name"
        echo "build=$name round=$r $line"
        continue
      fi
      no_cache "$name"
      relay start "$name" # the training run: the launcher saves the cache when it stops
      load "$cold" > /dev/null
      relay stop "$name"
      relay start "$name"
      pid=$(cat "$BENCH_SIGNET_DIR/signet.pid")
      for phase in cold steady; do
        before=$(c2_seconds "$pid")
        line=$(load "$([[ $phase == cold ]] && echo "$cold" || echo "$messages")")
        echo "build=$name round=$r phase=$phase c2_s=$(awk -v a="$before" -v b="$(c2_seconds "$pid")" 'BEGIN { printf "%.2f", b - a }') $line"
      done
      relay stop "$name"
    done
  done
} | tee "$out"
# Medians per build (with --cold, per build and phase) of delivered/s, CPU per 1000 messages and C2's CPU seconds;
# with --cold also each run's own cold / steady ratio, and their median.
awk '
  /^build=/ && / result=ok / { delete v
    for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    key = v["phase"] == "" ? v["build"] : v["build"] " " v["phase"]
    if (!(key in seen)) { seen[key] = 1; order[++k] = key }
    d[key, ++nd[key]] = v["delivered_per_s"]; c[key, nd[key]] = v["cpu_s_per_1000"]; c2[key, nd[key]] = v["c2_s"]
    if (v["phase"] != "") { rate[v["build"], v["phase"], v["round"]] = v["delivered_per_s"]; if (v["round"] + 0 > maxr) maxr = v["round"] + 0
      if (!(v["build"] in bseen)) { bseen[v["build"]] = 1; border[++kb] = v["build"] } } }
  function median(arr, b, n,   i, j, t, x) { for (i = 1; i <= n; i++) x[i] = arr[b, i]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (x[j] + 0 < x[i] + 0) { t = x[i]; x[i] = x[j]; x[j] = t }
    return n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2 }
  END { for (i = 1; i <= k; i++) { b = order[i]
      printf "%-20s delivered_per_s median %7.1f   cpu_s_per_1000 median %5.2f", b, median(d, b, nd[b]), median(c, b, nd[b])
      if (b ~ / (cold|steady)$/) printf "   c2_s median %5.2f", median(c2, b, nd[b])
      printf "   (%d runs)\n", nd[b] }
    for (i = 1; i <= kb; i++) { b = border[i]; n = 0; list = ""
      for (r = 1; r <= maxr; r++)
        if ((b, "cold", r) in rate && (b, "steady", r) in rate && rate[b, "steady", r] > 0) {
          ratio[b, ++n] = rate[b, "cold", r] / rate[b, "steady", r]; list = list sprintf(" %.2f", ratio[b, n]) }
      if (n) printf "%-20s cold / steady per run:%s   median %.2f\n", b, list, median(ratio, b, n) } }
' "$out" | tee -a "$out"
