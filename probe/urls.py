"""The rules a target's URL must meet before anything is checked or posted to it: its shape,
a host that can resolve, and (unless private targets are allowed) the address guard. Shared
by monitors' and channels' validation; no Django."""

import re
import unicodedata
from urllib.parse import SplitResult, urlsplit

import idna

from probe.guard import is_ip_address, private_address_error

MAX_URL_LENGTH = 2000
MAX_HOST_LENGTH = 253  # a DNS name's 255 octets on the wire, written out
MAX_LABEL_LENGTH = 63

# What a label of a name that resolves is made of. The underscore is not in the host-name
# rules, but DNS carries it and some internal names use it, and requests sends it as is.
_ASCII_LABEL = re.compile(r"[a-z0-9_-]+")
# A last label like these makes a number of the host (1.2.3, 0x7f.1, 2130706433): no
# top-level domain is numeric, and resolvers read such hosts as IPv4 addresses written oddly.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")

_CHARACTER_NAMES = {" ": "a space", "\t": "a tab", "\n": "a line feed (U+000A)", "\r": "a carriage return (U+000D)"}


def url_error(url: str, *, tcp: bool = False, allow_private: bool = False) -> str | None:
    """Say what is wrong with an http(s):// URL (or a tcp://host:port one), or None."""
    if len(url) > MAX_URL_LENGTH:
        return f"URL must be at most {MAX_URL_LENGTH} characters."
    # Before parsing: urlsplit drops tabs and line breaks, and would judge another URL.
    if (message := _character_error(url)) is not None:
        return message
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError:
        return "Enter a valid URL."
    if tcp:
        if (message := _tcp_target_error(parts)) is not None:
            return message
    elif parts.scheme not in {"http", "https"}:
        hint = " (for a TCP port check, set kind to tcp)" if parts.scheme == "tcp" else ""
        return f"URL must start with http:// or https://{hint}."
    if not parts.hostname:
        return "URL must name a host."
    if parts.username or parts.password:
        return "URL must not carry credentials."
    if (message := host_error(parts.hostname)) is not None:
        return message
    if not allow_private:
        return private_address_error(url)
    return None


def _character_error(url: str) -> str | None:
    for index, character in enumerate(url):
        if character.isspace() or unicodedata.category(character) == "Cc":
            name = _CHARACTER_NAMES.get(character, f"U+{ord(character):04X}")
            where = "a host name has none" if _in_host(url, index) else "a path or query may percent-encode one: %20"
            return (
                f"URL must not contain spaces or control characters: it has {name} at character {index + 1} ({where})."
            )
    return None


def _in_host(url: str, index: int) -> bool:
    scheme_end = url.find("://")
    return 0 <= scheme_end < index and not any(c in "/?#" for c in url[scheme_end + 3 : index])


def host_error(host: str) -> str | None:
    """Say why a URL's host (as urlsplit gives it: lowercase, without brackets) can never
    resolve, or None. An IP address is left to the address guard."""
    if is_ip_address(host):
        return None
    name = host.removesuffix(".")  # a trailing dot only says the name is complete
    if not name.isascii():
        try:
            # As requests turns a non-ASCII host into the name it resolves (IDNA 2008 after
            # UTS #46 mapping): a host it refuses would fail every check.
            name = idna.encode(name, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            return f'The host "{host}" is not a valid internationalized domain name ({exc}).'
    if len(name) > MAX_HOST_LENGTH:
        return f"The host is {len(name)} characters long; a host name may have at most {MAX_HOST_LENGTH}."
    labels = name.split(".")
    for label in labels:
        if (message := _label_error(host, label)) is not None:
            return message
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        return f'The host "{host}" is neither a domain name nor an IPv4 address as four numbers (like 192.0.2.1).'
    return None


def _label_error(host: str, label: str) -> str | None:
    if not label:
        return f'The host "{host}" has an empty label (two dots in a row, or a dot at its start).'
    if len(label) > MAX_LABEL_LENGTH:
        return (
            f'The host "{host}" has a label of {len(label)} characters ("{label[:20]}..."); '
            f"a label may have at most {MAX_LABEL_LENGTH}."
        )
    if not _ASCII_LABEL.fullmatch(label):
        bad = next(c for c in label if not _ASCII_LABEL.fullmatch(c))
        return f'The host "{host}" contains "{bad}": a host name is letters, digits, hyphens and dots.'
    if label.startswith("xn--"):
        try:
            idna.decode(label)  # an A-label: Punycode for a valid internationalized label
        except idna.IDNAError as exc:
            return f'The host "{host}" is not a valid internationalized domain name ({exc}).'
    return None


def _tcp_target_error(parts: SplitResult) -> str | None:
    if parts.scheme != "tcp":
        return "A TCP monitor's URL is tcp://host:port."
    if not parts.hostname:
        return "URL must name a host: tcp://host:port."
    if parts.port is None or parts.port == 0:
        return "URL must name a port from 1 to 65535: tcp://host:port."
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return "A TCP monitor's URL is only tcp://host:port, without a path or query."
    return None
