"""The rules a target's URL must meet before anything is checked or posted to it: its shape,
and (unless private targets are allowed) the address guard. Shared by monitors' and
channels' validation; no Django."""

from urllib.parse import SplitResult, urlsplit

from probe.guard import private_address_error

MAX_URL_LENGTH = 2000


def url_error(url: str, *, tcp: bool = False, allow_private: bool = False) -> str | None:
    """Say what is wrong with an http(s):// URL (or a tcp://host:port one), or None."""
    if len(url) > MAX_URL_LENGTH:
        return f"URL must be at most {MAX_URL_LENGTH} characters."
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
    if not allow_private:
        return private_address_error(url)
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
