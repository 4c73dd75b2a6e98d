#!/usr/bin/env bash
# Load driver: Postfix's smtp-source against any relay on loopback, Postfix's smtp-sink as the relay's
# next hop. Measures accepted/s (smtp-source wall time: every message got its 250) and delivered/s (messages
# counted at the sink, from the start of the load until the sink has them all).
#
#   bench/load.sh --relay 127.0.0.1:12525 --sink-port 12526 [--messages 5000] [--sessions 20] [--size 4096]
#                 [--from sender@signet.test] [--to rcpt@sink.test] [--timeout 300] [--accept-only]
#                 [--pids "PID ..."]
#
# --accept-only: measure accepted/s only, no sink (for a relay that does not deliver yet).
# --pids: the relay's processes (e.g. Postfix's master and OpenDKIM, or Signet's JVM). Each with all its
#   descendants is measured: CPU seconds used during the run (utime+stime, plus the cutime+cstime of children
#   that exited meanwhile), reported per 1000 messages, and the peak of the summed PSS (proportional set size,
#   so pages shared between Postfix's processes count once) and of the summed RSS (shared pages counted once
#   per process), sampled every 0.5 s.
# Prints one line of key=value pairs on stdout (the last line), progress on stderr. Exit 1 if smtp-source
# failed or the sink did not receive every message within --timeout seconds (then delivered= is what arrived).
# The relay must already be running and relay everything for the --to domain to 127.0.0.1:<sink-port>.
set -euo pipefail

relay="" sink_port="" messages=5000 sessions=20 size=4096
from="sender@signet.test" to="rcpt@sink.test" timeout=300 accept_only=0 pids=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --relay) relay=$2; shift 2 ;;
    --sink-port) sink_port=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --sessions) sessions=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --from) from=$2; shift 2 ;;
    --to) to=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --accept-only) accept_only=1; shift ;;
    --pids) pids=$2; shift 2 ;;
    *) echo "load.sh: unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
[[ -n $relay ]] || { echo "load.sh: --relay HOST:PORT is required" >&2; exit 2; }
# Loopback only: this driver must never send traffic anywhere else.
[[ $relay =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+:[0-9]+$ ]] || { echo "load.sh: --relay must be 127.x.y.z:port, got $relay" >&2; exit 2; }
[[ $accept_only == 1 || $sink_port =~ ^[0-9]+$ ]] || { echo "load.sh: --sink-port is required (or --accept-only)" >&2; exit 2; }
[[ $messages =~ ^[0-9]+$ && $messages -gt 0 && $messages -le 1000000 ]] || { echo "load.sh: --messages 1..1000000" >&2; exit 2; }
command -v smtp-source > /dev/null || { echo "load.sh: smtp-source missing (Debian package postfix; bench/peer/postfix-opendkim.sh install)" >&2; exit 2; }

work=$(mktemp -d /tmp/signet-load.XXXXXX)
sink_pid="" sampler_pid=""
cleanup() {
  if [[ -n $sampler_pid ]]; then kill "$sampler_pid" 2>/dev/null || true; wait "$sampler_pid" 2>/dev/null || true; fi
  if [[ -n $sink_pid ]] && kill -0 "$sink_pid" 2>/dev/null; then
    kill -TERM "$sink_pid" 2>/dev/null || true
    wait "$sink_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }   # arithmetic without bc
# smtp-sink -c writes "sess=N quit=N mesg=N" + CR after every session end, QUIT and final ".".
sink_count() { tail -c 256 "$work/sink.out" 2>/dev/null | tr '\r' '\n' | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -1; }

# The given PIDs and all their descendants.
tree() {
  [[ -n $pids ]] || return 0
  ps -e -o pid=,ppid= | awk -v roots="$pids" '
    { parent[$1] = $2; pids[NR] = $1 }
    END {
      n = split(roots, r, " "); for (i = 1; i <= n; i++) inside[r[i]] = 1
      do { added = 0
        for (i in pids) { p = pids[i]; if (!(p in inside) && (parent[p] in inside)) { inside[p] = 1; added = 1 } }
      } while (added)
      for (p in inside) print p
    }'
}
# CPU seconds of the tree: utime+stime+cutime+cstime (fields 14-17 of /proc/PID/stat, after the "(comm)").
tree_cpu() {
  local hz; hz=$(getconf CLK_TCK)
  for p in $(tree); do cat "/proc/$p/stat" 2>/dev/null; echo; done |
    awk -v hz="$hz" '{ sub(/^.*\) /, ""); t += $12 + $13 + $14 + $15 } END { printf "%.2f", t / hz }'
}
# Summed PSS and RSS of the tree in kB ("PSS RSS"): RSS counts pages shared between processes once per process.
tree_mem_kb() {
  for p in $(tree); do cat "/proc/$p/smaps_rollup" 2>/dev/null; done |
    awk '/^Pss:/ { pss += $2 } /^Rss:/ { rss += $2 } END { print pss + 0, rss + 0 }'
}

if [[ $accept_only == 0 ]]; then
  if ss -Hltn "sport = :$sink_port" | grep -q .; then echo "load.sh: port $sink_port is already in use" >&2; exit 1; fi
  # -u nobody: smtp-sink refuses to keep root privileges. -m 256: up to 256 concurrent sessions. -t: idle timeout.
  smtp-sink -u nobody -c -m 256 -t 60 "127.0.0.1:$sink_port" 256 > "$work/sink.out" 2>&1 &
  sink_pid=$!
  for ((i = 0; i < 100; i++)); do ss -Hltn "sport = :$sink_port" | grep -q . && break; sleep 0.1; done
  ss -Hltn "sport = :$sink_port" | grep -q . || { echo "load.sh: smtp-sink did not start" >&2; cat "$work/sink.out" >&2; exit 1; }
fi

echo "load.sh: $messages messages of $size bytes, $sessions sessions -> $relay" >&2
cpu_before=$(tree_cpu)
if [[ -n $pids ]]; then
  # Bounded like everything else: at most --timeout seconds, killed by cleanup when the run ends.
  ( peak_pss=0 peak_rss=0; for ((i = 0; i < timeout * 2; i++)); do
      read -r pss rss <<< "$(tree_mem_kb)"
      ((pss > peak_pss)) && peak_pss=$pss && echo "$peak_pss" > "$work/peak_pss"
      ((rss > peak_rss)) && peak_rss=$rss && echo "$peak_rss" > "$work/peak_rss"
      sleep 0.5
    done ) &
  sampler_pid=$!
fi
start=$(now)
source_rc=0
timeout "$timeout" smtp-source -s "$sessions" -m "$messages" -l "$size" -f "$from" -t "$to" "$relay" \
  > "$work/source.out" 2>&1 || source_rc=$?
accepted_end=$(now)
if [[ $source_rc != 0 ]]; then
  echo "load.sh: smtp-source exit $source_rc:" >&2
  tail -5 "$work/source.out" >&2
fi
accept_s=$(calc "$accepted_end - $start")
accepted_rate=$(calc "$messages / $accept_s")

delivered=0 delivered_rate=0 deliver_s=0 result=ok
if [[ $source_rc != 0 ]]; then result=source-failed; fi
if [[ $accept_only == 0 ]]; then
  deadline=$(calc "$start + $timeout")
  while :; do
    delivered=$(sink_count); delivered=${delivered:-0}
    [[ $delivered -ge $messages ]] && break
    if awk "BEGIN { exit !($(now) > $deadline) }"; then
      echo "load.sh: sink has $delivered of $messages after ${timeout}s" >&2
      result=sink-timeout
      break
    fi
    sleep 0.05
  done
  delivered_end=$(now)
  deliver_s=$(calc "$delivered_end - $start")
  delivered_rate=$(calc "$delivered / $deliver_s")
fi

cpu_s=0 cpu_per_1000=0 peak_pss_mb=0 peak_rss_mb=0
if [[ -n $pids ]]; then
  cpu_s=$(calc "$(tree_cpu) - $cpu_before")
  cpu_per_1000=$(calc "$cpu_s * 1000 / $messages")
  peak_pss_mb=$(calc "$(cat "$work/peak_pss" 2>/dev/null || echo 0) / 1024")
  peak_rss_mb=$(calc "$(cat "$work/peak_rss" 2>/dev/null || echo 0) / 1024")
fi

printf 'result=%s messages=%d sessions=%d size=%d accept_s=%.2f accepted_per_s=%.1f delivered=%d deliver_s=%.2f delivered_per_s=%.1f cpu_s=%.1f cpu_s_per_1000=%.2f peak_pss_mb=%.0f peak_rss_mb=%.0f loadavg=%s\n' \
  "$result" "$messages" "$sessions" "$size" "$accept_s" "$accepted_rate" "$delivered" "$deliver_s" "$delivered_rate" \
  "$cpu_s" "$cpu_per_1000" "$peak_pss_mb" "$peak_rss_mb" "$(cut -d' ' -f1 /proc/loadavg)"
[[ $result == ok ]]
