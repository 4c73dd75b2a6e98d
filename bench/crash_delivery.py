"""Driver for bench/crash-delivery.sh: the recording sink, clients, SIGKILLs during submission and
delivery, a last clean run that drains the queue, and the checks against the sink's record."""
import collections
import os
import random
import sys
import time

import crashkit
import smtp_sink
import webhook_sink

p = crashkit.arguments("crash test of submission and delivery", kills=50)
p.add_argument("--sink-port", type=int, required=True)
p.add_argument("--record", required=True)
p.add_argument("--concurrency", type=int, required=True, help="delivery.concurrency of the relay's config")
p.add_argument("--defer-rate", type=float, default=0.1, help="share of RCPT commands the sink answers 451")
p.add_argument("--drain", type=float, default=120, help="seconds the last run may take to deliver everything")
p.add_argument("--webhook-fail-rate", type=float, default=0.2, help="share of webhook POSTs answered 503")
args = p.parse_args()
SECRET = "crash-suite-webhook-secret-0123456789"


QUEUE = os.path.join(args.spool, "queue")
CORRUPT = os.path.join(args.spool, "corrupt")
DOMAINS = ("a.sink.test", "b.sink.test")
RECENT = 0.3  # a kill this soon after a sink 250 may fall between that 250 and the relay's record


def recipients(rnd):
    """1 to 3 distinct recipients over two domains: one message can be two concurrent delivery jobs."""
    pool = ["rcpt%d@%s" % (i, d) for d in DOMAINS for i in range(5)]
    return rnd.sample(pool, rnd.randint(1, 3))


def queued():
    return sum(1 for f in os.listdir(QUEUE) if f.endswith(".msg")) if os.path.isdir(QUEUE) else 0


def wait_until(condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not condition():
        time.sleep(0.01)


def crash_rounds(relay, sink, clients):
    """Starts, waits for mail to flow, SIGKILLs; returns one record per kill."""
    kills = []
    started = time.monotonic()
    for n in range(1, args.kills + 1):
        relay.start()
        # Half the kills aim at submission (just after a client's 250, while others are in DATA or
        # waiting for the spool's fsync), half at delivery (just after the sink saw a new MAIL).
        aim = random.choice(("submission", "delivery"))
        if aim == "submission":
            before = clients.acked_count()
            wait_until(lambda: clients.acked_count() > before, 10)
            time.sleep(random.uniform(0.0, 0.5))
        else:
            before = sink.snapshot()["transactions"]
            wait_until(lambda: sink.snapshot()["transactions"] > before, 10)
            time.sleep(random.uniform(0.0, 0.3))
        at = sink.snapshot()
        now = time.monotonic()
        relay.kill()
        with sink.lock:
            sink.run = n + 1  # connections accepted from now on belong to the next run
        phase = ("sink transaction open" if at["open"] else
                 "sink 250 just before" if now - at["last_accept"] < RECENT else "no delivery in flight")
        kills.append({"run": n, "at": now, "aim": aim, "phase": phase})
        print("kill %2d at %5.1f s (aimed at %-10s): %-21s %5d acknowledged, %5d sink deliveries, %4d in queue/"
              % (n, now - started, aim, phase, clients.acked_count(), at["accepted"], queued()), flush=True)
    return kills


def expected_events(acked):
    """(type, queue id, recipient) the webhook must have seen: accepted and delivered per acknowledged recipient."""
    return {(kind, qid, r) for _, (qid, rcpts) in acked.items() for r in rcpts for kind in ("accepted", "delivered")}


def missing_events(hook, acked):
    seen = {(e["type"], e["queue_id"], e["recipient"]) for e in hook.snapshot()}
    return expected_events(acked) - seen


def drain(relay, sink, clients, hook):
    """The last run: no clients; ends when every acknowledged recipient is on record, queue/ is empty, and
    the webhook has every acknowledged recipient's accepted and delivered events."""
    clients.stop()
    relay.start()
    started = time.monotonic()
    wanted = {(t, r) for t, (_, rcpts) in clients.snapshot().items() for r in rcpts}
    acked = clients.snapshot()

    def done():
        with sink.lock:
            missing = not wanted <= sink.delivered
        return not missing and queued() == 0 and not missing_events(hook, acked)

    wait_until(done, args.drain)
    took = time.monotonic() - started
    drained = done()
    time.sleep(0.5)  # let the relay finish its bookkeeping after the last 250
    return took if drained else None, relay.terminate(60)


def read_record():
    """(token, recipient) -> [(run, time)] of every copy the sink recorded, in order."""
    copies = collections.defaultdict(list)
    with open(args.record) as f:
        for line in f:
            run, at, token, rcpt = line.split()
            copies[(token, rcpt)].append((int(run), float(at)))
    return copies


def duplicates(copies, kills):
    """Every copy but the last of a recipient must come from a run that ended in a SIGKILL (the kill
    fell between the sink's 250 and the relay's record of it), at most one such copy per run, and a
    run can leave at most delivery.concurrency transactions (message, domain) unrecorded."""
    killed = {k["run"]: k for k in kills}
    problems, extra, per_run, gaps = [], 0, collections.defaultdict(set), []
    for (token, rcpt), runs in copies.items():
        if len(runs) < 2 or token == "-":
            continue
        extra += len(runs) - 1
        earlier = runs[:-1]
        for i, (run, at) in enumerate(earlier):
            if run not in killed:
                problems.append("token %s to %s delivered again after run %d, which was not killed" % (token, rcpt, run))
            elif runs[i + 1][0] == run:
                problems.append("token %s to %s delivered twice within run %d" % (token, rcpt, run))
            else:
                per_run[run].add((token, rcpt.rsplit("@", 1)[1]))
                gaps.append(killed[run]["at"] - at)
    for run, jobs in per_run.items():
        if len(jobs) > args.concurrency:
            problems.append("run %d left %d transactions unrecorded, more than delivery.concurrency %d"
                            % (run, len(jobs), args.concurrency))
    most = max((len(j) for j in per_run.values()), default=0)
    return extra, sum(len(j) for j in per_run.values()), len(per_run), most, max(gaps, default=0.0), problems


def leftovers(acked):
    """Acknowledged messages still in queue/ or in corrupt/ after the queue drained (an .env left by
    a kill during a removal is deleted by the next start, so nothing of theirs may be left)."""
    by_qid = {qid: t for t, (qid, _) in acked.items()}
    problems = []
    for where in (QUEUE, CORRUPT):
        for f in sorted(os.listdir(where)) if os.path.isdir(where) else []:
            qid = f.split(".")[0]
            if qid in by_qid:
                problems.append("acknowledged message %s (token %s) left as %s/%s"
                                % (qid, by_qid[qid], os.path.basename(where), f))
    return problems


def main():
    dnsfunc = crashkit.dnsfunc(args.pubkey)
    sink = smtp_sink.Sink(args.sink_port, args.record, dnsfunc, args.defer_rate)
    sink.start()
    hook = webhook_sink.WebhookSink(SECRET, args.webhook_fail_rate)
    hook.start()
    with open(args.config, "a") as f:  # the event store and its webhook join the suite
        f.write("events.webhooks: [{url: '%s', secret: '%s'}]\n" % (hook.url, SECRET))
    relay = crashkit.Relay(args)
    clients = crashkit.Clients(args.port, args.clients, recipients)
    started = time.monotonic()
    try:
        clients.start()
        kills = crash_rounds(relay, sink, clients)
        drained, exit_code = drain(relay, sink, clients, hook)
    finally:
        clients.stop(5)
        relay.kill()
        sink.stop()
        hook.stop()
    acked = clients.snapshot()
    copies = read_record()
    wanted = [(t, r) for t, (_, rcpts) in acked.items() for r in rcpts]
    lost = [(t, r) for t, r in wanted if (t, r) not in copies]
    extra, dup_jobs, dup_runs, most, gap, failures = duplicates(copies, kills)
    failures += leftovers(acked)
    failures += ["acknowledged token %s never delivered to %s" % tr for tr in lost]
    failures += ["DKIM verification failed at the sink: %r" % d[:300] for d in sink.dkim_failures]
    events = hook.snapshot()
    lost_events = missing_events(hook, acked)
    failures += ["event %s for %s to %s never reached the webhook" % e for e in sorted(lost_events)]
    if hook.bad_signatures:
        failures.append("%d webhook POSTs with a bad Signet-Signature" % hook.bad_signatures)
    ids = collections.Counter(e["id"] for e in events)
    if drained is None:
        failures.append("the last run did not deliver everything within %.0f s" % args.drain)
    if exit_code not in (0, 143):  # 143: the JVM's exit status after its shutdown hooks ran on SIGTERM
        failures.append("the last run did not stop cleanly on SIGTERM: %s" % exit_code)
    phases = collections.Counter(k["phase"] for k in kills)
    aims = collections.Counter(k["aim"] for k in kills)
    unacked = len({t for t, _ in copies} - set(acked) - {"-"})
    print("crash-delivery: %d SIGKILLs in %.0f s (aimed %d at submission, %d at delivery; at the kill: %d with a "
          "sink transaction open, %d within %.1f s after a sink 250, %d with no delivery in flight), %d clients, "
          "delivery.concurrency %d, %.0f%% of RCPTs deferred by the sink; %d messages sent, %d acknowledged (250) "
          "for %d recipients; sink: %d messages, %d recipient copies, %d of them for %d messages never acknowledged "
          "(250 lost in a kill); last run drained the queue in %s; %d acknowledged recipients lost; "
          "%d duplicate copies in %d transactions after %d of the kills, at most %d after one (bound: %d per kill = "
          "delivery.concurrency, %d in all; first copy at most %.2f s before its kill); %d DKIM failures at the sink; "
          "client connection errors %d; webhook: %d POSTs (%d answered 503 on purpose), %d events, %d distinct ids, "
          "%d of the %d expected accepted/delivered events lost"
          % (len(kills), time.monotonic() - started, aims["submission"], aims["delivery"],
             phases["sink transaction open"], phases["sink 250 just before"], RECENT, phases["no delivery in flight"],
             args.clients, args.concurrency, 100 * args.defer_rate, clients.stats["sent"], len(acked), len(wanted),
             sink.accepted, sum(len(c) for c in copies.values()),
             sum(len(c) for (t, _), c in copies.items() if t not in acked), unacked,
             "%.1f s" % drained if drained is not None else "NOT within %.0f s" % args.drain, len(lost),
             extra, dup_jobs, dup_runs, most, args.concurrency, len(kills) * args.concurrency, gap,
             len(sink.dkim_failures), clients.stats["errors"], hook.posts, hook.refused, len(events), len(ids),
             len(lost_events), len(expected_events(acked))))
    if sink.without_token:
        failures.append("%d messages at the sink without a token (bounces or damaged mail)" % sink.without_token)
    if not acked:
        failures.append("no message was acknowledged at all")
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures[:50]) + ("\n  ..." if len(failures) > 50 else ""))
        sys.exit(1)
    print("crash-delivery: OK")


crashkit.exit_on_sigterm()
main()
