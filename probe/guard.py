"""The address guard: users' URLs must not reach into the network the workers sit in.

One rule decides which addresses a check may reach (`address_allowed`). It is applied when a
URL is entered (`private_address_error`), by every HTTP request on every redirect hop to the
address it actually connects to (`guarded_session`), and by TCP checks (`vetted_address`),
so DNS cannot rebind between the check and the connection."""

import functools
import ipaddress
import socket
from typing import TYPE_CHECKING, cast
from urllib.parse import urlsplit

import requests
import requests.utils
from requests.adapters import HTTPAdapter
from requests_hardened import Config as HardenedConfig
from requests_hardened import HTTPSession
from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES, InvalidIPAddress
from requests_hardened.ip_filter_adapter import IPFilterAdapter
from urllib3.util.connection import allowed_gai_family

from probe.certificates import CertificateRecordingPool
from probe.target import ProbeTarget

if TYPE_CHECKING:
    from requests.adapters import _HostParams, _PoolKwargs

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Global unicast IPv6 is 2000::/3 (RFC 4291). Everything outside it never is: ::/8 with the
# IPv4-compatible ::a.b.c.d and the translated ::ffff:0:a.b.c.d, NAT64's 64:ff9b::/96 and
# 64:ff9b:1::/48, 5f00::/16, fc00::/7, fe80::/10, site-local fec0::/10, multicast ff00::/8.
_IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")

# What Python 3.11's ipaddress calls global although it is not, or although it leads inside
# a network (listed even where 3.11 already agrees, so the rule does not hang on the Python
# version), and requests-hardened's own list, so its connect-time filter never refuses an
# address this rule allows.
_NOT_PUBLIC = (
    *EXTRA_BLOCKED_NET_RANGES,
    ipaddress.IPv4Network("0.0.0.0/8"),  # "this network"
    ipaddress.IPv4Network("100.64.0.0/10"),  # shared address space (carrier-grade NAT)
    ipaddress.IPv4Network("192.0.0.0/24"),  # IETF protocol assignments
    ipaddress.IPv4Network("198.18.0.0/15"),  # benchmarking
    ipaddress.IPv4Network("240.0.0.0/4"),  # reserved, and the broadcast address
    ipaddress.IPv6Network("2001::/32"),  # Teredo: an IPv4 address and port inside
    ipaddress.IPv6Network("2001:db8::/32"),  # documentation
    ipaddress.IPv6Network("2002::/16"),  # 6to4: an IPv4 address inside (deprecated, RFC 7526)
    ipaddress.IPv6Network("3fff::/20"),  # documentation
)


# Kept per address: ipaddress answers is_global by walking its tables, some 15 us for a
# public IPv4 address, paid by every check and twice by a redirected one.
@functools.lru_cache(maxsize=4096)
def address_allowed(ip: IPAddress, *, allow_loopback: bool) -> bool:
    """Whether a check may connect to `ip`: a globally routable unicast address, or a
    loopback one when `allow_loopback`. The one rule for URLs entered, every HTTP hop and
    TCP checks."""
    ip = _unmapped(ip)
    if allow_loopback and ip.is_loopback:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip not in _IPV6_GLOBAL_UNICAST:
        return False
    # 3.11 calls IPv4 multicast (224.0.0.0/4) global.
    return ip.is_global and not ip.is_multicast and not any(ip in network for network in _NOT_PUBLIC)


def _unmapped(ip: IPAddress) -> IPAddress:
    # ::ffff:a.b.c.d is a.b.c.d to a dual-stack socket: judge (and connect to) the IPv4 one.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def vetted_address(host: str, port: int, *, allow_loopback: bool) -> IPAddress:
    """Resolve `host` once and return the address to connect to, exactly; InvalidIPAddress
    when the rule refuses it, OSError when it does not resolve."""
    # As requests-hardened and urllib3 resolve: the first answer, IPv4 only without IPv6.
    *_, sockaddr = socket.getaddrinfo(host, port, family=allowed_gai_family(), type=socket.SOCK_STREAM)[0]
    ip = _unmapped(ipaddress.ip_address(sockaddr[0]))
    if not address_allowed(ip, allow_loopback=allow_loopback):
        raise InvalidIPAddress(ip)
    return ip


class GuardedAdapter(IPFilterAdapter):  # type: ignore[misc]  # requests-hardened has no types
    """requests-hardened's adapter resolves each request's host (every redirect hop is a
    request of its own) and pins the connection to that address, keeping the name for the
    Host header, SNI and the certificate check; its filter refuses a narrower set of
    addresses than ours, so the pinned address is judged by `address_allowed` too."""

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: bool | str, cert: str | tuple[str, str] | None = None
    ) -> "tuple[_HostParams, _PoolKwargs]":
        host_params, pool_kwargs = cast(
            "tuple[_HostParams, _PoolKwargs]", super().build_connection_pool_key_attributes(request, verify, cert)
        )
        ip = ipaddress.ip_address(host_params["host"].strip("[]"))
        if not address_allowed(ip, allow_loopback=cast(bool, self._allow_loopback)):
            raise InvalidIPAddress(ip)
        return host_params, pool_kwargs


def guarded_session(target: ProbeTarget) -> requests.Session:
    """A session that, unless private targets are allowed, resolves each hop's host, refuses
    an address `address_allowed` does not allow, and connects to exactly the address it
    vetted (so DNS cannot rebind between the check and the connection)."""
    config = HardenedConfig(
        ip_filter_enable=False,  # our adapters below filter instead
        ip_filter_allow_loopback_ips=target.allow_loopback,
        never_redirect=False,
        default_timeout=(target.timeout_seconds, target.timeout_seconds),
    )
    session: requests.Session = HTTPSession(config)
    if not target.allow_private:
        session.mount("http://", GuardedAdapter(is_https_proto=False, allow_loopback=target.allow_loopback))
        session.mount("https://", GuardedAdapter(is_https_proto=True, allow_loopback=target.allow_loopback))
    # Checks go straight to the target: no proxy or .netrc from the worker's environment.
    session.trust_env = False
    for adapter in session.adapters.values():
        # One connection per host is all a check makes (one request at a time, redirects
        # to another host get their own pool). urllib3 fills a new pool's queue with
        # `maxsize` slots and drains them at close, work every check pays for at the
        # default of 10, since every check has a fresh session (docs/benchmarks.md,
        # "Measured costs behind the code").
        # requests-hardened mounts HTTPAdapters (its IPFilterAdapter); the stubs say BaseAdapter.
        cast(HTTPAdapter, adapter).poolmanager.connection_pool_kw["maxsize"] = 1
    pool_manager = cast(HTTPAdapter, session.get_adapter("https://")).poolmanager
    pool_manager.pool_classes_by_scheme = {**pool_manager.pool_classes_by_scheme, "https": CertificateRecordingPool}
    return session


REFUSED_HINT = (
    "checks may only reach public addresses, unless the server is run with ALLOW_PRIVATE_TARGETS=true"
    " (an intranet install, or checking services on your own machine)"
)


def private_address_error(url: str) -> str | None:
    """Say why a URL's host is refused as private, or None when it is public or unresolvable.

    Used when a URL is entered: every address the host resolves to must be allowed (a
    check connects to the first, which may change). Every request checks again, on every
    redirect hop, on the address it actually connects to.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError, UnicodeError):
        return None  # does not resolve now: checks will report it as a DNS failure
    for *_, sockaddr in answers:
        ip = ipaddress.ip_address(sockaddr[0])
        if not address_allowed(ip, allow_loopback=False):
            if is_ip_address(host):
                return f"{host} is a private or reserved address; {REFUSED_HINT}."
            return f"{host} resolves to a private or reserved address ({ip}); {REFUSED_HINT}."
    return None


def is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
