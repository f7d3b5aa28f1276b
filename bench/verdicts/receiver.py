"""The alert receiver: a webhook endpoint that checks each alert's signature as a real
receiver would, and keeps when each arrived."""

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from bench.servers import BackgroundServer


@dataclass(frozen=True)
class Alert:
    event: str
    monitor_id: int | None
    delivery: str
    at: float
    signed: bool
    # How many unreachable children the alert lists (a parent's incident).
    children: int = 0


class ReceiverHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def do_POST(self):
        server: AlertReceiver = self.server  # type: ignore[assignment]
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        expected = "sha256=" + hmac.new(server.secret.encode(), body, hashlib.sha256).hexdigest()
        payload = json.loads(body or b"{}")
        monitor = payload.get("monitor") or {}
        server.record(
            Alert(
                event=payload.get("event", ""),
                monitor_id=monitor.get("id"),
                delivery=self.headers.get("X-Uptime-Delivery", ""),
                at=time.time(),
                signed=hmac.compare_digest(expected, self.headers.get("X-Uptime-Signature", "")),
                children=len((payload.get("incident") or {}).get("unreachable_children") or []),
            )
        )
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


class AlertReceiver(BackgroundServer):
    def __init__(self):
        super().__init__(ReceiverHandler)
        self.secret = ""  # the channel's, once it exists
        self.alerts: list[Alert] = []
        self._lock = threading.Lock()

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/alerts"

    def record(self, alert: Alert) -> None:
        with self._lock:
            self.alerts.append(alert)
