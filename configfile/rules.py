"""The file's items judged by the API's own rules (monitors.validation, notifications.validation,
monitors.maintenance, statuspages.validation), names resolved, each item's complete wanted
values worked out: every problem at once, located by item, field and line."""

from dataclasses import dataclass, field
from typing import Any

from accounts.organizations import monitor_quota
from monitors.maintenance import window_errors
from monitors.services import EDITABLE_FIELDS as MONITOR_FIELDS
from monitors.validation import MAX_DEPENDENCY_DEPTH, MAX_PARENTS, RULE_FIELDS, monitor_errors
from notifications.validation import POSTING_KINDS, channel_errors
from statuspages.models import StatusPage
from statuspages.validation import domain_error, sections_error

from .account import Account
from .document import as_datetime
from .format import (
    CHANNEL_KEYS,
    MONITOR_KEYS,
    PAGE_KEYS,
    REQUIRED,
    SECTIONS,
    WINDOW_KEYS,
    ConfigError,
    Key,
    Lines,
    item_label,
)


@dataclass
class Wanted:
    """One item of the file as it is to be: model field values and references by name."""

    label: str
    index: int
    values: dict
    refs: dict = field(default_factory=dict)
    existing_id: int | None = None


@dataclass
class Judged:
    # By section, by key (name or slug), in the file's order.
    items: dict[str, dict[str, Wanted]]
    errors: list[ConfigError]


def _defaults(keys: tuple[Key, ...]) -> dict[str, Any]:
    return {key.name: key.default for key in keys if key.default is not REQUIRED}


class _Judge:
    def __init__(self, data: dict, lines: Lines, bad_items: set, account: Account, organization):
        self.data, self.lines, self.bad, self.account, self.organization = data, lines, bad_items, account, organization
        self.errors: list[ConfigError] = []
        self.items: dict[str, dict[str, Wanted]] = {section: {} for section in SECTIONS}
        # Every name the file gives, even an item's with errors: a reference to it is not
        # one more error.
        self.names = {
            section: {item.get(key) for item in data.get(section) or [] if isinstance(item, dict)}
            for section, (_, key) in SECTIONS.items()
        }

    def error(self, wanted: Wanted, section: str, name: str, message: str, path: tuple = ()) -> None:
        line = self.lines.line(section, wanted.index, *(path or (name,)))
        self.errors.append(ConfigError(wanted.label, name, message, line))

    def each(self, section: str, keys: tuple[Key, ...], base: dict | None = None):
        key_name = SECTIONS[section][1]
        defaults = {**_defaults(keys), **(base or {})}
        stored = self.account.by_key(section)
        for index, item in enumerate(self.data.get(section) or []):
            if (section, index) in self.bad:
                continue
            key = item[key_name]
            wanted = Wanted(item_label(section, index, key), index, {**defaults, **item})
            ids = stored.get(key, [])
            if len(ids) > 1:
                listed = ", ".join(str(pk) for pk in sorted(ids))
                self.error(
                    wanted,
                    section,
                    key_name,
                    f"{len(ids)} in the account have this {key_name} (ids {listed}); rename all but one.",
                )
            elif ids:
                wanted.existing_id = ids[0]
            self.items[section][key] = wanted
            yield wanted

    def references(self, wanted: Wanted, section: str, name: str, target: str, given: list) -> list:
        unknown = [ref for ref in given if ref not in self.names[target]]
        if unknown:
            quoted = ", ".join(f'"{ref}"' for ref in unknown)
            self.error(wanted, section, name, f"Not in the file's {target}: {quoted}.")
        return given

    # --- channels ------------------------------------------------------------------------

    def channels(self) -> None:
        for wanted in self.each("channels", CHANNEL_KEYS):
            values = {key.name: wanted.values[key.name] for key in CHANNEL_KEYS}
            stored = self.account.channels.get(wanted.existing_id) if wanted.existing_id else None
            for name, message in channel_errors(values, stored).items():
                self.error(wanted, "channels", name, message)
            # As the API keeps them: a channel holds only the address its kind uses.
            kind = values["kind"]
            if kind != "email":
                values["email"] = ""
            if kind not in POSTING_KINDS:
                values["url"] = ""
            if kind != "apprise":
                values["apprise_url"] = ""
            wanted.values = values

    # --- monitors ------------------------------------------------------------------------

    def monitors(self) -> None:
        if ("defaults", -1) in self.bad:
            return  # defaults.monitor has errors of its own: every monitor would repeat them
        base = (self.data.get("defaults") or {}).get("monitor") or {}
        for wanted in self.each("monitors", MONITOR_KEYS, base):
            merged = wanted.values
            values = {name: merged[name] for name in MONITOR_FIELDS if name != "is_active"}
            values["is_active"] = not merged["paused"]
            regions = merged.get("regions")
            if not regions:
                self.error(wanted, "monitors", "regions", "Give at least one region (here or in defaults.monitor).")
                regions = []
            elif unknown := [slug for slug in regions if slug not in self.account.regions]:
                known = ", ".join(self.account.regions)
                self.error(wanted, "monitors", "regions", f"No region {', '.join(unknown)}; the regions are {known}.")
            channels = merged["channels"]
            if channels is not None:
                self.references(wanted, "monitors", "channels", "channels", channels)
            parents = self.references(wanted, "monitors", "parents", "monitors", merged["parents"])
            wanted.values = values
            wanted.refs = {"regions": list(regions), "channels": channels, "parents": parents}
            rule_values = {name: values[name] for name in RULE_FIELDS}
            rule_values.update(quorum=values["quorum"], region_count=len(regions))
            stored = self.account.monitors.get(wanted.existing_id) if wanted.existing_id else None
            judged_against = {name: stored[name] for name in RULE_FIELDS} if stored else None
            for name, message in monitor_errors(rule_values, judged_against).items():
                self.error(wanted, "monitors", name, message)

    def quota(self, prune: bool) -> None:
        quota = monitor_quota(self.organization)
        file_monitors = self.items["monitors"]
        kept = {w.existing_id for w in file_monitors.values() if w.existing_id}
        new = sum(1 for w in file_monitors.values() if w.existing_id is None)
        total = (len(kept) if prune else len(self.account.monitors)) + new
        if quota and new and total > quota:
            message = f"This would make {total} monitors; the limit is {quota} (the organization's quota)."
            self.errors.append(ConfigError("monitors", "", message, self.lines.line("monitors")))

    def dependencies(self, prune: bool) -> None:
        """parent_errors' rules, on the graph as it will be (the file's monitors, new ones
        included, and those it leaves as they are), in memory."""
        file_monitors = self.items["monitors"]
        id_to_name = {w.existing_id: name for name, w in file_monitors.items() if w.existing_id}
        graph: dict[Any, set] = {name: set(w.refs["parents"]) for name, w in file_monitors.items()}
        if not prune:
            for pk, row in self.account.monitors.items():
                if pk not in id_to_name:
                    graph[pk] = {id_to_name.get(parent, parent) for parent in row["parents"]}
        children: dict[Any, set] = {}
        for node, parents in graph.items():
            for parent in parents:
                children.setdefault(parent, set()).add(node)
        for name, wanted in file_monitors.items():
            parents = graph[name]
            if not parents:
                continue
            message = None
            if len(parents) > MAX_PARENTS:
                message = f"Give at most {MAX_PARENTS} parent monitors."
            elif name in parents:
                message = "A monitor cannot depend on itself."
            else:
                above, below = _levels(graph, parents), _levels(children, {name})
                if any(name in level for level in above):
                    message = "That would make a cycle: a parent monitor depends on this one."
                elif len(above) + 2 + len(below) > MAX_DEPENDENCY_DEPTH + 1:
                    message = f"Dependencies may be at most {MAX_DEPENDENCY_DEPTH} levels deep."
            if message:
                self.error(wanted, "monitors", "parents", message)

    # --- maintenance windows and status pages --------------------------------------------

    def windows(self) -> None:
        for wanted in self.each("maintenance_windows", WINDOW_KEYS):
            values = {key.name: wanted.values[key.name] for key in WINDOW_KEYS if key.name != "monitors"}
            values["starts_at"], values["ends_at"] = as_datetime(values["starts_at"]), as_datetime(values["ends_at"])
            monitors = self.references(wanted, "maintenance_windows", "monitors", "monitors", wanted.values["monitors"])
            if not monitors:
                self.error(wanted, "maintenance_windows", "monitors", "Choose at least one monitor.")
            for name, message in window_errors(values["starts_at"], values["ends_at"], values["recurrence"]).items():
                self.error(wanted, "maintenance_windows", name, message)
            wanted.values, wanted.refs = values, {"monitors": monitors}

    def pages(self) -> None:
        section = "status_pages"
        wanted_pages = list(self.each(section, PAGE_KEYS))
        slugs = {w.values["slug"] for w in wanted_pages}
        domains = {w.values["domain"] for w in wanted_pages if w.values["domain"]}
        others = StatusPage.objects.exclude(organization=self.organization)
        taken_slugs = set(others.filter(slug__in=slugs).values_list("slug", flat=True))
        taken_domains = set(others.filter(domain__in=domains).values_list("domain", flat=True))
        for wanted in wanted_pages:
            values = {key.name: wanted.values[key.name] for key in PAGE_KEYS if key.name != "sections"}
            values["domain"] = values["domain"] or None  # unique: "no domain" is NULL, never ""
            if values["slug"] in taken_slugs:
                self.error(wanted, section, "slug", "A status page with this slug already exists.")
            if values["domain"] in taken_domains:
                self.error(wanted, section, "domain", "A status page with this domain already exists.")
            elif values["domain"] and (message := domain_error(values["domain"])) is not None:
                self.error(wanted, section, "domain", message)
            sections: list[dict] = []
            shown: set[str] = set()
            for number, given in enumerate(wanted.values["sections"]):
                components = []
                for order, component in enumerate(given.get("components") or []):
                    monitor = component["monitor"]
                    path = ("sections", number, "components", order, "monitor")
                    where = f"sections[{number}].components[{order}].monitor"
                    if monitor not in self.names["monitors"]:
                        self.error(wanted, section, where, f'Not in the file\'s monitors: "{monitor}".', path)
                    elif monitor in shown:
                        self.error(
                            wanted,
                            section,
                            where,
                            f'Monitor "{monitor}" is shown twice; a page shows a monitor once.',
                            path,
                        )
                    shown.add(monitor)
                    components.append({"monitor": monitor, "name": component.get("name") or None})
                sections.append({"name": given.get("name") or "", "components": components})
            # The counts' rules; a name stands for the monitor (each is shown once by now).
            counted = [{"components": [{"monitor": _Named(c["monitor"])} for c in s["components"]]} for s in sections]
            if (message := sections_error(counted)) is not None:
                self.error(wanted, section, "sections", message)
            wanted.values, wanted.refs = values, {"sections": sections}


@dataclass(frozen=True)
class _Named:
    pk: str

    @property
    def name(self) -> str:
        return self.pk


def _levels(links: dict[Any, set], start: set) -> list[set]:
    """As monitors.validation._chain, in memory: the nodes `start` leads to, level by level
    (`start` itself not included), stopping past the depth limit (so a cycle ends too)."""
    levels: list[set] = []
    current = set(start)
    while current and len(levels) <= MAX_DEPENDENCY_DEPTH + 1:
        current = set().union(*(links.get(node, ()) for node in current))
        if current:
            levels.append(current)
    return levels


def judge(data: dict, lines: Lines, bad_items: set, account: Account, organization, prune: bool) -> Judged:
    judge = _Judge(data, lines, bad_items, account, organization)
    judge.channels()
    judge.monitors()
    judge.quota(prune)
    judge.dependencies(prune)
    judge.windows()
    judge.pages()
    return Judged(judge.items, judge.errors)
