#!/usr/bin/env bash
# Two (or more) builds of Signet side by side under the same load, alternating A B A B ..., so that drift of a
# shared machine hits each alike; prints every run and the medians. For "did this change move the numbers":
#
#   bench/signet-ab.sh [--rounds 3] [--messages 20000] [--sessions 20] [--size 4096] [--far-mx MS] NAME=JAR NAME=JAR ...
#
# --far-mx MS puts bench/delay_proxy.py between the relay and the sink, holding each chunk MS milliseconds each
# way, so that every round trip to the receiving server costs 2 x MS as to a real MX (deliveries, not acceptance).
#
# e.g. build the old commit in a worktree, then
#   bench/signet-ab.sh before=/tmp/signet-before.jar after=target/signet.jar
# Each run: a fresh relay (bench/signet-relay.sh with BENCH_SIGNET_JAR=JAR, empty spool) and bench/load.sh
# delivering to smtp-sink (from the postfix package: bench/peer/postfix-opendkim.sh install). Raw lines and
# the summary go to stdout and to bench/target/ab-<time>.txt.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
rounds=3 messages=20000 sessions=20 size=4096 far_mx=0
builds=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --sessions) sessions=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --far-mx) far_mx=$2; shift 2 ;;
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
timeout_s=$((120 + messages / 50))
{
  echo "# signet-ab $(date -u +%FT%TZ): rounds=$rounds messages=$messages sessions=$sessions size=$size far_mx=${far_mx}ms ${builds[*]}"
  for ((r = 1; r <= rounds; r++)); do
    for b in "${builds[@]}"; do
      SINK_PORT=$relay_to BENCH_SIGNET_JAR=${b#*=} "$here/signet-relay.sh" start > /dev/null
      line=$("$here/load.sh" --relay "127.0.0.1:$BENCH_SIGNET_PORT" --sink-port "$sink_port" --messages "$messages" \
        --sessions "$sessions" --size "$size" --timeout "$timeout_s" --pids "$(cat "$BENCH_SIGNET_DIR/signet.pid")" 2> /dev/null | tail -1)
      "$here/signet-relay.sh" stop > /dev/null
      echo "build=${b%%=*} round=$r $line"
    done
  done
} | tee "$out"
# Medians per build of delivered/s and CPU per 1000 messages.
awk '
  /^build=/ { split($1, n, "="); b = n[2]; if (!(b in seen)) { seen[b] = 1; order[++k] = b }
    for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "delivered_per_s") d[b, ++nd[b]] = kv[2]; if (kv[1] == "cpu_s_per_1000") c[b, ++nc[b]] = kv[2] } }
  function median(arr, b, n,   i, j, t, v) { for (i = 1; i <= n; i++) v[i] = arr[b, i]
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
  END { for (i = 1; i <= k; i++) { b = order[i]
    printf "%-12s delivered_per_s median %7.1f   cpu_s_per_1000 median %5.2f   (%d runs)\n", b, median(d, b, nd[b]), median(c, b, nc[b]), nd[b] } }
' "$out" | tee -a "$out"
