"""A webhook receiver for the notifications tests, checking every delivery with the
Standard Webhooks reference implementation (the `standardwebhooks` package).

Usage: receiver.py SECRETS_JSON. Listens on 127.0.0.1 (a free port, printed first as
`port N`); SECRETS_JSON maps a path to the secrets that may sign for it (read on each
request, so the test can write it after the endpoints exist). Each path behaves:
  /ok        204
  /flaky     500 for the first 8 requests, then 204
  /slow      answers nothing for 30 s
  /throttle  429 with Retry-After: 1 the first time, then 200
  /gone      410
  /2010-04-01/Accounts/<sid>/Messages.json  an SMS provider with Twilio's message API:
             201 with the message (basic auth must be <sid>:tok), 401 otherwise
Each request is printed as a JSON line: path, webhook id, verified, and the time.
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRETS = sys.argv[1]
COUNTS = {}
LOCK = threading.Lock()


def say(record):
    """One JSON line, whole: print() from several threads can interleave a line's text
    with another's."""
    line = json.dumps(record) + "\n"
    with LOCK:
        sys.stdout.write(line)
        sys.stdout.flush()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.path.startswith("/2010-04-01/Accounts/"):
            return self.sms(body)
        with LOCK:
            COUNTS[self.path] = COUNTS.get(self.path, 0) + 1
            n = COUNTS[self.path]
        try:
            with open(SECRETS) as f:
                secrets = json.load(f).get(self.path, [])
        except FileNotFoundError:
            secrets = []
        headers = {k: v for k, v in self.headers.items()}
        verified, errors = False, []
        for secret in secrets:
            try:
                Webhook(secret).verify(body, headers)
                verified = True
                break
            except WebhookVerificationError as e:
                errors.append(str(e))
        say({"path": self.path, "id": self.headers.get("webhook-id"), "n": n,
             "verified": verified, "errors": errors, "t": time.time(),
             "signatures": len(self.headers.get("webhook-signature", "").split(" ")),
             "body": body.decode()})
        if self.path == "/slow":
            time.sleep(30)
            return
        status, extra = 204, {}
        if self.path == "/flaky" and n <= 8:
            status = 500
        elif self.path == "/throttle" and n == 1:
            status, extra = 429, {"Retry-After": "1"}
        elif self.path == "/gone":
            status = 410
        elif self.path == "/throttle":
            status = 200
        self.send_response(status)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


    def sms(self, body):
        import base64
        from urllib.parse import parse_qs
        sid = self.path.split("/")[3]
        expected = "Basic " + base64.b64encode(f"{sid}:tok".encode()).decode()
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        authorized = self.headers.get("authorization") == expected
        say({"sms": form, "authorized": authorized, "t": time.time()})
        status = 201 if authorized else 401
        answer = json.dumps({"sid": "SM" + str(int(time.time() * 1000)), "status": "queued", "to": form.get("To")}).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"port {server.server_address[1]}", flush=True)
server.serve_forever()
