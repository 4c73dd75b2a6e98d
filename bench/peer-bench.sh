#!/usr/bin/env bash
# Peer benchmark: the same smtp-source load against each relay, in three shapes, cold and steady, alternating
# variants run by run so that drift of the shared machine hits every variant alike. Prints medians and the
# ratios of each variant to Postfix alone, with the CPU model.
#
#   bench/peer-bench.sh [--runs 3] [--shapes 4096x20x5000,4096x1x2000,102400x20x2000] [--cold 5000]
#                       [--latency 2000] [--variants postfix,signet]
#
# A shape is SIZExSESSIONSxMESSAGES (smtp-source: message bytes, parallel sessions, messages; every message is
# its own SMTP session, as smtp-source sends them). For each run, shape and variant the relay is started fresh
# (empty queue) and measured twice without a restart:
#   cold    the first --cold messages after start (JIT compilation happens here for Signet; Postfix has none);
#   steady  then MESSAGES more (the relay has handled --cold messages: steady state).
# With one session, the steady phase is followed by --latency more messages from bench/accept_latency.py, which
# reports p50/p99 of the time from the end of DATA to the 250 (0 = skip). For Signet each phase also records the JIT
# compiler's work in it (`jstat -compiler`): a steady phase with the compiler still busy is not steady yet.
# Variants: postfix (Postfix alone, no signing), postfix-opendkim (Postfix + OpenDKIM milter, RSA-2048
# relaxed/relaxed), signet (`./signet serve` as a user runs it, RSA-2048 relaxed/relaxed; bench/signet-relay.sh),
# signet-nocache (the same with SIGNET_STARTUP_CACHE=off: what the launcher's start-up cache is worth).
# Before the first run, one unmeasured signet run (5000 messages, then a normal stop) leaves the start-up cache
# that any earlier stop of the relay would have left; every measured start is then a restart, as after a deploy.
# Every variant relays to smtp-sink on 127.0.0.1:$SINK_PORT; everything listens on 127.0.0.1 only.
# The raw lines and the summary go to stdout and to bench/target/peer-<time>.txt.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
runs=3 shapes=4096x20x5000,4096x1x2000,102400x20x2000 cold=5000 latency=2000 variants=postfix,signet
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --shapes) shapes=$2; shift 2 ;;
    --cold) cold=$2; shift 2 ;;
    --latency) latency=$2; shift 2 ;;
    --variants) variants=$2; shift 2 ;;
    *) echo "peer-bench.sh: unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
[[ $runs =~ ^[0-9]+$ && $runs -ge 1 && $runs -le 20 ]] || { echo "peer-bench.sh: --runs 1..20" >&2; exit 2; }
[[ $cold =~ ^[0-9]+$ && $cold -ge 1 ]] || { echo "peer-bench.sh: --cold takes a number of messages" >&2; exit 2; }
[[ $latency =~ ^[0-9]+$ ]] || { echo "peer-bench.sh: --latency takes a number of messages" >&2; exit 2; }
IFS=, read -r -a shape_list <<< "$shapes"
for shape in "${shape_list[@]}"; do
  [[ $shape =~ ^[0-9]+x[0-9]+x[0-9]+$ ]] || { echo "peer-bench.sh: shape $shape is not SIZExSESSIONSxMESSAGES" >&2; exit 2; }
done

export PEER_PORT=${PEER_PORT:-12525} SINK_PORT=${SINK_PORT:-12526} MILTER_PORT=${MILTER_PORT:-12527}
export BENCH_SIGNET_PORT=${BENCH_SIGNET_PORT:-12528}

mkdir -p "$here/target"
out="$here/target/peer-$(date -u +%Y%m%dT%H%M%SZ).txt"
running=""
stop_running() {
  case "$running" in
    postfix-opendkim | postfix) "$here/peer/postfix-opendkim.sh" stop || true ;;
    signet | signet-nocache) "$here/signet-relay.sh" stop || true ;;
  esac
  running=""
}
trap stop_running EXIT

"$here/peer/postfix-opendkim.sh" install
if [[ ,$variants, == *,signet* && -z ${BENCH_SIGNET_JAR:-} ]]; then
  # Measure the working tree as it is now: build the jar once, before the first run.
  (cd "$here/.." && mvn -q -B -DskipTests package)
fi
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
{
  echo "# peer-bench $(date -u +%FT%TZ): runs=$runs shapes=$shapes cold=$cold latency=$latency variants=$variants"
  echo "# machine: nproc=$(nproc) cpu=\"$cpu\" postfix=$(postconf -d -h mail_version 2>/dev/null) opendkim=\"$(opendkim -V 2>&1 | head -1)\" java=\"$("${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java" -version 2>&1 | head -1)\""
} | tee "$out"

# Signet's JIT work in a phase: compilations and compiler seconds from `jstat -compiler` before and after it
# (a steady phase in which the compiler is still busy is not steady yet). Empty for Postfix.
jstat_bin="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/jstat"
jit() {
  [[ $1 == signet* && -x $jstat_bin ]] || return 0
  "$jstat_bin" -compiler "$2" 2>/dev/null | awk 'NR == 2 {print $1, $4}'
}
jit_delta() {
  [[ -n $1 && -n $2 ]] || return 0
  awk -v a="$1" -v b="$2" 'BEGIN {split(a, x, " "); split(b, y, " "); printf " jit_compiles=%d jit_s=%.2f", y[1] - x[1], y[2] - x[2]}'
}

IFS=, read -r -a variant_list <<< "$variants"
if [[ ,$variants, == *,signet,* ]]; then
  echo "peer-bench.sh: training run (unmeasured): the relay's start-up cache, saved when it stops" >&2
  running=signet
  "$here/signet-relay.sh" start
  "$here/load.sh" --relay "127.0.0.1:$BENCH_SIGNET_PORT" --sink-port "$SINK_PORT" --messages 5000 --sessions 20 \
    --size 4096 --timeout 600 > /dev/null || echo "peer-bench.sh: the training run did not complete" >&2
  stop_running
fi
for ((run = 1; run <= runs; run++)); do
  for shape in "${shape_list[@]}"; do
    IFS=x read -r size sessions messages <<< "$shape"
    # Bound per phase: generous for a loaded 2-core machine (a relay at 0.2 s per message and session finishes).
    timeout_s=$((120 + (cold + messages) / 50 + (cold + messages) / (5 * sessions)))
    for variant in "${variant_list[@]}"; do
      running=$variant
      case "$variant" in
        postfix-opendkim | postfix)
          if ! DKIM=$([[ $variant == postfix-opendkim ]] && echo 1 || echo 0) "$here/peer/postfix-opendkim.sh" start; then
            stop_running; echo "variant=$variant shape=$shape run=$run phase=cold result=start-failed" | tee -a "$out"; continue
          fi
          pids="$(cat /var/lib/signet-peer/master.pid)"
          [[ $variant == postfix-opendkim ]] && pids="$pids $(cat /var/lib/signet-peer/opendkim.pid)"
          relay_addr=127.0.0.1:$PEER_PORT
          ;;
        signet | signet-nocache)
          if ! BENCH_SIGNET_STARTUP_CACHE=$([[ $variant == signet ]] && echo on || echo off) "$here/signet-relay.sh" start; then
            stop_running; echo "variant=$variant shape=$shape run=$run phase=cold result=start-failed" | tee -a "$out"; continue
          fi
          pids="$(cat "${BENCH_SIGNET_DIR:-/var/lib/signet-bench}/signet.pid")"
          relay_addr=127.0.0.1:$BENCH_SIGNET_PORT
          ;;
        *) echo "peer-bench.sh: unknown variant $variant" >&2; exit 2 ;;
      esac
      for phase in cold steady; do
        n=$([[ $phase == cold ]] && echo "$cold" || echo "$messages")
        jit_before=$(jit "$variant" "$pids")
        line=$("$here/load.sh" --relay "$relay_addr" --sink-port "$SINK_PORT" --messages "$n" --sessions "$sessions" \
          --size "$size" --timeout "$timeout_s" --pids "$pids" || true)
        echo "variant=$variant shape=$shape run=$run phase=$phase ${line:-result=no-output}$(jit_delta "$jit_before" "$(jit "$variant" "$pids")")" | tee -a "$out"
      done
      if ((sessions == 1 && latency > 0)); then
        # The sink of load.sh is gone: this phase measures acceptance only, with a sink that takes the deliveries.
        smtp-sink -u nobody -c -m 256 -t 60 "127.0.0.1:$SINK_PORT" 256 > /dev/null 2>&1 &
        sink=$!
        line=$(python3 "$here/accept_latency.py" --relay "$relay_addr" --messages "$latency" --size "$size" || true)
        kill "$sink" 2>/dev/null || true; wait "$sink" 2>/dev/null || true
        echo "variant=$variant shape=$shape run=$run phase=latency ${line:-result=no-output}" | tee -a "$out"
      fi
      stop_running
    done
  done
done

python3 - "$out" "$cpu" <<'EOF' | tee -a "$out"
import statistics, sys
rows = [dict(kv.split("=", 1) for kv in line.split()) for line in open(sys.argv[1]) if line.startswith("variant=")]
cpu = sys.argv[2]
shapes = list(dict.fromkeys(r["shape"] for r in rows))
variants = list(dict.fromkeys(r["variant"] for r in rows))

def med(v, shape, phase, key):
    vals = [float(r[key]) for r in rows if (r["variant"], r["shape"], r["phase"]) == (v, shape, phase)
            and (r.get("result") == "ok" or phase == "latency") and key in r]
    return (statistics.median(vals), len(vals)) if vals else (float("nan"), 0)

def name(shape):
    size, sessions, n = shape.split("x")
    size = f"{int(size) // 1024} KB" if int(size) % 1024 == 0 else f"{size} B"
    return f"{size} x {sessions} session{'s' if sessions != '1' else ''}"

print()
print(f"CPU: {cpu}; medians of the runs; CPU ms per message is the relay's own (smtp-source and smtp-sink excluded)")
print()
print("| shape | variant | cold delivered/s | steady delivered/s | cold / steady | steady CPU ms/msg | "
      "accept p50 / p99 ms | steady vs postfix (rate, CPU) |")
print("|---|---|---:|---:|---:|---:|---:|---|")
for shape in shapes:
    base_rate, _ = med("postfix", shape, "steady", "delivered_per_s")
    base_cpu, _ = med("postfix", shape, "steady", "cpu_s_per_1000")
    for v in variants:
        cold_rate, nc = med(v, shape, "cold", "delivered_per_s")
        rate, ns = med(v, shape, "steady", "delivered_per_s")
        cpu_ms, _ = med(v, shape, "steady", "cpu_s_per_1000")
        p50, nl = med(v, shape, "latency", "p50_ms")
        p99, _ = med(v, shape, "latency", "p99_ms")
        lat = f"{p50:.2f} / {p99:.2f}" if nl else "-"
        vs = "-" if v == "postfix" or base_rate != base_rate else f"{rate / base_rate:.2f}x, {cpu_ms / base_cpu:.2f}x"
        print(f"| {name(shape)} | {v} | {cold_rate:.0f} | {rate:.0f} | {cold_rate / rate:.2f} | {cpu_ms:.2f} | {lat} | {vs} |"
              + ("" if nc == ns else f" (ok runs: cold {nc}, steady {ns})"))
jit = [(v, shape) for shape in shapes for v in variants if med(v, shape, "steady", "jit_compiles")[1]]
if jit:
    print()
    print("JIT compiler work per phase (medians; `jstat -compiler`: compilations, compiler-thread seconds):")
    print()
    print("| shape | variant | cold: compilations, s | steady: compilations, s |")
    print("|---|---|---:|---:|")
    for v, shape in jit:
        c = [med(v, shape, phase, k)[0] for phase in ("cold", "steady") for k in ("jit_compiles", "jit_s")]
        print(f"| {name(shape)} | {v} | {c[0]:.0f}, {c[1]:.1f} | {c[2]:.0f}, {c[3]:.1f} |")
EOF
echo "results: $out"
