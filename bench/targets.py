"""The sites a benchmark checks: one process serving every kind of answer on loopback, so
its CPU is counted on its own. Each connection is closed after its answer, as a fresh
check's is.

    python -m bench.targets PORT     # /ok  /slow (2-3 s)  /hang (never answers in time)  /status/500

An asyncio server, not http.server's thread per connection: at hundreds of checks a second,
with the slow and hanging ones holding their connections, the targets must cost little
next to what is measured.
"""

import asyncio
import contextlib
import random
import sys

# Longer than any benchmark monitor's timeout (4 s), so these checks time out; not much
# longer, so the connections they hold do not pile up.
HANG_SECONDS = 8
MAX_REQUEST_BYTES = 16 * 1024


def answer(code: int) -> bytes:
    reason = {200: "OK", 500: "Internal Server Error"}[code]
    return f"HTTP/1.0 {code} {reason}\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n".encode()


OK, ERROR = answer(200), answer(500)


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        path = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b"/"
        if path.startswith(b"/slow"):
            await asyncio.sleep(random.uniform(2.0, 3.0))
        elif path.startswith(b"/hang"):
            await asyncio.sleep(HANG_SECONDS)
        writer.write(ERROR if path.startswith(b"/status/500") else OK)
        await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def main(port: int) -> None:
    server = await asyncio.start_server(serve, "127.0.0.1", port, backlog=4096, limit=MAX_REQUEST_BYTES)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(int(sys.argv[1])))
