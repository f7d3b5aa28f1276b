"""What a status page shows the public, read in a fixed number of queries and kept to what
the owner chose to publish: component names (never a monitor's name or URL), their states
and daily uptime, the owner's incidents with their updates, the outages the checks saw (times
only: no error text, and no region unless the page shows regions), and maintenance times."""

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

from django.db import connection
from django.utils import timezone

from checks.figures.series import DayCounts, days_of
from monitors.maintenance import current_or_next, windows_of
from monitors.models import Monitor

from .models import PageIncident, StatusPage

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
STATUS_LABELS = dict(PageIncident.Status.choices)
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
class ShownUpdate:
    status: str
    message: str
    posted_at: datetime

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass
class ShownIncident:
    """One of the owner's incidents as the page shows it: its components by their shown names."""

    id: int
    title: str
    status: str
    started_at: datetime
    resolved_at: datetime | None
    components: list[str]
    updates: list[ShownUpdate]  # newest first

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


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
    incidents: list[ShownIncident] = field(default_factory=list)
    outages: list[Outage] = field(default_factory=list)


@dataclass
class PublicPage:
    page: StatusPage
    state: str
    sections: list[ShownSection]
    incidents: list[ShownIncident]  # the owner's, open ones first, then the last 14 days'
    outages: list[Outage]  # the checks', open ones and the last 14 days'
    maintenance: list[Maintenance]
    generated_at: datetime

    @property
    def state_label(self) -> str:
        return OVERALL[self.state]

    @property
    def open_incidents(self) -> list[ShownIncident]:
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
    """Five queries whatever the page's size: its components, their days, the owner's
    incidents, the checks' outages and the maintenance windows. Raw rows rather than model
    instances: a page has up to 100 components, and the ORM's building of queries and
    objects was a fifth of an uncached page's time (docs/benchmarks.md)."""
    now = now or timezone.now()
    since = now - timedelta(days=HISTORY_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(_COMPONENTS_SQL, [page.pk])
        components = cursor.fetchall()
    days = days_of(sorted({row[2] for row in components}), DAYS_SHOWN, now)
    sections: dict[int, ShownSection] = {}
    names_of: dict[int, list[str]] = {}
    for component_id, name, monitor_id, section_id, section_name, status in components:
        shown = ShownComponent(
            id=component_id, name=name, state=STATE_OF_STATUS.get(status, "unknown"), days=days[monitor_id]
        )
        sections.setdefault(section_id, ShownSection(section_name, [])).components.append(shown)
        names_of.setdefault(monitor_id, []).append(name)
    return PublicPage(
        page=page,
        state=overall_state([c.state for section in sections.values() for c in section.components]),
        sections=list(sections.values()),
        incidents=_incidents(page, since),
        outages=_outages(names_of, since, page.show_regions),
        maintenance=_maintenance(names_of, now),
        generated_at=now,
    )


# In Component's order (its Meta.ordering).
_COMPONENTS_SQL = """
    SELECT component.id, component.name, component.monitor_id, section.id, section.name, monitor.status
    FROM statuspages_section AS section
    JOIN statuspages_component AS component ON component.section_id = section.id
    JOIN monitors_monitor AS monitor ON monitor.id = component.monitor_id
    WHERE section.page_id = %s
    ORDER BY section.position, section.id, component.position, component.id
"""

# Open ones first whenever they began, then the last days' (by the page's index on
# (page, -started_at)), newest first; each with its components' names in Component's
# order and its updates newest first, as arrays: one query where prefetching took three.
_INCIDENTS_SQL = """
    SELECT incident.id, incident.title, incident.status, incident.started_at, incident.resolved_at,
        ARRAY(
            SELECT component.name
            FROM statuspages_pageincident_components AS link
            JOIN statuspages_component AS component ON component.id = link.component_id
            JOIN statuspages_section AS section ON section.id = component.section_id
            WHERE link.pageincident_id = incident.id
            ORDER BY section.position, section.id, component.position, component.id
        ),
        updates.statuses, updates.messages, updates.posted
    FROM statuspages_pageincident AS incident
    CROSS JOIN LATERAL (
        SELECT array_agg(status ORDER BY posted_at DESC, id DESC) AS statuses,
            array_agg(message ORDER BY posted_at DESC, id DESC) AS messages,
            array_agg(posted_at ORDER BY posted_at DESC, id DESC) AS posted
        FROM statuspages_incidentupdate WHERE incident_id = incident.id
    ) AS updates
    WHERE incident.page_id = %(page)s AND (incident.resolved_at IS NULL OR incident.started_at >= %(since)s)
    ORDER BY incident.resolved_at IS NOT NULL, incident.started_at DESC, incident.id DESC
"""


def _incidents(page: StatusPage, since: datetime) -> list[ShownIncident]:
    with connection.cursor() as cursor:
        cursor.execute(_INCIDENTS_SQL, {"page": page.pk, "since": since})
        rows = cursor.fetchall()
    return [
        ShownIncident(
            id=incident_id,
            title=title,
            status=status,
            started_at=started_at,
            resolved_at=resolved_at,
            components=components,
            updates=[ShownUpdate(*update) for update in zip(statuses or (), messages or (), posted or (), strict=True)],
        )
        for incident_id, title, status, started_at, resolved_at, components, statuses, messages, posted in rows
    ]


# By the index on (monitor, -started_at) and the open ones' partial index.
_OUTAGES_SQL = """
    SELECT monitor_id, started_at, resolved_at, regions
    FROM checks_incident
    WHERE monitor_id = ANY(%(monitors)s) AND (resolved_at IS NULL OR started_at >= %(since)s)
    ORDER BY started_at DESC, id DESC
"""


def _outages(names_of: dict[int, list[str]], since: datetime, show_regions: bool) -> list[Outage]:
    if not names_of:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_OUTAGES_SQL, {"monitors": list(names_of), "since": since})
        rows = cursor.fetchall()
    # The regions come as JSON text (Django's loader for jsonb), read only when shown.
    return [
        Outage(
            components=names_of[monitor_id],
            started_at=started_at,
            resolved_at=resolved_at,
            regions=json.loads(regions) if show_regions else [],
        )
        for monitor_id, started_at, resolved_at, regions in rows
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
                "id": incident.id,
                "title": incident.title,
                "status": incident.status,
                "started_at": at(incident.started_at),
                "resolved_at": at(incident.resolved_at),
                "components": incident.components,
                "updates": [
                    {"status": update.status, "message": update.message, "posted_at": at(update.posted_at)}
                    for update in incident.updates
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
