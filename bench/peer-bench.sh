#!/usr/bin/env bash
# Peer benchmark: the same smtp-source load against each relay variant, alternating A/B/C runs so that
# drift of the shared machine hits every variant alike; prints medians and ratios to Postfix+OpenDKIM.
#
#   bench/peer-bench.sh [--runs 3] [--messages 5000] [--sessions 20] [--size 4096] [--warmup 0]
#                       [--variants postfix-opendkim,postfix,signet]
#
# --warmup N: each run first sends N messages to the freshly started relay and waits until the sink has them,
# unmeasured, then measures --messages (steady state: a JVM's JIT compilation happens during the warm-up; Postfix
# has no such phase, but gets the same warm-up). 0 (the default) measures from a cold start.
# Variants: postfix-opendkim (Postfix + OpenDKIM milter, RSA-2048 relaxed/relaxed), postfix (Postfix alone, no
# signing), signet (Signet's `serve`, RSA-2048 relaxed/relaxed; ACCEPT_ONLY=1 measures accepted/s only,
# for a build whose delivery does not exist yet). Every variant relays to smtp-sink on 127.0.0.1:$SINK_PORT;
# everything listens on 127.0.0.1 only. Each run starts its relay fresh (empty queue/spool) and stops it by PID.
# The raw lines and the summary go to stdout and to bench/target/peer-<time>.txt.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
runs=3 messages=5000 sessions=20 size=4096 warmup=0 variants=postfix-opendkim,postfix
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --messages) messages=$2; shift 2 ;;
    --sessions) sessions=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --variants) variants=$2; shift 2 ;;
    *) echo "peer-bench.sh: unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
[[ $runs =~ ^[0-9]+$ && $runs -ge 1 && $runs -le 20 ]] || { echo "peer-bench.sh: --runs 1..20" >&2; exit 2; }
[[ $warmup =~ ^[0-9]+$ ]] || { echo "peer-bench.sh: --warmup takes a number of messages" >&2; exit 2; }

export PEER_PORT=${PEER_PORT:-12525} SINK_PORT=${SINK_PORT:-12526} MILTER_PORT=${MILTER_PORT:-12527}
export BENCH_SIGNET_PORT=${BENCH_SIGNET_PORT:-12528}
# Bound per run: generous for a loaded 2-core machine (20 000 messages at 100/s = 200 s).
# Generous: a relay that takes 0.2 s per message and session still finishes (Postfix + OpenDKIM with one
# session needs about 0.1 s per message here).
timeout_s=$((120 + messages / 50 + messages / (5 * sessions)))

mkdir -p "$here/target"
out="$here/target/peer-$(date -u +%Y%m%dT%H%M%SZ).txt"
running=""
stop_running() {
  case "$running" in
    postfix-opendkim | postfix) "$here/peer/postfix-opendkim.sh" stop || true ;;
    signet) "$here/signet-relay.sh" stop || true ;;
  esac
  running=""
}
trap stop_running EXIT

"$here/peer/postfix-opendkim.sh" install
if [[ ,$variants, == *,signet,* ]]; then
  # Measure the working tree as it is now: build the jar once, before the first run.
  (cd "$here/.." && mvn -q -B -DskipTests package)
fi
{
  echo "# peer-bench $(date -u +%FT%TZ): runs=$runs messages=$messages sessions=$sessions size=$size warmup=$warmup variants=$variants"
  echo "# machine: nproc=$(nproc) cpu=\"$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)\" postfix=$(postconf -d -h mail_version 2>/dev/null) opendkim=\"$(opendkim -V 2>&1 | head -1)\""
} | tee "$out"

IFS=, read -r -a variant_list <<< "$variants"
for ((run = 1; run <= runs; run++)); do
  for variant in "${variant_list[@]}"; do
    load_args=(--sink-port "$SINK_PORT" --messages "$messages" --sessions "$sessions" --size "$size" --timeout "$timeout_s")
    case "$variant" in
      postfix-opendkim | postfix)
        running=$variant
        if ! DKIM=$([[ $variant == postfix-opendkim ]] && echo 1 || echo 0) "$here/peer/postfix-opendkim.sh" start; then
          stop_running; echo "variant=$variant run=$run result=start-failed" | tee -a "$out"; continue
        fi
        pids="$(cat /var/lib/signet-peer/master.pid)"
        [[ $variant == postfix-opendkim ]] && pids="$pids $(cat /var/lib/signet-peer/opendkim.pid)"
        relay_addr=127.0.0.1:$PEER_PORT
        load_args+=(--relay "$relay_addr" --pids "$pids")
        ;;
      signet)
        running=signet
        if ! "$here/signet-relay.sh" start; then
          stop_running; echo "variant=$variant run=$run result=start-failed" | tee -a "$out"; continue
        fi
        relay_addr=127.0.0.1:$BENCH_SIGNET_PORT
        load_args+=(--relay "$relay_addr" --pids "$(cat "${BENCH_SIGNET_DIR:-/var/lib/signet-bench}/signet.pid")")
        [[ ${ACCEPT_ONLY:-0} == 1 ]] && load_args+=(--accept-only)
        ;;
      *) echo "peer-bench.sh: unknown variant $variant" >&2; exit 2 ;;
    esac
    if ((warmup > 0)) && [[ ${ACCEPT_ONLY:-0} != 1 || $variant != signet ]]; then
      "$here/load.sh" --relay "$relay_addr" --sink-port "$SINK_PORT" --messages "$warmup" --sessions "$sessions" \
        --size "$size" --timeout "$timeout_s" > /dev/null || echo "peer-bench.sh: warm-up of $variant did not complete" >&2
    fi
    line=$("$here/load.sh" "${load_args[@]}" || true)
    stop_running
    echo "variant=$variant run=$run ${line:-result=no-output}" | tee -a "$out"
  done
done

python3 - "$out" <<'EOF' | tee -a "$out"
import statistics, sys
rows = []
for line in open(sys.argv[1]):
    if line.startswith("variant="):
        rows.append(dict(kv.split("=", 1) for kv in line.split()))
metrics = ["accepted_per_s", "delivered_per_s", "cpu_s_per_1000", "peak_pss_mb", "peak_rss_mb"]
variants = list(dict.fromkeys(r["variant"] for r in rows))
med = {}
print()
print(f"{'variant':<18} {'ok runs':>7} " + " ".join(f"{m + ' (median)':>26}" for m in metrics))
for v in variants:
    ok = [r for r in rows if r["variant"] == v and r.get("result") in ("ok",)]
    med[v] = {m: statistics.median(float(r[m]) for r in ok) if ok else float("nan") for m in metrics}
    spread = {m: (min(float(r[m]) for r in ok), max(float(r[m]) for r in ok)) if ok else (0, 0) for m in metrics}
    cells = " ".join(f"{med[v][m]:>10.1f} [{spread[m][0]:.1f}..{spread[m][1]:.1f}]".rjust(26) for m in metrics)
    print(f"{v:<18} {len(ok):>7} {cells}")
base = "postfix-opendkim"
if base in med:
    print()
    for v in variants:
        if v == base:
            continue
        ratios = " ".join(f"{m}={med[v][m] / med[base][m]:.2f}x" if med[base][m] else f"{m}=n/a" for m in metrics)
        print(f"ratio {v} / {base}: {ratios}")
EOF
echo "results: $out"
