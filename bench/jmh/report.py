#!/usr/bin/env python3
"""Prints the JMH results of bench/jmh/run.sh as a table with the ratios issue 2 sets targets for.

Usage: report.py results.json
Medians are over the measurement iterations of the one fork; "spread" is min..max of those iterations.
"""
import json
import statistics
import sys

def key(result):
    name = result["benchmark"].rsplit(".", 2)
    short = name[-2] + "." + name[-1]
    params = result.get("params") or {}
    return short + ("" if not params else " [" + ",".join(f"{k}={v}" for k, v in sorted(params.items())) + "]")


def main(path):
    with open(path) as f:
        results = json.load(f)
    rows = {}
    for r in results:
        raw = [x for fork in r["primaryMetric"]["rawData"] for x in fork]
        rows[key(r)] = (statistics.median(raw), min(raw), max(raw), r["primaryMetric"]["scoreUnit"])

    print(f"{'benchmark':<62} {'median':>12} {'spread (min..max)':>24}  unit")
    for name, (med, lo, hi, unit) in rows.items():
        # ops/s over a 1 MiB buffer is MiB/s.
        extra = f"   = {med:.0f} MiB/s" if "OneMiB" in name else ""
        print(f"{name:<62} {med:>12.1f} {f'{lo:.1f}..{hi:.1f}':>24}  {unit}{extra}")

    print()
    print("Ratios (medians; targets from issue 2)")
    ratio_rows = [
        # (label, numerator, denominator, target)
        ("sign 4 KB RSA-2048 / raw RSA-2048 (provider the Signer uses)",
         "SignerBench.sign [algorithm=rsa,size=4096]", "RawSignatureBench.rsa2048Sha256 [provider={rsa}]", 0.90),
        ("sign 4 KB Ed25519 / raw Ed25519 (provider the Signer uses)",
         "SignerBench.sign [algorithm=ed25519,size=4096]", "RawSignatureBench.ed25519 [provider={ed}]", None),
        ("body hash 1 MiB relaxed / raw SHA-256 1 MiB",
         "BodyHashBench.bodyHashOneMiB [canonicalization=relaxed]", "RawSha256Bench.sha256OneMiB", 0.70),
        ("body hash 1 MiB simple / raw SHA-256 1 MiB",
         "BodyHashBench.bodyHashOneMiB [canonicalization=simple]", "RawSha256Bench.sha256OneMiB", 0.70),
        ("raw RSA-2048 ACCP / SunRsaSign",
         "RawSignatureBench.rsa2048Sha256 [provider=ACCP]", "RawSignatureBench.rsa2048Sha256 [provider=SunRsaSign]", None),
        ("raw Ed25519 BC / SunEC",
         "RawSignatureBench.ed25519 [provider=BC]", "RawSignatureBench.ed25519 [provider=SunEC]", None),
    ]
    providers = signer_providers()
    for label, num, den, target in ratio_rows:
        den = den.format(rsa=providers["rsa"], ed=providers["ed"])
        if num not in rows or den not in rows:
            print(f"  {label:<66} not measured in this run")
            continue
        ratio = rows[num][0] / rows[den][0]
        verdict = "" if target is None else ("  target >= %.2f: %s" % (target, "met" if ratio >= target else "MISSED"))
        print(f"  {label:<66} {ratio:6.3f}{verdict}")


def signer_providers():
    """Which raw rate the signer is compared with: the provider it uses, as SignerBench recorded it."""
    found = {"rsa": "ACCP", "ed": "BC"}
    try:
        with open(sys.argv[1] + ".providers") as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                if k in found and v:
                    found[k] = v
    except FileNotFoundError:
        pass
    return found


if __name__ == "__main__":
    main(sys.argv[1])
