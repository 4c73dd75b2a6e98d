#!/usr/bin/env bash
# Issue 6: a bounded coverage-guided fuzz run (Jazzer) of the message normalizer and the DKIM
# canonicalizers. Plain `mvn verify` only replays the committed seed inputs; here each @FuzzTest is
# fuzzed for its maxDuration (30 + 20 + 15 s; JVM start with the Jazzer agent costs 20-40 s each on a busy 2-core box). Jazzer fuzzes one target per JVM, so each fuzz test
# is alone in its class and surefire forks a fresh JVM per class. Bounded to 3 minutes in total.
# A finding fails the run; Jazzer saves the input as src/test/resources/**/*Inputs/<method>/crash-*,
# where plain `mvn verify` then replays it (commit it with the fix).
# Usage: .ci/fuzz.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mvn -q -B test-compile
rm -f target/surefire-reports/*FuzzTest*
start=$SECONDS
status=0
JAZZER_FUZZ=1 timeout 175 mvn -q -B surefire:test -DreuseForks=false -Dsurefire.failIfNoSpecifiedTests=false \
  -Dtest='dev.signet.message.SubmissionFuzzTest,dev.signet.dkim.BodyCanonicalizationFuzzTest,dev.signet.dkim.HeaderCanonicalizationFuzzTest' \
  || status=$?
for r in target/surefire-reports/dev.signet.*FuzzTest.txt; do sed -n 4p "$r"; done
grep -h "^#[0-9]*.*DONE\|^Done [0-9]* runs" target/surefire-reports/*FuzzTest-output.txt 2>/dev/null || true
if [ "$status" -ne 0 ]; then
  echo "fuzz: FAILED (a finding, or the 175 s bound) after $((SECONDS - start)) s; see target/surefire-reports" >&2
  find src/test/resources -name 'crash-*' -newer pom.xml >&2 || true
  exit 1
fi
echo "fuzz: no findings in $((SECONDS - start)) s"
