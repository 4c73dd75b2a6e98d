#!/usr/bin/python3
"""dkimpy verifier for the interop manifest; keys come from the DNS server at 127.0.0.1:PORT.

usage: dkimpy_verify.py PORT MANIFEST  -> prints: label, check, result (pass|fail), detail
"""
import base64
import hashlib
import re
import sys

import dkim
import dkim.util
import dns.resolver
from dkim.canonicalization import CanonicalizationPolicy

port, manifest = int(sys.argv[1]), sys.argv[2]
resolver = dns.resolver.Resolver(configure=False)
resolver.nameservers = ["127.0.0.1"]
resolver.port = port
resolver.lifetime = 5


def dnsfunc(name, timeout=5):
    """RFC 6376 section 3.6.2.2: the TXT strings of one record are concatenated."""
    if isinstance(name, bytes):
        name = name.decode()
    try:
        answer = resolver.resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return None
    return b"".join(answer[0].strings)


def verify(message):
    d = dkim.DKIM(message)
    try:
        ok = d.verify(dnsfunc=dnsfunc)
        return ok, "" if ok else "signature did not verify"
    except dkim.DKIMException as e:
        return False, str(e)


def bodyhash(message):
    """Our bh= against dkimpy's own canonicalization + SHA-256 of the body (RFC 6376 section 3.7)."""
    headers, body = dkim.rfc822_parse(message)
    sig = next(v for k, v in headers if k.lower() == b"dkim-signature")
    tags = dkim.util.parse_tag_value(sig)
    policy = CanonicalizationPolicy.from_c_value(tags.get(b"c", b"simple/simple"))
    theirs = base64.b64encode(hashlib.sha256(policy.canonicalize_body(body)).digest())
    ours = re.sub(rb"\s", b"", tags[b"bh"])
    return ours == theirs, "" if ours == theirs else f"bh={ours.decode()} dkimpy={theirs.decode()}"


with open(manifest) as m:
    for line in m:
        label, path, check, _expected = line.rstrip("\n").split("\t")
        with open(path, "rb") as f:
            message = f.read()
        ok, detail = (verify if check == "verify" else bodyhash)(message)
        print(f"{label}\t{check}\t{'pass' if ok else 'fail'}\t{detail}", flush=True)
