"""Small pieces every page draws the same way: a status with its symbol and word (never
colour alone), a duration, a time in UTC."""

import math
from datetime import datetime

from django.template import defaultfilters
from django.utils.html import format_html
from django.utils.safestring import SafeString

# A registry of the same kind as Django's own filters', which this module adds to the pages.
register = type(defaultfilters.register)()

# A symbol beside the word, so a status reads without colour (and in a screen reader, the word).
STATUS_SYMBOLS = {
    "up": "✓",
    "down": "✕",
    "degraded": "!",
    "pending": "…",
    "paused": "‖",
    "maintenance": "⚒",
    "unreachable": "⇣",
}


@register.simple_tag
def status_badge(status: str) -> SafeString:
    symbol = STATUS_SYMBOLS.get(status, "?")
    return format_html(
        '<span class="status status-{}"><span aria-hidden="true">{}</span> {}</span>',
        status,
        symbol,
        status.capitalize(),
    )


@register.filter
def duration(seconds: float | int | None) -> str:
    """ "45 s", "3 min", "2 h 5 min", "4 d 3 h": the two largest units that matter."""
    if seconds is None:
        return "—"
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


@register.filter
def utc(moment: datetime | None) -> SafeString | str:
    """A time as people read it here (UTC, to the second), with the machine-readable value."""
    if moment is None:
        return "—"
    return format_html('<time datetime="{}">{}</time>', moment.isoformat(), moment.strftime("%Y-%m-%d %H:%M:%S UTC"))


@register.filter
def milliseconds(value: float | int | None) -> str:
    return "—" if value is None else f"{round(value):,} ms"


@register.filter
def percent(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 100:
        return "100%"
    # Rounded down: 99.9996% is not 100%.
    return f"{math.floor(value * 1000) / 1000:.3f}".rstrip("0").rstrip(".") + "%"


@register.simple_tag
def organizations_menu(request) -> list:
    """The signed-in person's organizations, the one they work in marked: [(organization, current)]."""
    from accounts.actors import memberships_of

    current = request.actor.organization.pk if request.actor else None
    return [(m.organization, m.organization_id == current) for m in memberships_of(request.user)]
