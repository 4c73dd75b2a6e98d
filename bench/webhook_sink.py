"""A webhook receiver for the crash suite: what an application's endpoint does (README "Delivery
events"): checks each POST's Signet-Signature (HMAC-SHA256 over "t.body" with the shared secret, t
within 5 minutes), parses the JSON array and keeps every event. It answers 503 to a share of the
POSTs, so the relay's retries are exercised along with its kills. Stdlib only; loopback only."""
import hashlib
import hmac
import http.server
import json
import random
import threading
import time


class WebhookSink(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, secret, fail_rate=0.2):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.secret = secret.encode()
        self.fail_rate = fail_rate
        self.lock = threading.Lock()
        self.events = []          # every event received (duplicates included)
        self.posts = 0
        self.refused = 0          # answered 503 on purpose
        self.bad_signatures = 0
        self.thread = None

    @property
    def url(self):
        return "http://127.0.0.1:%d/hook" % self.server_address[1]

    def start(self):
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.shutdown()
        self.server_close()

    def verify(self, header, body):
        fields = dict(part.split("=", 1) for part in (header or "").split(",") if "=" in part)
        if "t" not in fields or "v1" not in fields or abs(time.time() - int(fields["t"])) > 300:
            return False
        mac = hmac.new(self.secret, fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(mac, fields["v1"])

    def snapshot(self):
        with self.lock:
            return list(self.events)


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        sink = self.server
        with sink.lock:
            sink.posts += 1
        if not sink.verify(self.headers.get("Signet-Signature"), body):
            with sink.lock:
                sink.bad_signatures += 1
            self.send_response(401)
        elif random.random() < sink.fail_rate:
            with sink.lock:
                sink.refused += 1
            self.send_response(503)
        else:
            events = json.loads(body)
            with sink.lock:
                sink.events.extend(events)
            self.send_response(204)
        self.end_headers()
