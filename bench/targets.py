"""The sites a benchmark checks: one process serving every kind of answer on loopback, so
its CPU is counted on its own. Each connection is closed after its answer, as a fresh
check's is.

    python -m bench.targets PORT     # /ok  /slow (2-3 s)  /hang (never answers in time)  /status/500
"""

import contextlib
import random
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HANG_SECONDS = 30


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection

    def log_message(self, format, *args):
        pass

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        if self.path.startswith("/slow"):
            time.sleep(random.uniform(2.0, 3.0))
        elif self.path.startswith("/hang"):
            time.sleep(HANG_SECONDS)
        code = 500 if self.path.startswith("/status/500") else 200
        body = b"ok\n"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


def main() -> None:
    server = Server(("127.0.0.1", int(sys.argv[1])), Handler)
    print("ready", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
