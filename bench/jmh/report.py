#!/usr/bin/env python3
"""Prints the JMH results of bench/jmh/run.sh as a table with the ratios the signing targets are
set for (docs/ARCHITECTURE.md, "Signing providers").

Usage: report.py [--providers FILE] round1.json [round2.json ...]
Each JSON is one pass over the suite ("round"). Per benchmark: the median over every measurement iteration of
every round, and the spread (min..max) of those iterations. Per ratio: the ratio within each round (numerator
and denominator measured in the same pass, minutes apart at most), and the median of those per-round ratios.
Two kinds of rate: ops per wall-clock second (JMH's score) and ops per CPU-second of the benchmark thread (from
CpuMeter, the file next to each JSON with the .cpu suffix): on a shared machine the second is the one to trust.
"""
import json
import statistics
import sys


def key(result):
    name = result["benchmark"].rsplit(".", 2)
    short = name[-2] + "." + name[-1]
    params = result.get("params") or {}
    return short + ("" if not params else " [" + ",".join(f"{k}={v}" for k, v in sorted(params.items())) + "]")


def load(path):
    with open(path) as f:
        return {key(r): [x for fork in r["primaryMetric"]["rawData"] for x in fork] for r in json.load(f)}


def load_cpu(path):
    """Ops per CPU-second of the benchmark thread, per measurement iteration, from CpuMeter's file."""
    rates = {}
    try:
        with open(path[: -len(".json")] + ".cpu") as f:
            for line in f:
                name, ops, nanos = line.rstrip("\n").split("\t")
                if int(nanos) > 0:
                    rates.setdefault(name, []).append(int(ops) * 1e9 / int(nanos))
    except FileNotFoundError:
        pass
    return rates


RATIOS = [
    # (label, numerator, denominator, target)
    ("sign 4 KB RSA-2048 / raw RSA-2048 (provider the Signer uses)",
     "SignerBench.sign [algorithm=rsa,size=4096]", "RawSignatureBench.rsa2048Sha256 [provider={rsa}]", 0.90),
    ("sign 4 KB RSA-2048 / raw RSA-2048 with fresh initSign per sign",
     "SignerBench.sign [algorithm=rsa,size=4096]", "RawSignatureBench.rsa2048Sha256FreshInit [provider={rsa}]", None),
    ("sign 4 KB Ed25519 / raw Ed25519 (provider the Signer uses)",
     "SignerBench.sign [algorithm=ed25519,size=4096]", "RawSignatureBench.ed25519 [provider={ed}]", None),
    ("body hash 1 MiB relaxed, mixed text / raw SHA-256 1 MiB",
     "BodyHashBench.bodyHashOneMiB [canonicalization=relaxed,scan=simd,text=mixed]", "RawSha256Bench.sha256OneMiB", 0.70),
    ("body hash 1 MiB relaxed, plain text / raw SHA-256 1 MiB",
     "BodyHashBench.bodyHashOneMiB [canonicalization=relaxed,scan=simd,text=plain]", "RawSha256Bench.sha256OneMiB", 0.70),
    ("  the same, mixed text, SIMD runs only (-Dsignet.simd.blocks=false)",
     "BodyHashBench.bodyHashOneMiB [canonicalization=relaxed,scan=simd-runs,text=mixed]", "RawSha256Bench.sha256OneMiB", None),
    ("  the same, plain text, SIMD runs only (-Dsignet.simd.blocks=false)",
     "BodyHashBench.bodyHashOneMiB [canonicalization=relaxed,scan=simd-runs,text=plain]", "RawSha256Bench.sha256OneMiB", None),
    ("  the same, mixed text, eight-byte scan (-Dsignet.simd=false)",
     "BodyHashBench.bodyHashOneMiB [canonicalization=relaxed,scan=scalar,text=mixed]", "RawSha256Bench.sha256OneMiB", None),
    ("  the same, plain text, eight-byte scan (-Dsignet.simd=false)",
     "BodyHashBench.bodyHashOneMiB [canonicalization=relaxed,scan=scalar,text=plain]", "RawSha256Bench.sha256OneMiB", None),
    ("body hash 1 MiB simple, mixed text / raw SHA-256 1 MiB",
     "BodyHashBench.bodyHashOneMiB [canonicalization=simple,scan=simd,text=mixed]", "RawSha256Bench.sha256OneMiB", 0.70),
    ("body hash 1 MiB simple, plain text / raw SHA-256 1 MiB",
     "BodyHashBench.bodyHashOneMiB [canonicalization=simple,scan=simd,text=plain]", "RawSha256Bench.sha256OneMiB", 0.70),
    ("raw RSA-2048 ACCP / SunRsaSign",
     "RawSignatureBench.rsa2048Sha256 [provider=ACCP]", "RawSignatureBench.rsa2048Sha256 [provider=SunRsaSign]", None),
    ("raw Ed25519 BC / SunEC",
     "RawSignatureBench.ed25519 [provider=BC]", "RawSignatureBench.ed25519 [provider=SunEC]", None),
]


def providers(path):
    """Which raw rate the signer is compared with: the provider it uses, as SignerBench recorded it."""
    found = {"rsa": "ACCP", "ed": "BC", "signer": "(not recorded: SignerBench did not run)"}
    if path:
        try:
            with open(path) as f:
                for line in f:
                    k, _, v = line.strip().partition("=")
                    if k in found and v:
                        found[k] = v
        except FileNotFoundError:
            pass
    return found


def main(argv):
    provider_file = None
    if argv and argv[0] == "--providers":
        provider_file, argv = argv[1], argv[2:]
    rounds = [load(p) for p in argv]
    cpu_rounds = [load_cpu(p) for p in argv]
    names = list(dict.fromkeys(n for r in rounds for n in r))

    print(f"{'benchmark':<62} {'ops/wall-s':>10} {'(min..max)':>18} {'ops/CPU-s':>10} {'(min..max)':>18}")
    for name in names:
        raw = [x for r in rounds for x in r.get(name, [])]
        cpu = [x for r in cpu_rounds for x in r.get(name, [])]
        med = statistics.median(raw)
        cells = f"{name:<62} {med:>10.1f} {f'{min(raw):.1f}..{max(raw):.1f}':>18}"
        if cpu:
            cells += f" {statistics.median(cpu):>10.1f} {f'{min(cpu):.1f}..{max(cpu):.1f}':>18}"
        # ops/s over a 1 MiB buffer is MiB/s.
        if "OneMiB" in name:
            cells += f"  = {med:.0f} MiB/s" + (f" wall, {statistics.median(cpu):.0f} MiB/s CPU" if cpu else "")
        print(cells)

    p = providers(provider_file)
    print()
    print(f"Signer providers: {p['signer']}")
    for kind, data in (("per wall-clock second", rounds), ("per CPU-second of the benchmark thread", cpu_rounds)):
        if not any(data):
            continue
        print()
        print(f"Ratios of rates {kind}: median of the per-round ratios of medians ({len(data)} rounds; per round in brackets)")
        for label, num, den, target in RATIOS:
            den = den.format(rsa=p["rsa"], ed=p["ed"])
            per_round = [statistics.median(r[num]) / statistics.median(r[den]) for r in data if num in r and den in r]
            if not per_round:
                print(f"  {label:<66} not measured")
                continue
            ratio = statistics.median(per_round)
            verdict = "" if target is None else ("  target >= %.2f: %s" % (target, "met" if ratio >= target else "MISSED"))
            print(f"  {label:<66} {ratio:6.3f} [{', '.join(f'{x:.2f}' for x in per_round)}]{verdict}")


if __name__ == "__main__":
    main(sys.argv[1:])
