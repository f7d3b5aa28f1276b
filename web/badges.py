"""Badges: small SVG images in the shields.io "flat" style, a grey label beside a coloured
value, for a README or another site. /badge/<key>/<kind>.svg serves a monitor's status, its
uptime over 24 hours, 7 or 30 days, or its average response time, to anyone with the key:
no session, no cookie, the same answer for everyone for a minute.

render_badge() takes plain values, so any page can draw one (a public status page, for its
monitors); status_value(), uptime_value() and response_time_value() give the value and
colour these badges show for a monitor's figures.
"""

import math
import re
import unicodedata

from django.http import HttpRequest, HttpResponse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_safe

from checks.figures.rollups import Figures, window_figures
from monitors.models import Monitor

from .charts import RED_BELOW_PERCENT, xy
from .period_bars import percent_text

# White text on each of these stands out at least 4.5:1 (WCAG's contrast for text): the
# shields.io palette (white on #4c1 is 2.1:1) does not, so the colours are GitHub's darker ones.
LABEL = "#555"  # 7.5:1
GREEN = "#1a7f37"  # 5.1:1
RED = "#cf222e"  # 5.4:1
AMBER = "#9a6700"  # 4.9:1
BLUE = "#0969da"  # 5.2:1, maintenance
NAVY = "#0550ae"  # 7.6:1, response time: a figure, neither good nor bad
GREY = "#6e7781"  # 4.6:1, paused, pending, unknown
STATUS_COLOURS: dict[str, str] = {
    Monitor.Status.UP: GREEN,
    Monitor.Status.DOWN: RED,
    # Failing behind a parent that is down: as unavailable to its users as down.
    Monitor.Status.UNREACHABLE: RED,
    Monitor.Status.DEGRADED: AMBER,
    Monitor.Status.MAINTENANCE: BLUE,
    Monitor.Status.PAUSED: GREY,
    Monitor.Status.PENDING: GREY,
}
# An uptime badge is green from this up, amber below it, red below the charts' red line.
GREEN_FROM_PERCENT = 99.0
UNKNOWN = "unknown"

# What each kind of badge shows: the default label, and the window its figures cover
# (checks.figures.rollups.WINDOWS: whole UTC hours or days, the current one included).
KINDS = {
    "status": ("status", None),
    "uptime-24h": ("uptime 24h", "24h"),
    "uptime-7d": ("uptime 7d", "7d"),
    "uptime-30d": ("uptime 30d", "30d"),
    "response-time": ("response", "24h"),
}
MAX_LABEL_LENGTH = 40
# Badges are public: a CDN or a README's image proxy may keep one a minute.
CACHE_CONTROL = "public, max-age=60, s-maxage=60"
# An SVG opened on its own is a document that could run script: this one may load nothing.
CONTENT_SECURITY_POLICY = "default-src 'none'; sandbox"

# --- drawing -------------------------------------------------------------------------------

# Verdana's advance widths, in 2048ths of an em, for the printable ASCII characters from
# the space (32) to "~" (126): the font shields.io measures with and browsers draw these in.
_ADVANCES = (
    *(720, 806, 940, 1676, 1302, 2204, 1488, 550, 930, 930, 1302, 1676, 745, 930, 745, 930),  # space to /
    *(1302,) * 10,  # 0 to 9
    *(930, 930, 1676, 1676, 1676, 1117, 2048),  # : to @
    *(1400, 1404, 1430, 1578, 1295, 1177, 1588, 1539, 862, 931, 1419, 1140, 1726),  # A to M
    *(1532, 1612, 1235, 1612, 1424, 1400, 1262, 1499, 1400, 2025, 1403, 1260, 1403),  # N to Z
    *(930, 930, 930, 1676, 1302, 1302),  # [ to `
    *(1230, 1276, 1067, 1276, 1220, 720, 1276, 1296, 562, 705, 1212, 562, 1992),  # a to m
    *(1296, 1243, 1276, 1276, 874, 1067, 807, 1296, 1212, 1676, 1212, 1212, 1076),  # n to z
    *(1300, 930, 1300, 1676),  # { to ~
)
_EM = 2048
_FONT_SIZE = 11
_PADDING = 5  # each side of a text
_HEIGHT = 20
# Characters XML 1.0 does not allow even escaped: the SVG would not parse with them in it.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_COLOUR = re.compile(r"#[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?")


def _advance(character: str) -> int:
    code = ord(character)
    if 32 <= code <= 126:
        return _ADVANCES[code - 32]
    if unicodedata.combining(character):
        return 0
    # Wide (CJK) characters take an em; anything else, an average: a digit's width.
    return _EM if unicodedata.east_asian_width(character) in ("W", "F") else 1302


def text_width(text: str) -> float:
    """The width of `text` in Verdana at 11 px, without kerning: close to what a browser draws."""
    return sum(_advance(character) for character in text) * _FONT_SIZE / _EM


def _plain(text: str) -> str:
    """`text` on one line, without the characters XML cannot carry."""
    return " ".join(_NOT_XML.sub("", text).split())


def _text(text: str, centre: float, width: float) -> str:
    # A shadow one pixel below, as shields.io draws it; textLength holds the text to the
    # width measured here whatever font the viewer has.
    shown, x, length = escape(text), xy(centre), xy(width)
    return (
        f'<text x="{x}" y="15" fill="#010101" fill-opacity=".3" textLength="{length}">{shown}</text>'
        f'<text x="{x}" y="14" textLength="{length}">{shown}</text>'
    )


def _half(x: int, width: int, colour: str, rounded_left: bool, rounded_right: bool = True) -> str:
    """One half of the badge, its outer corners rounded (radius 3): drawn as a path rather
    than clipped, since a clipPath needs an id and ids clash when badges share a page."""
    left, right = (3 if rounded_left else 0), (3 if rounded_right else 0)
    down = "a3 3 0 0 1 3 3v14a3 3 0 0 1-3 3" if rounded_right else f"V{_HEIGHT}"
    up = "a3 3 0 0 1-3-3V3a3 3 0 0 1 3-3z" if rounded_left else "V0z"
    return f'<path fill="{colour}" d="M{x + left} 0H{x + width - right}{down}H{x + left}{up}"/>'


def render_badge(label: str, value: str, colour: str, *, label_colour: str = LABEL) -> SafeString:
    """A badge as an SVG document: `label` on a `label_colour` half (grey unless given),
    `value` on a `colour` half, in white Verdana 11 px, 20 px high and as wide as its texts.

    Both texts are escaped here (and kept to one line, without characters XML forbids), so
    any string may be passed; the colours must be #rgb or #rrggbb (ValueError otherwise).
    It names itself for assistive technology: role="img", and "label: value" as its
    aria-label and <title>. An empty label draws the value alone. It uses no ids, so many
    can be inlined in one HTML page; served alone, it is a complete SVG document."""
    for name, given in (("colour", colour), ("label_colour", label_colour)):
        if not _COLOUR.fullmatch(given):
            raise ValueError(f"{name} must be #rgb or #rrggbb, not {given!r}")
    label, value = _plain(label), _plain(value)
    label_text, value_text = text_width(label), text_width(value)
    label_width = math.ceil(label_text) + 2 * _PADDING if label else 0
    value_width = math.ceil(value_text) + 2 * _PADDING
    width = label_width + value_width
    said = escape(f"{label}: {value}" if label else value)
    body = [_half(label_width, value_width, colour, rounded_left=not label)]
    texts = [_text(value, label_width + value_width / 2, value_text)]
    if label:
        body.insert(0, _half(0, label_width, label_colour, rounded_left=True, rounded_right=False))
        texts.insert(0, _text(label, label_width / 2, label_text))
    # Safe: every text in it is escaped above, the colours are checked, the rest is numbers.
    return mark_safe(  # noqa: S308
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{_HEIGHT}" '
        f'viewBox="0 0 {width} {_HEIGHT}" role="img" aria-label="{said}"><title>{said}</title>{"".join(body)}'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
        f'text-rendering="geometricPrecision" font-size="{_FONT_SIZE}">{"".join(texts)}</g></svg>'
    )


# --- what a monitor's badges say -----------------------------------------------------------


def status_value(status: str) -> tuple[str, str]:
    """A monitor status's word and colour: the word itself, so colour is never all it says."""
    return status, STATUS_COLOURS.get(status, GREY)


def uptime_value(checks: int, up: int) -> tuple[str, str]:
    """Uptime to 0.01%, rounded down as the monitor page shows it (one failure in 30,000
    checks is 99.99%, not 100.00%), and its colour; "unknown" without checks."""
    if not checks:
        return UNKNOWN, GREY
    percent = 100.0 * up / checks
    colour = GREEN if percent >= GREEN_FROM_PERCENT else AMBER if percent >= RED_BELOW_PERCENT else RED
    return percent_text(up, checks), colour


def response_time_value(avg_response_time_ms: float | None) -> tuple[str, str]:
    """An average response time in whole milliseconds, and its colour; "unknown" without
    a successful check."""
    if avg_response_time_ms is None:
        return UNKNOWN, GREY
    return f"{round(avg_response_time_ms):,} ms", NAVY


def _label(request: HttpRequest, default: str) -> str:
    given = _plain(request.GET.get("label", ""))[:MAX_LABEL_LENGTH].strip()
    return given or default


def _headers(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = CACHE_CONTROL
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


# A badge key as monitors.models.new_badge_key makes them: anything else names no monitor,
# and is not sent to PostgreSQL (which refuses a NUL character in a query).
_KEY = re.compile(r"[A-Za-z0-9_-]{1,32}")


@require_safe
def badge(request: HttpRequest, key: str, kind: str) -> HttpResponse:
    """GET /badge/<key>/<kind>.svg: one badge of the monitor whose badge key is `key`
    (KINDS), labelled by ?label= when given. Read in at most two queries: the monitor, and
    its rollups over the window.

    Never touches request.user or the session: the answer must not vary with cookies, or a
    shared cache could not keep it. An unknown key and an unknown kind get the same 404."""
    if kind not in KINDS or not _KEY.fullmatch(key):
        return _not_found()
    try:
        monitor = Monitor.objects.only("status", "is_active").get(badge_key=key)
    except Monitor.DoesNotExist:
        return _not_found()
    return _badge_of(request, monitor, kind)


def component_badge(request: HttpRequest, slug: str, component: int, kind: str) -> HttpResponse:
    """GET /status/<slug>/badges/<component>/<kind>.svg: the badge of a monitor its owner
    shows on a public status page, by the component's id there (no key needed: the page
    shows as much). Another page's component is the same 404 as none."""
    if kind not in KINDS:
        return _not_found()
    monitor = Monitor.objects.only("status", "is_active").filter(
        status_components__pk=component, status_components__section__page__slug=slug
    )
    found = monitor.first()
    if found is None:
        return _not_found()
    return _badge_of(request, found, kind)


def _badge_of(request: HttpRequest, monitor: Monitor, kind: str) -> HttpResponse:
    default_label, window = KINDS[kind]
    if monitor.status == Monitor.Status.PAUSED or not monitor.is_active:
        # Not checked now: a figure from before the pause would read as a current one.
        value, colour = status_value(Monitor.Status.PAUSED)
    elif window is None:
        value, colour = status_value(monitor.status)
    else:
        figures = Figures.sum_of(window_figures(monitor.pk, window).values())
        if kind == "response-time":
            value, colour = response_time_value(figures.avg_response_time_ms)
        else:
            value, colour = uptime_value(figures.checks, figures.up)
    svg = render_badge(_label(request, default_label), value, colour)
    return _headers(HttpResponse(svg, content_type="image/svg+xml"))


def _not_found() -> HttpResponse:
    return _headers(HttpResponse("Not found.\n", status=404, content_type="text/plain; charset=utf-8"))
