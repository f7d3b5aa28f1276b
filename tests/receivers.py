"""A real HTTP server that receives what we post (webhooks, Slack messages, status page
subscribers' notices) and keeps every request, for the tests to read."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class ReceiverHandler(BaseHTTPRequestHandler):
    """Answers POSTs by path: /hook 200, /fail 500, /flaky/<key>?failures=N 500 N times then
    200, /slow?seconds=S 200 after S seconds. Keeps every request it got."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def do_POST(self):
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        server: Receiver = self.server  # type: ignore[assignment]
        with server.lock:
            server.requests.append({"path": parts.path, "headers": dict(self.headers), "body": body})
            server.hits[parts.path] = server.hits.get(parts.path, 0) + 1
            hits = server.hits[parts.path]
        code = 200
        if parts.path == "/fail":
            code = 500
        elif parts.path.startswith("/flaky/"):
            code = 500 if hits <= int(query.get("failures", "1")) else 200
        elif parts.path == "/slow":
            time.sleep(float(query.get("seconds", "1")))
        self.send_response(code)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ReceiverHandler)
        self.requests: list[dict] = []
        self.hits: dict[str, int] = {}
        self.lock = threading.Lock()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def at(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["path"] == path]


def verified_json(request: dict, secret: str) -> dict:
    """What a receiver does: recompute the signature over the raw body, then parse it."""
    expected = "sha256=" + hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request["headers"]["X-Uptime-Signature"], expected), "bad signature"
    return json.loads(request["body"])
