#!/usr/bin/python3
"""Builds the interop manifest from the signed messages: for every signed file, the untampered
copy must verify, a copy with one body byte changed and a copy with one signed-header (From) byte
changed must not, and (dkimpy only) our bh= must equal dkimpy's body hash for the same c=.

usage: cases.py SIGNED_DIR TAMPER_DIR > manifest.tsv
manifest columns: label, file, check (verify|bodyhash), expected (pass|fail)
"""
import os
import re
import sys

signed_dir, tamper_dir = sys.argv[1], sys.argv[2]
os.makedirs(tamper_dir, exist_ok=True)


def split(message):
    sep = message.find(b"\r\n\r\n")
    return (message, b"") if sep < 0 else (message[:sep + 4], message[sep + 4:])


def tamper_body(message):
    head, body = split(message)
    m = re.search(rb"[A-Za-z0-9]", body)
    if m is None:  # empty or blank body: one added letter is the smallest non-whitespace change
        return head + body + b"x\r\n"
    i = m.start()
    return head + body[:i] + (b"b" if body[i:i + 1] == b"a" else b"a") + body[i + 1:]


def tamper_from(message):
    head, body = split(message)
    m = re.search(rb"\r\nfrom:[^\r\n]*?(.)@", head, re.IGNORECASE)
    if m is None:
        raise SystemExit("no From field with an address in a signed message")
    i = m.start(1)
    return head[:i] + (b"f" if head[i:i + 1] == b"e" else b"e") + head[i + 1:] + body


for name in sorted(os.listdir(signed_dir)):
    path = os.path.join(signed_dir, name)
    with open(path, "rb") as f:
        message = f.read()
    print(f"{name}\t{path}\tverify\tpass")
    print(f"{name}\t{path}\tbodyhash\tpass")
    for kind, change in (("body", tamper_body), ("from", tamper_from)):
        out = os.path.join(tamper_dir, f"{name}.tampered-{kind}")
        with open(out, "wb") as f:
            f.write(change(message))
        print(f"{name} tampered-{kind}\t{out}\tverify\tfail")
