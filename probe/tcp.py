"""The TCP port check's connection: resolve the host once, vet the address, connect to exactly it.

Plain Python with no Django inside; probe.check turns what happens here into a result.
"""

import socket

from probe.guard import vetted_address


def connect(host: str, port: int, timeout_seconds: float, *, allow_private: bool, allow_loopback: bool) -> None:
    """Open a TCP connection and close it again; raise what went wrong (OSError, or
    InvalidIPAddress for a refused private address)."""
    address = _address(host, port, allow_private=allow_private, allow_loopback=allow_loopback)
    with socket.create_connection((address, port), timeout=timeout_seconds):
        pass


def _address(host: str, port: int, *, allow_private: bool, allow_loopback: bool) -> str:
    # The address is resolved here once and connected to as is, so a DNS answer that
    # changes between the check and the connection gains nothing. The rule is the one the
    # HTTP checks and the URLs entered meet (probe.guard.address_allowed).
    if allow_private:
        *_, sockaddr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        return str(sockaddr[0])
    return str(vetted_address(host, port, allow_loopback=allow_loopback))
