#!/usr/bin/env bash
# Runs Signet's JMH benchmarks (raw crypto ceilings and the signer, side by side in one JVM run) and prints
# the table with the target ratios. Usage: bench/jmh/run.sh [benchmark regex ...]
# Environment: ROUNDS (passes over the whole suite, 3), WI (warmup iterations, 2), I (measurement iterations, 3),
# T (seconds per iteration, 1). About 90 s per round for the 13 benchmarks on a 2-core machine.
# Builds first: installs the main project into the local Maven repository (tests skipped), then the
# benchmarks jar. About 5-6 minutes on a 2-core machine with the defaults.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

# The machine's default java may be 17; Signet needs 21+. Prefer JAVA_HOME if it is new enough.
java_bin=""
for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64; do
  if [[ -n "$candidate" && -x "$candidate/bin/java" ]]; then
    major=$("$candidate/bin/java" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/ {print $2}')
    if [[ "${major%%.*}" -ge 21 ]]; then java_bin="$candidate/bin/java"; export JAVA_HOME="$candidate"; break; fi
  fi
done
if [[ -z "$java_bin" ]]; then echo "run.sh: need a JDK >= 21 (set JAVA_HOME)" >&2; exit 1; fi

(cd "$root" && mvn -q -B -DskipTests install)
(cd "$here" && mvn -q -B package)

mkdir -p "$here/target"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
rounds=${ROUNDS:-3}
jsons=()
# Without a regex: the signing suite only. GroupCommitBench (the spool, 20 threads) and TlsPolicyLookupBench (the
# delivery's TLS policy decision, with DNS servers and BIND) are run on their own, see their Javadoc.
if [[ $# -eq 0 ]]; then set -- -e 'GroupCommitBench|TlsPolicyLookupBench'; fi
# The machine is shared (2 cores, several people): one long pass would compare a raw rate measured in a quiet
# minute with a signer rate measured in a busy one. So the whole suite runs in ROUNDS short passes, each ratio
# is taken within a pass (its benchmarks ran minutes apart at most), and the report gives the median over passes.
# Per benchmark: one fork, one thread (rates per core), WI x T s warmup, I x T s measurement.
for ((round = 1; round <= rounds; round++)); do
  json="$here/target/jmh-$stamp-round$round.json"
  echo "== round $round of $rounds, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  "$java_bin" -jar "$here/target/benchmarks.jar" -f 1 -t 1 -wi "${WI:-2}" -w "${T:-1}s" -i "${I:-3}" -r "${T:-1}s" \
    -jvmArgsAppend "--add-modules jdk.incubator.vector -Dsignet.bench.providers=$here/target/jmh-$stamp.providers -Dsignet.bench.cpu=${json%.json}.cpu" \
    -rf json -rff "$json" "$@" > "$here/target/jmh-$stamp-round$round.log"
  tail -n 25 "$here/target/jmh-$stamp-round$round.log" | grep -E '^(Benchmark|[A-Z][A-Za-z0-9]*Bench\.)' >&2 || true
  jsons+=("$json")
done

echo
echo "JDK: $("$java_bin" -version 2>&1 | head -1); CPU: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); nproc: $(nproc); load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$here/report.py" --providers "$here/target/jmh-$stamp.providers" "${jsons[@]}"
echo "raw JMH results: $here/target/jmh-$stamp-round*.json (logs: .log)"
