"""Uptime per period as bars, drawn on the server as inline SVG: a monitor page's hours or
days of a window, a status page's 90 days per component. Status never rests on colour
alone: a bar steps down in height with its uptime, and its title says the figures."""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import groupby
from typing import Protocol

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from checks.figures.series import DayCounts, Series

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


def _level(figures: Counted) -> tuple[str, str]:
    """A period's bar: its level (LEVELS) and colour."""
    return _level_of(figures.checks, figures.up)


def _level_of(checks: int, up: int) -> tuple[str, str]:
    if not checks:
        return "none", NO_CHECKS
    if up == checks:
        return "full", UP
    return ("low", DOWN) if 100.0 * up / checks < RED_BELOW_PERCENT else ("short", SHORTFALL)


def period_text(when: str, figures: Counted) -> str:
    """What a period's bar says: "2026-12-01: 99.95% up, 1,439 of 1,440 checks". A status
    page's script words a day the same way from the day's counts (web/static/web/status.js)."""
    return _counts_text(when, figures.checks, figures.up, figures.maintenance_checks)


def _counts_text(when: str, checks: int, up: int, maintenance_checks: int) -> str:
    said = f"{percent_text(up, checks)} up, {up:,} of {_count(checks, 'check')}" if checks else "no checks"
    if maintenance_checks:
        said += f" ({maintenance_checks:,} more in maintenance, not counted)"
    return f"{when}: {said}"


def _summary(periods: Sequence[Counted], period: str, span: str) -> str:
    tally = dict.fromkeys(LEVELS, 0)
    for figures in periods:
        tally[_level(figures)[0]] += 1
    return _summary_text(tally, period, span, sum(one.checks for one in periods), sum(one.up for one in periods))


def _summary_text(tally: dict[str, int], period: str, span: str, checks: int, up: int) -> str:
    label = (
        f"Uptime per {period} over {span}: "
        f"{_count(tally['full'], period)} at 100%, {tally['short']:,} below 100%, "
        f"{tally['low']:,} below {RED_BELOW_PERCENT:g}%, {tally['none']:,} without checks"
    )
    if checks:
        label += f"; {percent_text(up, checks)} up overall, {up:,} of {_count(checks, 'check')}"
    return label


def period_bars(
    whens: Sequence[str], periods: Sequence[Counted], period: str, span: str, width: int = 720, height: int = 48
) -> SafeString:
    """A bar per period, by its uptime over the checks not in maintenance: 100% a full green
    bar; below that amber at three quarters of the height; below RED_BELOW_PERCENT red at
    half; no checks a grey stub. Each bar is a keyboard stop whose <title> gives its figures.

    The root's role is "group", not "img": an image's content is hidden from assistive
    technology, and these bars are focusable and named one by one."""
    pitch = width / max(len(periods), 1)
    bar_width = max(pitch * 0.7, 1.0)
    body = []
    for i, (when, figures) in enumerate(zip(whens, periods, strict=True)):
        level, colour = _level(figures)
        bar_height = height * LEVELS[level]
        body.append(
            f'<g tabindex="0" role="img"><title>{escape(period_text(when, figures))}</title><rect x="{xy(i * pitch)}"'
            f' y="{xy(height - bar_height)}" width="{xy(bar_width)}" height="{xy(bar_height)}" fill="{colour}"/></g>'
        )
    return svg("uptime-bars", width, height, _summary(periods, period, span), body, role="group")


@dataclass(frozen=True)
class DayStrip:
    """A status page's row of days: the bars, what they add up to (for assistive technology),
    and each day's counts for the page's script, which names the day under the pointer or
    the keyboard (no element per day: 50 rows of 90 titled bars made a 740 KB page)."""

    bars: SafeString
    summary: str
    counts: str  # "checks/up[/maintenance]" per day, oldest first, runs as "text*days" (_run_lengths)
    first: str  # the oldest day, YYYY-MM-DD
    last: int  # the newest day's position
    last_text: str  # what the newest day says, before any script has run


@cache
def _strokes(height: int) -> dict[str, tuple[str, str]]:
    """Each level's line in a row of days: its middle's height and its thickness, as the
    path writes them (the same for every row of a page)."""
    return {level: (xy(height - height * share / 2), xy(height * share)) for level, share in LEVELS.items()}


def day_strip(counts: DayCounts, width: int = 900, height: int = 34) -> DayStrip:
    """The days in the colours of period_bars, a run of days of one level drawn as one
    dashed line (a dash a day), and a mark the script moves onto the day in focus.

    Equal days in a row are taken once: most rows are a few runs, so a row costs its runs,
    not its 90 days. A page draws up to 100 rows, so nothing is built per day and a
    run is a few steps."""
    pitch = width // max(counts.days, 1)
    bar = max(pitch * 7 // 10, 1)
    tally = dict.fromkeys(LEVELS, 0)
    lines: list[list] = []  # [level, colour, first position, days]: one dashed line each
    said = []  # "checks/up[/maintenance]", a run as "text*days": the script's data
    position = 0
    day: tuple[int, int, int] | None = None
    for day, repeats in groupby(zip(counts.checks, counts.up, counts.maintenance_checks, strict=True)):
        length = len(list(repeats))
        checks, up, maintenance = day
        level, colour = _level_of(checks, up)
        tally[level] += length
        if lines and lines[-1][0] == level:
            lines[-1][3] += length
        else:
            lines.append([level, colour, position, length])
        text = f"{checks}/{up}/{maintenance}" if maintenance else f"{checks}/{up}"
        said.append(text if length == 1 else f"{text}*{length}")
        position += length
    strokes = _strokes(height)
    body = [
        f'<path d="M{start * pitch} {strokes[level][0]}h{length * pitch}" stroke="{colour}"'
        f' stroke-width="{strokes[level][1]}" stroke-dasharray="{bar} {pitch - bar}"/>'
        for level, colour, start, length in lines
    ]
    body.append(f'<rect class="day-mark" x="0" y="0" width="{bar}" height="{height}" visibility="hidden"/>')
    last = counts.days - 1
    summary = _summary_text(tally, "day", f"the last {counts.days} days", sum(counts.checks), sum(counts.up))
    last_text = _counts_text(f"{counts.day(last):%Y-%m-%d}", *day) if day is not None else ""
    # Hidden from assistive technology: the slider around it says the day in focus, and the
    # summary describes the whole row. Made of numbers and colours only: nothing to escape.
    bars = mark_safe(  # noqa: S308
        f'<svg class="day-bars-svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' aria-hidden="true" focusable="false">{"".join(body)}</svg>'
    )
    return DayStrip(bars, summary, " ".join(said), f"{counts.first:%Y-%m-%d}", last, last_text)
