"""The rules a status page's settings and a subscription must meet, shared by the owner's
API, the admin and the public subscribe form."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from probe.guard import is_ip_address
from probe.urls import host_error, url_error

MAX_SECTIONS = 20
# A page is read by visitors at any rate: its size is what bench/statuspages measures.
MAX_COMPONENTS = 100


def domain_error(domain: str) -> str | None:
    """Why `domain` cannot be a page's own host name, or None."""
    if domain != domain.lower() or domain.endswith("."):
        return "Write the domain in lowercase, without a trailing dot."
    if is_ip_address(domain) or "." not in domain:
        return "A page's domain is a full DNS name (status.example.com), not an address or a single label."
    if (message := host_error(domain)) is not None:
        return message
    # Our own host already answers with everything else: it cannot also be one page.
    if domain == (urlsplit(settings.PUBLIC_URL).hostname or ""):
        return "That is this server's own address; choose a host name of your own."
    return None


def sections_error(sections: list[dict]) -> str | None:
    """Why the sections (each {"name", "components": [{"monitor", "name"}]}) cannot stand."""
    if len(sections) > MAX_SECTIONS:
        return f"A page has at most {MAX_SECTIONS} sections."
    monitors = [component["monitor"] for section in sections for component in section["components"]]
    if len(monitors) > MAX_COMPONENTS:
        return f"A page shows at most {MAX_COMPONENTS} components; this one has {len(monitors)}."
    seen = set()
    for monitor in monitors:
        if monitor.pk in seen:
            return f'Monitor {monitor.pk} ("{monitor.name}") is shown twice; a page shows a monitor once.'
        seen.add(monitor.pk)
    return None


def subscription_errors(kind: str, address: str) -> dict[str, str]:
    """{field: message} for a visitor's subscription: an email address, or a webhook URL
    that meets the channels' rules (the address guard included)."""
    if kind == "email":
        try:
            validate_email(address)
        except ValidationError:
            return {"email": "Enter a valid email address."}
        return {}
    if kind == "webhook":
        if not address:
            return {"url": "Enter the URL to post to."}
        if (message := url_error(address, allow_private=settings.ALLOW_PRIVATE_TARGETS)) is not None:
            return {"url": message}
        return {}
    return {"kind": "Subscribe by email or by webhook."}
