"""What a status page shows the public, read in a fixed number of queries and kept to what
the owner chose to publish: component names (never a monitor's name or URL), their states
and daily uptime, the owner's incidents with their updates, the outages the checks saw (times
only: no error text, and no region unless the page shows regions), and maintenance times."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

from django.db.models import Prefetch, Q
from django.utils import timezone

from checks.figures.series import DayCounts, days_of
from checks.models import Incident
from monitors.maintenance import current_or_next, windows_of
from monitors.models import Monitor

from .models import Component, IncidentUpdate, PageIncident, StatusPage

DAYS_SHOWN = 90
HISTORY_DAYS = 14

# A monitor's status as a visitor reads it (Statuspage's words), worst first.
STATES = {
    "major_outage": "Major outage",
    "partial_outage": "Partial outage",
    "maintenance": "Under maintenance",
    "operational": "Operational",
    "unknown": "No data",
}
STATE_OF_STATUS: dict[str, str] = {
    Monitor.Status.DOWN: "major_outage",
    # Failing behind a parent monitor that is down: to a visitor, as down as it.
    Monitor.Status.UNREACHABLE: "major_outage",
    # Some regions see it down, fewer than the quorum.
    Monitor.Status.DEGRADED: "partial_outage",
    Monitor.Status.MAINTENANCE: "maintenance",
    Monitor.Status.UP: "operational",
    Monitor.Status.PENDING: "unknown",
    Monitor.Status.PAUSED: "unknown",
}
OVERALL = {
    "major_outage": "Major outage",
    "partial_outage": "Partial outage",
    "maintenance": "Maintenance in progress",
    "operational": "All systems operational",
    "unknown": "Status not known yet",
}


@dataclass
class ShownComponent:
    id: int
    name: str
    state: str
    days: DayCounts

    @property
    def state_label(self) -> str:
        return STATES[self.state]

    @cached_property
    def checks(self) -> int:
        return sum(self.days.checks)

    @cached_property
    def up(self) -> int:
        return sum(self.days.up)

    @cached_property
    def uptime_percent(self) -> float | None:
        checks = self.checks
        return round(100 * self.up / checks, 3) if checks else None


@dataclass
class ShownSection:
    name: str
    components: list[ShownComponent]


@dataclass
class Outage:
    """A stretch the checks saw a component down (checks' Incident), as the public sees it."""

    components: list[str]
    started_at: datetime
    resolved_at: datetime | None
    regions: list[str]  # empty unless the page shows regions


@dataclass
class Maintenance:
    components: list[str]
    starts_at: datetime
    ends_at: datetime
    in_progress: bool


@dataclass
class HistoryDay:
    day: date
    incidents: list[PageIncident] = field(default_factory=list)
    outages: list[Outage] = field(default_factory=list)


@dataclass
class PublicPage:
    page: StatusPage
    state: str
    sections: list[ShownSection]
    incidents: list[PageIncident]  # the owner's, open ones first, then the last 14 days'
    outages: list[Outage]  # the checks', open ones and the last 14 days'
    maintenance: list[Maintenance]
    generated_at: datetime

    @property
    def state_label(self) -> str:
        return OVERALL[self.state]

    @property
    def open_incidents(self) -> list[PageIncident]:
        return [incident for incident in self.incidents if incident.is_open]

    @property
    def open_outages(self) -> list[Outage]:
        return [outage for outage in self.outages if outage.resolved_at is None]

    @property
    def history(self) -> list[HistoryDay]:
        """The last 14 days, newest first, each with what began on it."""
        today = self.generated_at.date()
        days = {today - timedelta(days=n): HistoryDay(today - timedelta(days=n)) for n in range(HISTORY_DAYS)}
        for incident in self.incidents:
            if (day := days.get(incident.started_at.date())) is not None:
                day.incidents.append(incident)
        for outage in self.outages:
            if (day := days.get(outage.started_at.date())) is not None:
                day.outages.append(outage)
        return list(days.values())


def overall_state(states: list[str]) -> str:
    known = [state for state in states if state != "unknown"]
    if not known:
        return "unknown"
    return min(known, key=list(STATES).index)


def read(page: StatusPage, now: datetime | None = None) -> PublicPage:
    now = now or timezone.now()
    # Plain rows, not model instances: a page has up to 100 components.
    components = list(
        Component.objects.filter(section__page=page).values_list(
            "id", "name", "monitor_id", "section_id", "section__name", "monitor__status"
        )
    )
    days = days_of(sorted({row[2] for row in components}), DAYS_SHOWN, now)
    sections: dict[int, ShownSection] = {}
    names_of: dict[int, list[str]] = {}
    for component_id, name, monitor_id, section_id, section_name, status in components:
        shown = ShownComponent(
            id=component_id, name=name, state=STATE_OF_STATUS.get(status, "unknown"), days=days[monitor_id]
        )
        sections.setdefault(section_id, ShownSection(section_name, [])).components.append(shown)
        names_of.setdefault(monitor_id, []).append(name)
    since = now - timedelta(days=HISTORY_DAYS)
    return PublicPage(
        page=page,
        state=overall_state([c.state for section in sections.values() for c in section.components]),
        sections=list(sections.values()),
        incidents=_incidents(page, since),
        outages=_outages(names_of, since, page.show_regions),
        maintenance=_maintenance(names_of, now),
        generated_at=now,
    )


def _incidents(page: StatusPage, since: datetime) -> list[PageIncident]:
    incidents = (
        PageIncident.objects.filter(Q(resolved_at__isnull=True) | Q(started_at__gte=since), page=page)
        .prefetch_related(
            Prefetch("updates", queryset=IncidentUpdate.objects.order_by("-posted_at", "-id")),
            Prefetch("components", queryset=Component.objects.only("id", "name")),
        )
        .order_by("-started_at", "-id")
    )
    # Open ones first, whenever they began.
    return sorted(incidents, key=lambda incident: not incident.is_open)


def _outages(names_of: dict[int, list[str]], since: datetime, show_regions: bool) -> list[Outage]:
    if not names_of:
        return []
    found = Incident.objects.filter(
        Q(resolved_at__isnull=True) | Q(started_at__gte=since), monitor_id__in=list(names_of)
    ).order_by("-started_at", "-id")
    return [
        Outage(
            components=names_of[monitor_id],
            started_at=started_at,
            resolved_at=resolved_at,
            regions=list(regions) if show_regions else [],
        )
        for monitor_id, started_at, resolved_at, regions in found.values_list(
            "monitor_id", "started_at", "resolved_at", "regions"
        )
    ]


def _maintenance(names_of: dict[int, list[str]], now: datetime) -> list[Maintenance]:
    """Each window's occurrence in force or next, with the components it covers (never the
    window's name: the owner wrote it for themselves)."""
    covered: dict[int, tuple] = {}
    for monitor_id, windows in windows_of(names_of, now).items():
        for window in windows:
            entry = covered.setdefault(window.pk, (window, []))
            entry[1].extend(names_of[monitor_id])
    shown = []
    for window, components in covered.values():
        occurrence = current_or_next([window], now)
        if occurrence is not None:
            shown.append(
                Maintenance(
                    sorted(set(components)), occurrence.starts_at, occurrence.ends_at, occurrence.is_current(now)
                )
            )
    return sorted(shown, key=lambda m: m.starts_at)


def as_json(public: PublicPage, page_url: str) -> dict:
    """The page as JSON: what the HTML shows, no more."""
    page = public.page

    def at(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "page": {"slug": page.slug, "title": page.title, "description": page.description, "url": page_url},
        "status": {"indicator": public.state, "description": public.state_label},
        "sections": [
            {
                "name": section.name,
                "components": [
                    {
                        "id": component.id,
                        "name": component.name,
                        "status": component.state,
                        "uptime_percent": component.uptime_percent,
                        # Columns rather than an object a day: 50 components of 90 days.
                        "days": {
                            "first": component.days.first.isoformat(),
                            "checks": component.days.checks,
                            "up": component.days.up,
                        },
                    }
                    for component in section.components
                ],
            }
            for section in public.sections
        ],
        "incidents": [
            {
                "id": incident.pk,
                "title": incident.title,
                "status": incident.status,
                "started_at": at(incident.started_at),
                "resolved_at": at(incident.resolved_at),
                "components": [component.name for component in incident.components.all()],
                "updates": [
                    {"status": update.status, "message": update.message, "posted_at": at(update.posted_at)}
                    for update in incident.updates.all()
                ],
            }
            for incident in public.incidents
        ],
        "outages": [
            {
                "components": outage.components,
                "started_at": at(outage.started_at),
                "resolved_at": at(outage.resolved_at),
                **({"regions": outage.regions} if page.show_regions else {}),
            }
            for outage in public.outages
        ],
        "maintenance": [
            {
                "components": m.components,
                "starts_at": at(m.starts_at),
                "ends_at": at(m.ends_at),
                "in_progress": m.in_progress,
            }
            for m in public.maintenance
        ],
        "generated_at": at(public.generated_at),
    }
