"""A local HTTP server run on a thread of its own, for the benchmarks' targets and receivers."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class BackgroundServer(ThreadingHTTPServer):
    """Serves on 127.0.0.1 on a free port while used as a context manager."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]):
        super().__init__(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
