"""The address guard: users' URLs must not reach into the network the workers sit in.

Checked when a URL is entered (`private_address_error`) and again by every request, on every
redirect hop, on the address it actually connects to (`guarded_session`), so DNS cannot
rebind between the two."""

from typing import cast
from urllib.parse import urlsplit

import requests
import requests.utils
from requests.adapters import HTTPAdapter
from requests_hardened import Config as HardenedConfig
from requests_hardened import HTTPSession
from requests_hardened.ip_filter import InvalidIPAddress, get_ip_address

from probe.certificates import CertificateRecordingPool
from probe.target import ProbeTarget


def guarded_session(target: ProbeTarget) -> requests.Session:
    """A session that, unless private targets are allowed, resolves each hop's host, refuses
    a private, loopback, link-local, multicast or reserved address, and connects to exactly
    the address it vetted (so DNS cannot rebind between the check and the connection)."""
    config = HardenedConfig(
        ip_filter_enable=not target.allow_private,
        ip_filter_allow_loopback_ips=target.allow_loopback,
        never_redirect=False,
        default_timeout=(target.timeout_seconds, target.timeout_seconds),
    )
    session: requests.Session = HTTPSession(config)
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


def private_address_error(url: str) -> str | None:
    """Say why a URL's host is refused as private, or None when it is public or unresolvable.

    Used when a URL is entered; every request checks again, on every redirect hop, on the
    address it actually connects to.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").strip("[]")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        get_ip_address(host, port, allow_loopback=False)
    except InvalidIPAddress as exc:
        return (
            f"{host} is a private or reserved address ({exc})."
            if host == str(exc)
            else (f"{host} resolves to a private or reserved address ({exc}).")
        )
    except (OSError, ValueError, UnicodeError):
        return None  # does not resolve now: checks will report it as a DNS failure
    return None
