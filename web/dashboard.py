"""The dashboard: each of the user's monitors with its status, its last checks, 24-hour
uptime and response time; filtered and searched with the monitor list's own parameters
(the API's MonitorFilterSerializer), and refreshed in place by static/web/live.js."""

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString

from accounts.actors import acting
from checks.figures.recent import RecentTick, latest_ticks
from checks.figures.stats import uptime_24h_annotation, uptime_24h_percent
from monitors.api.serializers import MonitorFilterSerializer
from monitors.models import Monitor, Region

from .charts import check_bar, sparkline

# Checks drawn per monitor, as in Uptime Kuma's bar.
RECENT_CHECKS = 30
# Monitors per page, worst status first: whatever is down is on the first page, and a page
# draws in well under its budget however many monitors the account holds (bench/pages).
PAGE_SIZE = 100
# What the filter form sends; an empty value means "any".
FILTERS = ("status", "region", "is_active", "search")


@dataclass
class Row:
    monitor: Monitor
    uptime_24h: float | None
    response_time_ms: int | None
    check_bar: SafeString
    sparkline: SafeString


def _filters(request: HttpRequest) -> tuple[dict, dict[str, list[str]]]:
    """The filters asked for, validated by the API's rules, and the errors of those refused
    (the page then shows every monitor and says why)."""
    given = {name: request.GET[name] for name in FILTERS if request.GET.get(name, "").strip()}
    query = MonitorFilterSerializer(data=given)
    if not query.is_valid():
        return {}, {name: [str(error) for error in errors] for name, errors in query.errors.items()}
    return query.filters(), {}


def _row(monitor: Monitor, ticks: list[RecentTick]) -> Row:
    timed = [tick.response_time_ms if tick.status == "up" else None for tick in ticks]
    latest_up = next((tick.response_time_ms for tick in reversed(ticks) if tick.status == "up"), None)
    return Row(
        monitor=monitor,
        uptime_24h=uptime_24h_percent(monitor),
        response_time_ms=latest_up,
        check_bar=check_bar(ticks, RECENT_CHECKS),
        sparkline=sparkline(timed),
    )


def rows(organization, filters: dict, page_number: str | None) -> tuple[list[Row], Page]:
    """One page of the monitors matching `filters`, worst status first, as drawn."""
    # The page's ids first, then those monitors with their 24-hour uptime: an OFFSET over the
    # annotated query would work out the uptime of every monitor before the page too.
    listed = Monitor.objects.owned_by(organization).listed(ordering="status", **filters).values_list("pk", flat=True)
    page = Paginator(listed, PAGE_SIZE).get_page(page_number)
    ids = list(page.object_list)
    shown = Monitor.objects.prefetch_related("regions").annotate(**uptime_24h_annotation()).in_bulk(ids)
    monitors = [shown[pk] for pk in ids if pk in shown]  # one deleted in between is left out
    ticks = latest_ticks(ids, RECENT_CHECKS)
    return [_row(monitor, ticks[monitor.pk]) for monitor in monitors], page


def _context(request: HttpRequest) -> dict:
    filters, errors = _filters(request)
    shown, page = rows(acting(request).organization, filters, request.GET.get("page"))
    counts = dict(
        Monitor.objects.owned_by(acting(request).organization)
        .order_by()
        .values("status")
        .annotate(count=Count("id"))
        .values_list("status", "count")
    )
    # Page links keep the filters.
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "rows": shown,
        "page": page,
        "page_query": query.urlencode(),
        "counts": [(status, counts[status]) for status, _ in Monitor.Status.choices if counts.get(status)],
        "total": sum(counts.values()),
        "filter_errors": errors,
        "query": {name: request.GET.get(name, "") for name in FILTERS},
        "statuses": Monitor.Status.choices,
        "regions": Region.objects.order_by("slug"),
        "nav": "dashboard",
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "web/dashboard.html", _context(request))


@login_required
def dashboard_rows(request: HttpRequest) -> HttpResponse:
    """The dashboard's changing part alone, for live.js to swap in."""
    return render(request, "web/_dashboard_live.html", _context(request))
