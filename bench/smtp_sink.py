"""A recording SMTP sink for the crash suites: the receiving side whose record is the truth for
"delivered". It answers 250 to the final "." only after one line per recipient (relay run, time,
token, recipient) has been appended to its record file and fsynced, so whatever the relay saw
acknowledged is on record. Speaks EHLO/HELO, MAIL, RCPT, DATA (with dot-unstuffing, RFC 5321 §4.5.2), RSET, NOOP, QUIT;
offers 8BITMIME and SIZE, no STARTTLS, no pipelining. Stdlib only (Python 3.11's smtpd is deprecated).
"""
import os
import random
import re
import socketserver
import threading
import time

import dkim

import crashkit

MAX_LINE = 10000
ADDRESS = re.compile(r"^(?:MAIL FROM|RCPT TO):\s*<([^>]*)>", re.I)


class Sink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port, record_path, dnsfunc, defer_rate=0.0):
        """defer_rate: share of RCPT commands answered 451 (the relay must retry only those)."""
        super().__init__(("127.0.0.1", port), _Session)
        self.dnsfunc = dnsfunc
        self.defer_rate = defer_rate
        self.record = open(record_path, "a", buffering=1)
        self.lock = threading.Lock()
        self.run = 1              # stamped on each connection when accepted: which relay run it came from
        self.open_transactions = 0
        self.transactions = 0     # MAIL commands so far
        self.accepted = 0         # messages answered 250 so far
        self.last_accept = 0.0    # time.monotonic() of the latest 250 to a message
        self.delivered = set()    # (token, recipient) pairs on record
        self.dkim_failures = []
        self.without_token = 0
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.shutdown()
        self.server_close()
        self.record.close()

    def snapshot(self):
        with self.lock:
            return {"open": self.open_transactions, "transactions": self.transactions, "accepted": self.accepted,
                    "last_accept": self.last_accept}

    def _opened(self):
        with self.lock:
            self.open_transactions += 1
            self.transactions += 1

    def _closed(self):
        with self.lock:
            self.open_transactions -= 1

    def deliver(self, run, recipients, data):
        """Records the message durably; only then may the caller answer 250. A record line:
        relay run, time.monotonic(), token, recipient."""
        m = crashkit.TRAILER.search(data)
        token = m.group(1).decode() if m else "-"
        with self.lock:
            now = time.monotonic()
            self.record.write("".join("%d %.3f %s %s\n" % (run, now, token, r) for r in recipients))
            self.record.flush()
            os.fsync(self.record.fileno())
            self.delivered.update((token, r) for r in recipients)
            self.accepted += 1
            self.last_accept = now
            if not m:
                self.without_token += 1

    def verify(self, data):
        """DKIM check, after the 250 (it does not widen the window between the 250 and the relay's record)."""
        try:
            ok = dkim.verify(data, dnsfunc=self.dnsfunc)
        except Exception as e:  # dkimpy raises on malformed signatures: a failure like any other
            ok, data = False, repr(e).encode() + b"\n" + data
        if not ok:
            with self.lock:
                self.dkim_failures.append(data[:2000])


class _Session(socketserver.StreamRequestHandler):
    def handle(self):
        sink = self.server
        run = sink.run
        rnd = random.Random()
        mail, rcpts = None, []
        self.reply("220 sink.test ESMTP crash sink")
        try:
            while True:
                line = self.rfile.readline(MAX_LINE)
                if not line:
                    return
                cmd = line.decode("ascii", "replace").rstrip("\r\n")
                verb = cmd[:4].upper()
                if verb == "EHLO":
                    self.reply("250-sink.test\r\n250-8BITMIME\r\n250 SIZE 52428800")
                elif verb == "HELO":
                    self.reply("250 sink.test")
                elif verb == "MAIL" and ADDRESS.match(cmd):
                    if mail is None:
                        sink._opened()
                    mail, rcpts = ADDRESS.match(cmd).group(1), []
                    self.reply("250 2.1.0 ok")
                elif verb == "RCPT" and ADDRESS.match(cmd):
                    if mail is None:
                        self.reply("503 5.5.1 MAIL first")
                    elif rnd.random() < sink.defer_rate:
                        self.reply("451 4.3.0 try this recipient later")
                    else:
                        rcpts.append(ADDRESS.match(cmd).group(1))
                        self.reply("250 2.1.5 ok")
                elif verb == "DATA":
                    if not rcpts:
                        self.reply("503 5.5.1 no valid recipients")
                        continue
                    self.reply("354 end with <CRLF>.<CRLF>")
                    data = self.read_data()
                    if data is None:
                        return  # connection lost in the data: nothing recorded, no reply
                    sink.deliver(run, rcpts, data)
                    mail = None
                    sink._closed()
                    self.reply("250 2.0.0 ok: recorded")
                    sink.verify(data)
                elif verb == "RSET":
                    if mail is not None:
                        mail = None
                        sink._closed()
                    self.reply("250 2.0.0 ok")
                elif verb == "NOOP":
                    self.reply("250 2.0.0 ok")
                elif verb == "QUIT":
                    self.reply("221 2.0.0 bye")
                    return
                else:
                    self.reply("502 5.5.2 not implemented: %s" % cmd[:20])
        except OSError:
            return  # the relay was killed
        finally:
            if mail is not None:
                sink._closed()

    def read_data(self):
        """The message up to CRLF.CRLF with leading dots unstuffed; None if the connection ends first."""
        out = []
        while True:
            line = self.rfile.readline(MAX_LINE)
            if not line:
                return None
            if line == b".\r\n":
                return b"".join(out)
            out.append(line[1:] if line.startswith(b".") else line)

    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")
        self.wfile.flush()
