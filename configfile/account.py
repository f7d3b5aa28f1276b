"""What an account holds now, read once for a plan or an export: a few queries whatever its
size, no query per object. `organization` is the single parameter that scopes everything (an
organization can take its place)."""

from collections import defaultdict
from dataclasses import dataclass, field

from monitors.models import MaintenanceWindow, Monitor, Region
from monitors.services import EDITABLE_FIELDS as MONITOR_FIELDS
from notifications.models import Channel
from statuspages.models import Component, Section, StatusPage

CHANNEL_FIELDS = ("name", "kind", "url", "email", "apprise_url", "is_default", "reminder_minutes")
WINDOW_FIELDS = ("name", "starts_at", "ends_at", "recurrence")
PAGE_FIELDS = ("slug", "title", "description", "show_regions", "domain")


@dataclass
class Account:
    regions: dict[str, Region]  # every region, by slug
    monitors: dict[int, dict]  # by id: MONITOR_FIELDS, with regions, channels and parents (sets of ids)
    channels: dict[int, dict]  # by id: CHANNEL_FIELDS
    windows: dict[int, dict]  # by id: WINDOW_FIELDS, with monitors (a set of ids)
    pages: dict[int, dict]  # by id: PAGE_FIELDS, with sections [{name, components: [{monitor (id), name}]}]
    region_slugs: dict[int, str] = field(init=False)

    def __post_init__(self):
        self.region_slugs = {region.pk: slug for slug, region in self.regions.items()}

    def by_key(self, kind: str) -> dict[str, list[int]]:
        """Ids by name (by slug for status pages): more than one id is a duplicate name."""
        rows, key = {
            "monitors": (self.monitors, "name"),
            "channels": (self.channels, "name"),
            "maintenance_windows": (self.windows, "name"),
            "status_pages": (self.pages, "slug"),
        }[kind]
        found: dict[str, list[int]] = defaultdict(list)
        for pk, row in rows.items():
            found[row[key]].append(pk)
        return found


def read_account(organization) -> Account:
    monitors = {
        row["id"]: row for row in Monitor.objects.filter(organization=organization).values("id", *MONITOR_FIELDS)
    }
    for row in monitors.values():
        row.update(regions=set(), channels=set(), parents=set())
    links = [
        (
            Monitor.regions.through.objects.filter(monitor__organization=organization),
            "monitor_id",
            "region_id",
            "regions",
        ),
        (
            Channel.monitors.through.objects.filter(
                monitor__organization=organization,
                channel__organization=organization,
                channel__audience=Channel.Audience.OWNER,
            ),
            "monitor_id",
            "channel_id",
            "channels",
        ),
        (
            Monitor.parents.through.objects.filter(from_monitor__organization=organization),
            "from_monitor_id",
            "to_monitor_id",
            "parents",
        ),
    ]
    for query, left, right, name in links:
        for monitor_id, other_id in query.values_list(left, right):
            monitors[monitor_id][name].add(other_id)

    channels = {row["id"]: row for row in Channel.objects.owned_by(organization).values("id", *CHANNEL_FIELDS)}

    windows = {
        row["id"]: row
        for row in MaintenanceWindow.objects.filter(organization=organization).values("id", *WINDOW_FIELDS)
    }
    for row in windows.values():
        row["monitors"] = set()
    through = MaintenanceWindow.monitors.through.objects.filter(maintenancewindow__organization=organization)
    for window_id, monitor_id in through.values_list("maintenancewindow_id", "monitor_id"):
        windows[window_id]["monitors"].add(monitor_id)

    pages = {row["id"]: row for row in StatusPage.objects.filter(organization=organization).values("id", *PAGE_FIELDS)}
    sections: dict[int, dict] = {}
    for row in pages.values():
        row["sections"] = []
    for section in Section.objects.filter(page__organization=organization).order_by("page", "position", "id").values():
        sections[section["id"]] = {"name": section["name"], "components": []}
        pages[section["page_id"]]["sections"].append(sections[section["id"]])
    components = Component.objects.filter(section__page__organization=organization).order_by(
        "section", "position", "id"
    )
    for section_id, monitor_id, name in components.values_list("section_id", "monitor_id", "name"):
        sections[section_id]["components"].append({"monitor": monitor_id, "name": name})

    return Account(
        regions={region.slug: region for region in Region.objects.all()},
        monitors=monitors,
        channels=channels,
        windows=windows,
        pages=pages,
    )
