"""Typed readers of environment variables for the settings: a bad value stops the start
with one line naming the variable, rather than surfacing later as a strange failure."""

import os
from typing import overload
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured


@overload
def env_str(name: str, default: str) -> str: ...
@overload
def env_str(name: str, default: None = None) -> str | None: ...
def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    value = env_str(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    value = env_str(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    return number


def env_list(name: str, default: list[str], none_is_empty: bool = False) -> list[str]:
    """Comma-separated; unset or empty is the default, and with `none_is_empty` "none" is
    the empty list (an empty value cannot say it: compose passes unset variables as "")."""
    value = env_str(name)
    if value is None:
        return default
    items = [item.strip() for item in value.split(",") if item.strip()]
    return [] if none_is_empty and [item.lower() for item in items] == ["none"] else items


def env_secret(name: str, dev_default: str, debug: bool) -> str:
    """A secret must come from the environment; only a debug run may use the dev default."""
    value = env_str(name)
    if value is not None:
        return value
    if not debug:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off")
    return dev_default


def redis_database(url: str, number: int) -> str:
    """The same Redis server as `url`, another numbered database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{number}"))
