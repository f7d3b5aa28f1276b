"""Uptime per period as bars, drawn on the server as inline SVG: a monitor page's hours or
days of a window, a status page's 90 days per component. Status never rests on colour
alone: a bar steps down in height with its uptime, and its title says the figures."""

from collections.abc import Sequence
from typing import Protocol

from django.utils.html import escape
from django.utils.safestring import SafeString

from checks.figures.series import Series

from .charts import DOWN, NO_CHECKS, RED_BELOW_PERCENT, SHORTFALL, UP, WINDOW_NAMES, is_hourly, svg, xy

# A bar's height by its uptime, as a share of the chart's: the level reads without colour.
LEVELS = {"full": 1.0, "short": 0.75, "low": 0.5, "none": 0.2}


class Counted(Protocol):
    """A period's counts: a rollup's Figures, or a status page's Day."""

    @property
    def checks(self) -> int: ...

    @property
    def up(self) -> int: ...

    @property
    def maintenance_checks(self) -> int: ...


def percent_text(up: int, checks: int) -> str:
    """Uptime to 0.01%, rounded down: a single failure in 30,000 checks is not "100.00%"."""
    if up == checks:
        return "100%"
    hundredths = up * 10_000 // checks
    return f"{hundredths // 100}.{hundredths % 100:02d}%"


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def uptime_bars(series: Series, width: int = 720, height: int = 48) -> SafeString:
    """A bar per period of the window (see period_bars), each a keyboard stop."""
    hourly = is_hourly(series)
    whens = [f"{start:%Y-%m-%d %H}:00 UTC" if hourly else f"{start:%Y-%m-%d}" for start in series.periods]
    span = WINDOW_NAMES.get(series.window, series.window)
    return period_bars(whens, series.overall, "hour" if hourly else "day", span, width, height)


def period_bars(
    whens: Sequence[str],
    periods: Sequence[Counted],
    period: str,
    span: str,
    width: int = 720,
    height: int = 48,
    focusable: bool = True,
) -> SafeString:
    """A bar per period, by its uptime over the checks not in maintenance: 100% a full green
    bar; below that amber at three quarters of the height; below RED_BELOW_PERCENT red at
    half; no checks a grey stub. Each bar's <title> gives its figures; with `focusable` each
    is a keyboard stop, else only the last is and the page moves focus along them itself
    (a status page's 90 days of 50 components would be 4,500 tab stops).

    The root's role is "group", not "img": an image's content is hidden from assistive
    technology, and these bars are focusable and named one by one."""
    pitch = width / max(len(periods), 1)
    bar_width = max(pitch * 0.7, 1.0)
    tally = dict.fromkeys(LEVELS, 0)
    body = []
    for i, (when, figures) in enumerate(zip(whens, periods, strict=True)):
        # Without `focusable`, the last period (today) is the one stop; the page's script
        # moves along the rest with the arrow keys.
        tabindex = "0" if focusable or i == len(periods) - 1 else "-1"
        checks, up = figures.checks, figures.up
        if not checks:
            level, colour, said = "none", NO_CHECKS, "no checks"
        else:
            below = 100.0 * up / checks < RED_BELOW_PERCENT
            level, colour = ("full", UP) if up == checks else ("low", DOWN) if below else ("short", SHORTFALL)
            said = f"{percent_text(up, checks)} up, {up:,} of {_count(checks, 'check')}"
        if figures.maintenance_checks:
            said += f" ({figures.maintenance_checks:,} more in maintenance, not counted)"
        tally[level] += 1
        bar_height = height * LEVELS[level]
        body.append(
            f'<g tabindex="{tabindex}" role="img"><title>{escape(f"{when}: {said}")}</title><rect x="{xy(i * pitch)}"'
            f' y="{xy(height - bar_height)}" width="{xy(bar_width)}" height="{xy(bar_height)}" fill="{colour}"/></g>'
        )
    label = (
        f"Uptime per {period} over {span}: "
        f"{_count(tally['full'], period)} at 100%, {tally['short']:,} below 100%, "
        f"{tally['low']:,} below {RED_BELOW_PERCENT:g}%, {tally['none']:,} without checks"
    )
    checks, up = sum(one.checks for one in periods), sum(one.up for one in periods)
    if checks:
        label += f"; {percent_text(up, checks)} up overall, {up:,} of {_count(checks, 'check')}"
    return svg("uptime-bars", width, height, label, body, role="group")
