#!/usr/bin/env bash
# Runs Signet's JMH benchmarks (raw crypto ceilings and the signer, side by side in one JVM run) and prints
# the table with the issue-2 ratios. Usage: bench/jmh/run.sh [benchmark regex ...]
# Environment: WI (warmup iterations, 3), I (measurement iterations, 5), T (seconds per iteration, 2).
# Builds first: installs the main project into the local Maven repository (tests skipped), then the
# benchmarks jar. About 4-5 minutes on a 2-core machine.
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
json="$here/target/jmh-$(date -u +%Y%m%dT%H%M%SZ).json"
# One fork, one thread (rates per core), 3 x 2 s warmup, 5 x 2 s measurement: ~20 s per benchmark/param.
# The machine is shared: -f 1 keeps the total run short; the per-iteration spread is reported next to the median.
"$java_bin" -jar "$here/target/benchmarks.jar" -f 1 -t 1 -wi "${WI:-3}" -w "${T:-2}s" -i "${I:-5}" -r "${T:-2}s" \
  -jvmArgsAppend "-Dsignet.bench.providers=$json.providers" \
  -rf json -rff "$json" "$@"

echo
echo "JDK: $("$java_bin" -version 2>&1 | head -1); CPU: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); nproc: $(nproc)"
python3 "$here/report.py" "$json"
echo "raw JMH results: $json"
