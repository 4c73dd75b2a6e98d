"""Driver for bench/crash-submission.sh: clients, SIGKILLs, and the spool checks after each kill."""
import os
import random
import sys
import time

import dkim

import crashkit

args = crashkit.arguments("crash test of the submission path", kills=20).parse_args()
QUEUE = os.path.join(args.spool, "queue")
CORRUPT = os.path.join(args.spool, "corrupt")
TMP = os.path.join(args.spool, "tmp")
dnsfunc = crashkit.dnsfunc(args.pubkey)
clients = crashkit.Clients(args.port, args.clients)
verified = set()


def check_spool(final=False):
    """The spool as the next start finds it. Returns problems (empty = good) and counts."""
    problems = []
    files = set(os.listdir(QUEUE))
    msgs = {f[:-4] for f in files if f.endswith(".msg")}
    others = sorted(f for f in files if not f.endswith(".msg"))
    # Only the scheduler writes an .env (after a delivery attempt; none here can succeed). The spool's
    # slots (.slot-*, or .spare-* on a file system that may let a file's size run ahead of its data) are
    # empty files for lone messages; one holds a message only between that message's write and its
    # rename to its .msg (the next start renames or deletes a slot's, deletes a spare's). A clean stop
    # deletes them. No other file belongs in queue/: an unacknowledged message never leaves tmp/.
    for f in others:
        if f.startswith((".slot-", ".spare-")):
            if final:
                problems.append("%s: slot left after a clean stop" % f)
            continue
        if not f.endswith(".env"):
            problems.append("%s: unexpected file in queue/" % f)
    orphans = os.listdir(TMP) if os.path.isdir(TMP) else []  # unacknowledged: emptied at the next start
    snapshot = clients.snapshot()
    acknowledged = {qid for qid, _ in snapshot.values()}
    unfinished = 0
    for qid in msgs:
        with open(os.path.join(QUEUE, qid + ".msg"), "rb") as f:
            env, eml = crashkit.split_spooled(qid, f.read())
        if env is None:
            problems.append("%s: %s" % (qid, eml))
            continue
        if not crashkit.TRAILER.search(eml):
            problems.append("%s: message does not end with its trailer" % qid)
            continue
        header = eml.split(b"\r\n\r\n", 1)[0]
        if b"\0" in header:
            # Written alone, its signatures computed while its fsync ran, and killed before they were
            # written over their placeholders: never acknowledged (the 250 waits for them), and the next
            # start signs it again (Spool.finish). Checked once a start has done that.
            if qid in acknowledged or final:
                problems.append("%s: DKIM placeholders in the header block (%s)" % (
                    qid, "acknowledged" if qid in acknowledged else "not filled in by the last start"))
            unfinished += 1
            continue
        if qid not in verified:
            if not dkim.verify(eml, dnsfunc=dnsfunc):
                problems.append("%s: DKIM signature does not verify" % qid)
            verified.add(qid)
    for t, (qid, _) in snapshot.items():
        if qid not in msgs:
            problems.append("acknowledged message %s (token %s) is not in the spool" % (qid, t))
    return problems, len(msgs), len(orphans), len(snapshot), unfinished


def main():
    relay = crashkit.Relay(args)
    started = time.time()
    clients.start()
    failures = []
    unfinished_total = 0
    try:
        for round_ in range(1, args.kills + 1):
            relay.start()
            # Kill while mail flows: after the first new 250 of this run (or 10 s), at a random moment.
            before = clients.acked_count()
            deadline = time.time() + 10
            while time.time() < deadline and clients.acked_count() == before:
                time.sleep(0.01)
            time.sleep(random.uniform(0.0, 1.0))
            relay.kill()
            problems, queued, orphans, acked_n, unfinished = check_spool()
            unfinished_total += unfinished
            print("kill %2d: %5d acknowledged so far, %5d in queue/, %d unacknowledged leftovers in tmp/, "
                  "%d unacknowledged with signatures to fill in" % (round_, acked_n, queued, orphans, unfinished),
                  flush=True)
            failures += ["after kill %d: %s" % (round_, p) for p in problems]
        # a last clean run: recovery, then a graceful stop
        relay.start()
        time.sleep(1.0)
        clients.stop()
        relay.terminate(30)
    finally:
        relay.kill()
    problems, queued, orphans, acked_n, _ = check_spool(final=True)
    failures += ["final: %s" % p for p in problems]
    corrupt = len(os.listdir(CORRUPT)) if os.path.isdir(CORRUPT) else 0
    print("crash-submission: %d SIGKILLs in %.0f s, %d clients; %d messages sent, %d acknowledged (250), "
          "%d in the spool, %d DKIM-verified, %d acknowledged messages missing, %d leftovers moved to corrupt/ "
          "by recovery (never acknowledged), %d unacknowledged left with signatures to fill in (signed again at the "
          "next start, then verified), client connection errors %d"
          % (args.kills, time.time() - started, args.clients, clients.stats["sent"], acked_n, queued, len(verified),
             sum(1 for f in failures if "not in the spool" in f), corrupt, unfinished_total, clients.stats["errors"]))
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures[:50]))
        sys.exit(1)
    if acked_n == 0:
        print("FAILED: no message was acknowledged at all")
        sys.exit(1)
    print("crash-submission: OK")


crashkit.exit_on_sigterm()
main()
