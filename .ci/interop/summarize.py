#!/usr/bin/python3
"""Compares verifier results with the manifest's expectations and prints the interop summary.

usage: summarize.py MANIFEST VERIFIER=RESULTS... ; exit 1 on any mismatch or missing result.
Signed file names are ALGORITHM.CANONICALIZATION.MESSAGE (see interop-dkim.sh).
"""
import collections
import sys

manifest, runs = sys.argv[1], sys.argv[2:]
expected = {}
with open(manifest) as m:
    for line in m:
        label, _path, check, want = line.rstrip("\n").split("\t")
        expected[(label, check)] = want

counts = collections.Counter()
skipped = collections.Counter()
notes = set()
failures = []
for run in runs:
    verifier, results = run.split("=", 1)
    seen = set()
    with open(results) as r:
        for line in r:
            label, check, got, detail = (line.rstrip("\n").split("\t") + [""])[:4]
            seen.add((label, check))
            alg = label.split(".", 1)[0]
            kind = "tampered" if "tampered" in label else check
            if got == "skip":  # the verifier cannot check this algorithm: neither passed nor failed
                skipped[(verifier, alg, kind)] += 1
                notes.add(f"{verifier}: {alg} not checked: {detail}")
                continue
            want = expected.get((label, check))
            ok = got == want
            counts[(verifier, alg, kind, ok)] += 1
            if not ok:
                failures.append(f"{verifier}: {label} {check}: expected {want}, got {got} {detail}".rstrip())
    wanted = {k for k in expected if verifier != "Mail::DKIM" or k[1] == "verify"}
    for label, check in sorted(wanted - seen):
        failures.append(f"{verifier}: {label} {check}: no result")
        counts[(verifier, label.split(".", 1)[0], check, False)] += 1

print(f"{'verifier':<11} {'alg':<8} {'check':<22} {'passed':>6} {'failed':>6} {'skipped':>7}")
for verifier, alg, kind in sorted({k[:3] for k in counts} | set(skipped)):
    name = {"verify": "signed -> pass", "tampered": "tampered -> fail", "bodyhash": "bh= equals dkimpy's"}[kind]
    print(f"{verifier:<11} {alg:<8} {name:<22} {counts[(verifier, alg, kind, True)]:>6} "
          f"{counts[(verifier, alg, kind, False)]:>6} {skipped[(verifier, alg, kind)]:>7}")
for note in sorted(notes):
    print("NOTE", note)
for failure in failures[:50]:
    print("FAILED", failure)
passed = sum(v for k, v in counts.items() if k[3])
failed = sum(v for k, v in counts.items() if not k[3])
print(f"SKIPPED {sum(skipped.values())}")
print(f"RESULT {passed} {failed}")
sys.exit(1 if failed else 0)
