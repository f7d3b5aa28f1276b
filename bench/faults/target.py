"""The site the fault suite's monitors check: answers 200 to every hit and logs each one
(monitor key, region, arrival time), so lost and repeated checks show from the outside."""

import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from bench.servers import BackgroundServer


@dataclass(frozen=True)
class Hit:
    monitor_key: int
    region: str
    at: float  # Unix time the request arrived


class HitHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # the hit log is the log
        pass

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        server: HitTarget = self.server  # type: ignore[assignment]
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        region = query.get("r", "")
        server.record(Hit(int(query.get("m", "-1")), region, time.time()))
        with server.lock:
            server.in_flight[region] += 1
        try:
            # A slow answer keeps checks in flight, so a fault can land in the middle of one.
            if server.delay_seconds:
                time.sleep(server.delay_seconds)
            body = b"ok"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the checking process died mid-check: that is the fault under test
        finally:
            with server.lock:
                server.in_flight[region] -= 1


class HitTarget(BackgroundServer):
    def __init__(self):
        super().__init__(HitHandler)
        self.lock = threading.Lock()
        self.hits: list[Hit] = []
        self.in_flight: Counter = Counter()
        self.delay_seconds = 0.0

    def url(self, monitor_key: int, region: str) -> str:
        return f"http://127.0.0.1:{self.port}/hit?m={monitor_key}&r={region}"

    def record(self, hit: Hit) -> None:
        with self.lock:
            self.hits.append(hit)

    def checks_in_flight(self, region: str) -> int:
        with self.lock:
            return self.in_flight[region]
