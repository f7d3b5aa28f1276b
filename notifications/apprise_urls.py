"""Apprise channels: reading an Apprise URL, holding its sends to the address guard, and
keeping the URL (tokens and passwords inside) out of everything shown or logged.

Apprise's HTTP plugins post with the module-level `requests` functions, a fresh session
each time, so no guarded session can be handed to them. The guard is applied one level
down instead: while a thread sends an Apprise notification, every connection urllib3
opens in that thread (every redirect hop included) goes to an address resolved and
vetted by probe.guard's rule, exactly that address. Other threads are untouched.
Plugins that do not send through requests (UNGUARDED_SCHEMES) cannot be held to it.
"""

import logging
import re
import threading
from dataclasses import dataclass
from urllib.parse import unquote

import urllib3.util.connection as urllib3_connection
from apprise import Apprise, AppriseAsset, NotifyFormat, NotifyType
from apprise.manager_plugins import NotificationManager
from apprise.plugins.base import NotifyBase
from requests_hardened.ip_filter import InvalidIPAddress

from probe.guard import REFUSED_HINT, private_address_error, vetted_address

# Apprise 1.9.9's plugins that talk through something other than `requests` (SMTP, MQTT,
# XMPP, IRC, SMPP, APRS, syslog, the desktop's own notifiers): the guard cannot vet where
# they connect, so they are refused unless private targets are allowed. tests/test_apprise.py
# reads the plugins' sources to keep this list true.
UNGUARDED_SCHEMES = frozenset(
    {
        "aprs",
        "dbus",
        "gio",
        "glib",
        "gnome",
        "growl",
        "irc",
        "ircs",
        "kde",
        "macosx",
        "mailto",
        "mailtos",
        "mqtt",
        "mqtts",
        "qt",
        "rsyslog",
        "smpp",
        "smpps",
        "syslog",
        "windows",
        "xmpp",
        "xmpps",
    }
)
SERVICES_URL = "https://appriseit.com/services/"

# Apprise's own log lines name hosts, users and tokens: they stay out of the process's log.
# Failures are caught per thread (_ThreadLog) and logged by the delivery code, masked.
_apprise_logger = logging.getLogger("apprise")
_apprise_logger.propagate = False
_apprise_logger.setLevel(logging.WARNING)


class AppriseFailure(Exception):
    """A send that did not arrive; the message is safe to store and show (URL masked)."""


def scheme_of(url: str) -> str:
    scheme, separator, _ = url.partition("://")
    return scheme.lower() if separator else ""


def _plugin(url: str) -> NotifyBase | None:
    asset = AppriseAsset(secure_logging=True, async_mode=False)
    return Apprise.instantiate(url, asset=asset, suppress_exceptions=True)


def _names_a_host(plugin: NotifyBase) -> bool:
    """Whether the plugin's URL names the host it posts to (json://host, gotify://host/…),
    rather than a token for a service's fixed API (tgram://token/chat)."""
    templates: tuple[str, ...] = type(plugin).templates
    return bool(getattr(plugin, "host", None)) and any("{host}" in template for template in templates)


def apprise_url_error(url: str, *, allow_private: bool) -> str | None:
    """Why Apprise cannot send to `url` from here, or None. Never repeats the URL."""
    scheme = scheme_of(url)
    if not scheme or scheme not in NotificationManager():
        return f"Apprise does not know this URL's scheme; see {SERVICES_URL} for the services and their URLs."
    plugin = _plugin(url)
    if plugin is None:
        return f"Apprise cannot read this {scheme}:// URL; see {SERVICES_URL} for its form."
    if not plugin.enabled:
        return f"{scheme}:// needs software this server does not have."
    if allow_private:
        return None
    if scheme in UNGUARDED_SCHEMES:
        return (
            f"{scheme}:// does not send over HTTP, so where it connects cannot be vetted; it is accepted only"
            " when the server runs with ALLOW_PRIVATE_TARGETS=true (for email, use an email channel)."
        )
    if _names_a_host(plugin) and private_address_error(f"http://{plugin.host}/") is not None:
        return f"The URL's host is a private or reserved address; {REFUSED_HINT}."
    return None


@dataclass
class _Guard:
    blocked: str = ""


_sending = threading.local()
_urllib3_create_connection = urllib3_connection.create_connection


def _guarded_create_connection(address, *args, **kwargs):
    guard: _Guard | None = getattr(_sending, "guard", None)
    if guard is not None:
        host, port = address
        try:
            address = (str(vetted_address(host, port, allow_loopback=False)), port)
        except InvalidIPAddress as exc:
            # urllib3 and Apprise turn this into a vague connection error: keep the reason.
            guard.blocked = str(exc)
            raise
    return _urllib3_create_connection(address, *args, **kwargs)


# urllib3's connections look the function up on the module at each connect.
if getattr(urllib3_connection.create_connection, "__name__", "") != _guarded_create_connection.__name__:
    urllib3_connection.create_connection = _guarded_create_connection


class _ThreadLog(logging.Handler):
    """Apprise's warnings and errors raised in one thread (a worker sends several at once)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(record.getMessage())


def masked(text: str, url: str) -> str:
    """`text` without the URL or any piece of it (host, user, password, token, path, query
    value) longer than three characters."""
    text = text.replace(url, "***")
    written = re.split(r"[/:@?&=#,;+\s]+", url.partition("://")[2])
    # As written and percent-decoded: a plugin may log either.
    pieces = {piece for raw in written for piece in (raw, unquote(raw)) if len(piece) > 3}
    for piece in sorted(pieces, key=len, reverse=True):
        text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(piece)}(?![A-Za-z0-9])", "***", text)
    return text


def send(
    url: str, title: str, body: str, notify_type: NotifyType, *, allow_private: bool, timeout_seconds: float
) -> None:
    """Send one notification through Apprise; AppriseFailure (masked) if it did not arrive."""
    scheme = scheme_of(url)
    plugin = _plugin(url)
    if plugin is None:
        raise AppriseFailure(f"apprise: the stored {scheme}:// URL can no longer be read")
    if not allow_private and scheme in UNGUARDED_SCHEMES:
        raise AppriseFailure(f"blocked: {scheme}:// cannot be held to the address guard")
    # The URL may ask for longer (cto=, rto=): never past the alerts' own limit.
    plugin.socket_connect_timeout = min(plugin.socket_connect_timeout, timeout_seconds)
    plugin.socket_read_timeout = min(plugin.socket_read_timeout, timeout_seconds)
    guard = None if allow_private else _Guard()
    log = _ThreadLog()
    _apprise_logger.addHandler(log)
    _sending.guard = guard
    try:
        sent = plugin.notify(body=body, title=title, notify_type=notify_type, body_format=NotifyFormat.TEXT)
    except Exception as exc:  # a plugin's own fault: reported, never with the URL
        raise AppriseFailure(masked(f"apprise: {type(exc).__name__}: {exc}", url)) from None
    finally:
        _sending.guard = None
        _apprise_logger.removeHandler(log)
    if sent:
        return
    if guard is not None and guard.blocked:
        raise AppriseFailure(f"blocked: {guard.blocked} is a private or reserved address")
    reason = log.messages[-1] if log.messages else "the service did not accept the notification"
    raise AppriseFailure(masked(f"apprise: {reason}", url))
