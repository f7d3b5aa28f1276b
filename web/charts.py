"""Charts drawn on the server as inline SVG, no JavaScript: a monitor's last checks, a
response-time sparkline, response time per region and percentile over a window, and uptime
per period. The dashboard draws a check bar and a sparkline per monitor (1,000 of each), so
markup is joined from strings, short, and its coordinates rounded to 0.1.

Status never rests on colour alone: a down check is notched, a check in maintenance is a
short pill, and uptime bars step down in height with the uptime. Every colour drawn for a
meaning stands out at least 3:1 against white (WCAG's contrast for graphics); the grey of an
empty slot stands for nothing.
"""

import math
from collections.abc import Sequence
from datetime import UTC, date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from checks.figures.recent import RecentTick
from checks.figures.rollups import WINDOWS
from checks.figures.series import Series
from checks.models import HourlyRollup

UP = "#1a7f37"  # 5.1:1
DOWN = "#cf222e"  # 5.4:1
MAINTENANCE = "#0969da"  # 5.2:1
LINE = "#24292f"  # the sparkline, 14.7:1
SHORTFALL = "#bf8700"  # amber, 3.1:1
NO_CHECKS = "#8c959f"  # 3.0:1
PLACEHOLDER = "#d0d7de"
INK = "#57606a"  # axis and legend text, 6.4:1
GRID = "#d0d7de"
# One per region, in slug order (Okabe-Ito's colour-blind-safe hues that pass 3:1, then two more).
REGION_COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#8250df", "#953800")
# One per percentile, in the order asked: solid, dashed, dotted, dash-dot.
PERCENTILE_DASHES = ("", "6 3", "2 2", "8 3 2 3")
# An uptime bar is red below this, amber from it up to (not including) 100%.
RED_BELOW_PERCENT = 95.0
WINDOW_NAMES = {
    "24h": "the last 24 hours",
    "7d": "the last 7 days",
    "30d": "the last 30 days",
    "90d": "the last 90 days",
}
EMPTY_WINDOW = "No checks in this window yet"


def xy(value: float) -> str:
    """A coordinate, to 0.1 and without a trailing ".0"."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _ms(value: float) -> str:
    return f"{round(value):,} ms"


def svg(css_class: str, width: float, height: float, label: str, body: Sequence[str], role: str = "img") -> SafeString:
    """The root element: sized by its viewBox (CSS may scale it), named by aria-label and <title>."""
    label = escape(label)
    w, h = xy(width), xy(height)
    # Safe: the label is escaped here, and every piece of text in `body` where it was made.
    return mark_safe(  # noqa: S308
        f'<svg class="{css_class}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="{role}" '
        f'aria-label="{label}"><title>{label}</title>{"".join(body)}</svg>'
    )


def _runs(points: Sequence[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    """The stretches of (x, y) points between missing values (y None)."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in points:
        if y is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((x, y))
    return [run for run in runs if run]


def _line(run: list[tuple[float, float]], colour: str) -> str:
    """A polyline through a run, or a dot where the run is a single point (a line of one
    point would not show)."""
    if len(run) == 1:
        return f'<circle cx="{xy(run[0][0])}" cy="{xy(run[0][1])}" r="2" fill="{colour}"/>'
    # Rounded as _n rounds, but by two replaces over the whole list: a call of _n per number
    # was most of the cost of the dashboard's 1,000 sparklines.
    points = (" ".join([f"{x:.1f},{y:.1f}" for x, y in run]) + " ").replace(".0,", ",").replace(".0 ", " ")
    return f'<polyline points="{points[:-1]}"/>'


# --- the last checks ---------------------------------------------------------------------

BAR_PITCH, BAR_WIDTH, BAR_HEIGHT = 8, 5, 20
# Each check's shape after its x: up a full bar, in maintenance a short pill, down (a path) a V
# cut into the top of the bar.
_UP_BAR = f'y="0" width="{BAR_WIDTH}" height="{BAR_HEIGHT}" rx="1" fill="{UP}"'
_MAINTENANCE_BAR = f'y="5" width="{BAR_WIDTH}" height="10" rx="2.5" fill="{MAINTENANCE}"'
_DOWN_BAR = f' 0l2.5 8 2.5-8v{BAR_HEIGHT}h-{BAR_WIDTH}z" fill="{DOWN}"'
_EMPTY_SLOT = f'y="8" width="{BAR_WIDTH}" height="4" fill="{PLACEHOLDER}"'
_TWO_DIGITS = tuple(f"{n:02}" for n in range(60))


def _escaped(text: str, memo: dict[str, str]) -> str:
    """`text` escaped, once per bar: a bar's region slugs and errors repeat."""
    found = memo.get(text)
    if found is None:
        found = memo[text] = escape(text)
    return found


def _tick_title(tick: RecentTick, day: date | None, memo: dict[str, str]) -> str:
    """What one check was: "12:03:00 UTC · india · up · 123 ms", "… · down · connection refused"."""
    moment = tick.scheduled_at.astimezone(UTC)
    # Two digits from a table: strftime, then f"{…:02}", were most of the cost of drawing the
    # dashboard's 30,000 checks.
    when = f"{_TWO_DIGITS[moment.hour]}:{_TWO_DIGITS[moment.minute]}:{_TWO_DIGITS[moment.second]} UTC"
    if moment.date() != day:  # not on the newest check's day (a paused monitor's): dated
        when = f"{moment.year}-{moment.month:02}-{moment.day:02} {when}"
    where = f"{when} · {_escaped(tick.region_slug, memo)} · "
    if tick.in_maintenance:
        where += "in maintenance · "
    if tick.status == "up":
        ms = tick.response_time_ms
        return f"{where}up" if ms is None else f"{where}up · {ms} ms" if ms < 1000 else f"{where}up · {ms:,} ms"
    if tick.error:
        detail = f" · {_escaped(tick.error, memo)}"
    else:
        detail = "" if tick.status_code is None else f" · HTTP {tick.status_code}"
    return f"{where}{_escaped(tick.status, memo)}{detail}"


def check_bar(ticks: Sequence[RecentTick], slots: int = 30) -> SafeString:
    """The last `slots` checks, oldest left and the newest at the right end, light grey stubs
    where there are fewer: up a full green bar, down a red bar notched from the top, in
    maintenance a short blue pill (whatever its result). Each check's <title> says what it was."""
    shown = list(ticks)[-slots:] if slots > 0 else []
    body = [f'<rect x="{i * BAR_PITCH}" {_EMPTY_SLOT}/>' for i in range(slots - len(shown))]
    day = shown[-1].scheduled_at.astimezone(UTC).date() if shown else None
    memo: dict[str, str] = {}
    for i, tick in enumerate(shown, start=slots - len(shown)):
        title = _tick_title(tick, day, memo)
        if tick.in_maintenance:
            body.append(f'<rect x="{i * BAR_PITCH}" {_MAINTENANCE_BAR}><title>{title}</title></rect>')
        elif tick.status == "up":
            body.append(f'<rect x="{i * BAR_PITCH}" {_UP_BAR}><title>{title}</title></rect>')
        else:
            body.append(f'<path d="M{i * BAR_PITCH}{_DOWN_BAR}><title>{title}</title></path>')
    width = max(slots * BAR_PITCH - (BAR_PITCH - BAR_WIDTH), 1)
    return svg("check-bar", width, BAR_HEIGHT, _check_bar_label(shown), body)


def _check_bar_label(shown: Sequence[RecentTick]) -> str:
    if not shown:
        return "No checks yet"
    maintenance = sum(tick.in_maintenance for tick in shown)
    up = sum(tick.status == "up" and not tick.in_maintenance for tick in shown)
    counts = [f"{up} up", f"{len(shown) - up - maintenance} down"]
    if maintenance:
        counts.append(f"{maintenance} in maintenance")
    newest = shown[-1]
    state = "in maintenance" if newest.in_maintenance else newest.status
    checks = f"Last {len(shown)} checks" if len(shown) > 1 else "Last check"
    when = newest.scheduled_at.astimezone(UTC)
    return f"{checks}: {', '.join(counts)}; latest {state} at {when:%Y-%m-%d %H:%M:%S} UTC"


# --- sparkline ---------------------------------------------------------------------------


def sparkline(values: Sequence[float | None], width: int = 120, height: int = 28) -> SafeString:
    """Response times left to right, the line broken where a value is missing (a check
    without a time), scaled between the smallest and largest."""
    known = [value for value in values if value is not None]
    if not known:
        return svg("sparkline", width, height, "No response times yet", [])
    low, high, pad = min(known), max(known), 2.0
    step = (width - 2 * pad) / (len(values) - 1) if len(values) > 1 else 0.0

    def y(value: float) -> float:
        return pad + (high - value) / (high - low) * (height - 2 * pad) if high > low else height / 2

    points = [
        (pad + i * step if len(values) > 1 else width / 2, None if value is None else y(value))
        for i, value in enumerate(values)
    ]
    lines = [_line(run, LINE) for run in _runs(points)]
    label = f"Response time: lowest {_ms(low)}, highest {_ms(high)}, latest {_ms(known[-1])}"
    group = f'<g fill="none" stroke="{LINE}" stroke-width="1.5" stroke-linejoin="round">{"".join(lines)}</g>'
    return svg("sparkline", width, height, label, [group])


# --- response time over a window -----------------------------------------------------------


def _nice_scale(highest: float) -> tuple[float, int]:
    """A round step (1, 2, 2.5 or 5 times a power of ten) and 3 or 4 steps of it reaching
    `highest`: 4 or 5 gridlines."""
    rough = max(highest, 4.0) / 4
    power = 10 ** math.floor(math.log10(rough))
    step = next(power * m for m in (1, 2, 2.5, 5, 10) if power * m >= rough)
    return step, max(math.ceil(highest / step), 1)


def _axis_ms(value: float) -> str:
    return f"{value / 1000:g} s" if value >= 10_000 else f"{value:,g} ms"


def _percentile_name(fraction: float) -> str:
    return f"p{fraction * 100:g}"


def _x_labels(series: Series, hourly: bool) -> list[tuple[int, str]]:
    """Where the x axis is labelled, six to eight times: every fourth hour over 24 hours,
    each midnight over 7 days, every few days (counted back from today) over days."""
    periods = series.periods
    if hourly and len(periods) <= 48:
        return [(i, f"{p:%H}:00") for i, p in enumerate(periods) if p.hour % 4 == 0]
    if hourly:
        return [(i, f"{p:%m-%d}") for i, p in enumerate(periods) if p.hour == 0]
    every = max(1, math.ceil(len(periods) / 6))
    return [(i, f"{p:%m-%d}") for i, p in enumerate(periods) if (len(periods) - 1 - i) % every == 0]


def response_time_chart(
    series: Series, percentiles: Sequence[float] = (0.5, 0.95), width: int = 720, height: int = 240
) -> SafeString:
    """One line per region and percentile, per period of the window (from the rollups'
    histograms): a colour per region, a dash pattern per percentile, a legend naming both
    below the x axis. A line breaks over periods without a timed check."""
    span = WINDOW_NAMES.get(series.window, series.window)
    title = f"Response time over {span}"
    lines = []  # (legend text, colour, dashes, value per period)
    for r, (slug, figures) in enumerate(series.by_region.items()):
        # One list per percentile, each period's histogram counted once for all of them.
        per_percentile = zip(*(one.response_time_percentiles_ms(percentiles) for one in figures), strict=True)
        for p, (fraction, of_periods) in enumerate(zip(percentiles, per_percentile, strict=True)):
            colour, dashes = REGION_COLOURS[r % len(REGION_COLOURS)], PERCENTILE_DASHES[p % len(PERCENTILE_DASHES)]
            lines.append((f"{slug} {_percentile_name(fraction)}", colour, dashes, list(of_periods)))
    known = [value for *_, values in lines for value in values if value is not None]
    if not known:
        centre = f'x="{xy(width / 2)}" y="{xy(height / 2)}"'
        message = f'<text {centre} text-anchor="middle" fill="{INK}">{EMPTY_WINDOW}</text>'
        return svg("response-time-chart", width, height, f"{title}: {EMPTY_WINDOW.lower()}", [message])

    left, right, top = 56.0, width - 12.0, 10.0
    legend, rows = _legend_places([line[0] for line in lines], left, right)
    bottom = height - 16 * rows - 24.0
    step, steps = _nice_scale(max(known))
    per_period = (right - left) / len(series.periods)

    def x(i: int) -> float:
        return left + (i + 0.5) * per_period

    def y(value: float) -> float:
        return bottom - value / (step * steps) * (bottom - top)

    grid, y_labels = [], []
    for k in range(steps + 1):
        at = y(k * step)
        grid.append(f'<line x1="{xy(left)}" x2="{xy(right)}" y1="{xy(at)}" y2="{xy(at)}"/>')
        y_labels.append(f'<text x="{xy(left - 6)}" y="{xy(at + 4)}">{_axis_ms(k * step)}</text>')
    x_labels = [
        f'<text x="{xy(x(i))}" y="{xy(bottom + 16)}">{text}</text>' for i, text in _x_labels(series, is_hourly(series))
    ]
    body = [
        f'<g stroke="{GRID}">{"".join(grid)}</g>',
        f'<g fill="{INK}" font-size="11" text-anchor="end">{"".join(y_labels)}</g>',
        f'<g fill="{INK}" font-size="11" text-anchor="middle">{"".join(x_labels)}</g>',
        '<g fill="none" stroke-width="1.5" stroke-linejoin="round">',
    ]
    for text, colour, dashes, values in lines:
        points = [(x(i), None if value is None else y(value)) for i, value in enumerate(values)]
        drawn = "".join(_line(run, colour) for run in _runs(points))
        dash = f' stroke-dasharray="{dashes}"' if dashes else ""
        body.append(f'<g stroke="{colour}"{dash}><title>{escape(text)}</title>{drawn}</g>')
    body.append(f'</g><g fill="{INK}" font-size="11">')
    for (text, colour, dashes, _), (at_x, row) in zip(lines, legend, strict=True):
        at_y = height - 16 * (rows - row) + 8
        dash = f' stroke-dasharray="{dashes}"' if dashes else ""
        body.append(
            f'<line x1="{xy(at_x)}" x2="{xy(at_x + 24)}" y1="{xy(at_y - 4)}" y2="{xy(at_y - 4)}" stroke="{colour}"'
            f' stroke-width="2"{dash}/><text x="{xy(at_x + 30)}" y="{xy(at_y)}">{escape(text)}</text>'
        )
    body.append("</g>")
    return svg("response-time-chart", width, height, f"{title}: {_lines_summary(lines)}", body)


def _legend_places(texts: Sequence[str], left: float, right: float) -> tuple[list[tuple[float, int]], int]:
    """Each legend entry's x and row, rows filled left to right (a 24-unit line sample, then
    its text at about 6.5 units a character), and the number of rows."""
    places, at, row = [], left, 0
    for text in texts:
        entry = 30 + 6.5 * len(text) + 16
        if at + entry > right and at > left:
            at, row = left, row + 1
        places.append((at, row))
        at += entry
    return places, row + 1


def _lines_summary(lines: Sequence[tuple[str, str, str, list[float | None]]]) -> str:
    said = []
    for text, _, _, values in lines:
        known = [value for value in values if value is not None]
        if known:
            said.append(f"{text} {_ms(min(known))} to {_ms(max(known))}, latest {_ms(known[-1])}")
        else:
            said.append(f"{text} no timed checks")
    return "; ".join(said)


def is_hourly(series: Series) -> bool:
    return WINDOWS[series.window][0] is HourlyRollup
