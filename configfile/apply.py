"""Applying a file: the plan made again inside one transaction (under a lock on the organization,
so what it read is what it changes) and carried out step by step through the apps' domain
functions. All or nothing; a plan with no changes writes nothing at all."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Organization
from audit.models import AuditEvent
from audit.recording import LOGGED_NAMES, as_one_whole, record
from monitors import maintenance, services
from monitors.bulk import create_monitors
from monitors.models import MaintenanceWindow, Monitor
from notifications.models import Channel
from statuspages.models import StatusPage
from statuspages.services import delete_page, save_page

from .format import ConfigError, ConfigInvalid, Lines
from .plan import Plan, Step, make_plan
from .rules import Wanted


def apply_document(
    organization,
    document: Any,
    lines: Lines | None = None,
    *,
    prune: bool = False,
    environ: Mapping[str, str] | None = None,
    over_api: bool = False,
) -> Plan:
    """Make the organization what the document says; returns the plan carried out.
    Raises ConfigInvalid (nothing written) for a file with errors."""
    with transaction.atomic():
        # One apply per organization at a time: a second waits here, then plans against the first's result.
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        plan = make_plan(organization, document, lines, prune=prune, environ=environ, over_api=over_api)
        if plan.has_changes:
            # One entry in the audit log for the whole file, not one per object it touched.
            with as_one_whole():
                _Writer(organization, plan).run()
            record(organization.pk, "applied", "config file", changes=_logged(plan), source=AuditEvent.Source.FILE)
    return plan


def _logged(plan: Plan) -> dict:
    logged: dict = {"summary": plan.summary()}
    for action in ("create", "change", "delete"):
        steps = plan.of(action)
        if steps:
            names = [f"{step.section}: {step.key}" for step in steps[:LOGGED_NAMES]]
            logged[action] = {"count": len(steps), "names": names}
    return logged


class _Writer:
    def __init__(self, organization, plan: Plan):
        self.organization, self.plan = organization, plan
        self.items = plan.judged.items
        self.steps = {(step.section, step.key): step for step in plan.steps}
        self.channels: dict[str, Channel] = {}
        self.monitors: dict[str, Monitor] = {}

    def run(self) -> None:
        self.write_channels()
        self.write_monitors()
        self.write_windows()
        self.write_pages()

    def deleted(self, section: str) -> list[int]:
        return [step.id for step in self.plan.of("delete", section) if step.id is not None]

    def changed(self, section: str, key: str) -> dict:
        step = self.steps.get((section, key))
        return step.fields if step is not None and step.action == "change" else {}

    @contextmanager
    def located(self, wanted: Wanted | None, field: str = "") -> Iterator[None]:
        """A rule a domain function applies as it writes (a race since the plan, or one
        only the database knows) is reported like the plan's errors; the transaction ends."""
        label = wanted.label if wanted else ""
        try:
            yield
        except ValidationError as exc:
            errors = [
                ConfigError(label, name if name != "__all__" else field, message)
                for name, messages in exc.message_dict.items()
                for message in messages
            ]
            raise ConfigInvalid(errors) from None
        except services.MonitorQuotaExceeded as exc:
            raise ConfigInvalid([ConfigError("monitors", "", str(exc))]) from None
        except IntegrityError:
            message = "Another change to the account got there first; plan and apply again."
            raise ConfigInvalid([ConfigError(label, field, message)]) from None

    # --- channels ------------------------------------------------------------------------

    def write_channels(self) -> None:
        Channel.objects.filter(pk__in=self.deleted("channels"), organization=self.organization).delete()
        wanted_channels = self.items["channels"]
        stored = Channel.objects.in_bulk([w.existing_id for w in wanted_channels.values() if w.existing_id])
        for name, wanted in wanted_channels.items():
            with self.located(wanted):
                if wanted.existing_id is None:
                    # As the API creates one (notifications has no create function of its own).
                    channel = Channel.objects.create(organization=self.organization, **wanted.values)
                else:
                    channel = stored[wanted.existing_id]
                    if changed := self.changed("channels", name):
                        for field in changed:
                            setattr(channel, field, wanted.values[field])
                        channel.save(update_fields=[*changed, "updated_at"])
            self.channels[name] = channel

    # --- monitors ------------------------------------------------------------------------

    def write_monitors(self) -> None:
        deleted = Monitor.objects.in_bulk(self.deleted("monitors"))
        for monitor in deleted.values():
            services.delete_monitor(monitor)
        wanted_monitors = self.items["monitors"]
        changing = {step.id for step in self.plan.of("change", "monitors")}
        existing = [w.existing_id for w in wanted_monitors.values() if w.existing_id]
        full = Monitor.objects.in_bulk(changing)
        light = Monitor.objects.only("id", "name", "organization_id").in_bulk(
            [pk for pk in existing if pk not in changing]
        )
        for name, wanted in wanted_monitors.items():
            if wanted.existing_id:
                self.monitors[name] = full.get(wanted.existing_id) or light[wanted.existing_id]

        # Links are removed first and added last, parents before children, so no step ever
        # meets a cycle or a chain deeper than the file's own (parent_errors runs on each).
        adding: list[str] = []
        for step in self.plan.of("change", "monitors"):
            adding += self.update_monitor(step, wanted_monitors[step.key])
        depth = _depths({name: w.refs["parents"] for name, w in wanted_monitors.items()})
        new = [name for name, w in wanted_monitors.items() if w.existing_id is None]
        for level in sorted({depth[name] for name in new}):
            names = [name for name in new if depth[name] == level]
            specs = [self.monitor_spec(wanted_monitors[name]) for name in names]
            with self.located(None):
                created = create_monitors(self.organization, specs)
            self.monitors.update(zip(names, created, strict=True))
        for name in sorted(adding, key=depth.__getitem__):
            wanted = wanted_monitors[name]
            with self.located(wanted, "parents"):
                services.update_monitor(self.monitors[name], parents=self.parents_of(wanted))

    def parents_of(self, wanted: Wanted) -> list[Monitor]:
        return [self.monitors[name] for name in wanted.refs["parents"]]

    def monitor_spec(self, wanted: Wanted) -> dict:
        channels = wanted.refs["channels"]
        return {
            "regions": [self.plan.account.regions[slug] for slug in wanted.refs["regions"]],
            # None: the organization's default channels, the file's among them (written above).
            "channels": None if channels is None else [self.channels[name] for name in channels],
            "parents": self.parents_of(wanted),
            **wanted.values,
        }

    def update_monitor(self, step: Step, wanted: Wanted) -> list[str]:
        """Pass one of a changed monitor: its fields, regions and channels, and its parents
        less those to add. Returns [its name] when parents are still to be added."""
        changed = step.fields
        fields = {name: wanted.values[name] for name in changed if name in wanted.values}
        if "paused" in changed:
            fields["is_active"] = wanted.values["is_active"]
        regions = channels = parents = None
        if "regions" in changed:
            regions = [self.plan.account.regions[slug] for slug in wanted.refs["regions"]]
        if "channels" in changed:
            channels = [self.channels[name] for name in wanted.refs["channels"]]
        to_add: list[str] = []
        if "parents" in changed:
            old = set(changed["parents"][0])
            parents = [self.monitors[name] for name in wanted.refs["parents"] if name in old]
            to_add = [step.key] if set(wanted.refs["parents"]) - old else []
        with self.located(wanted):
            services.update_monitor(self.monitors[step.key], regions, channels, parents, **fields)
        return to_add

    # --- maintenance windows and status pages --------------------------------------------

    def write_windows(self) -> None:
        for window in MaintenanceWindow.objects.filter(pk__in=self.deleted("maintenance_windows")):
            window.delete()
        wanted_windows = self.items["maintenance_windows"]
        stored = MaintenanceWindow.objects.in_bulk([w.existing_id for w in wanted_windows.values() if w.existing_id])
        for name, wanted in wanted_windows.items():
            monitors = [self.monitors[monitor] for monitor in wanted.refs["monitors"]]
            with self.located(wanted):
                if wanted.existing_id is None:
                    maintenance.create_window(self.organization, monitors, **wanted.values)
                elif changed := self.changed("maintenance_windows", name):
                    fields = {field: wanted.values[field] for field in changed if field != "monitors"}
                    maintenance.update_window(
                        stored[wanted.existing_id], monitors if "monitors" in changed else None, **fields
                    )

    def write_pages(self) -> None:
        for gone in StatusPage.objects.filter(pk__in=self.deleted("status_pages")):
            delete_page(gone)
        wanted_pages = self.items["status_pages"]
        stored = StatusPage.objects.in_bulk([w.existing_id for w in wanted_pages.values() if w.existing_id])
        for slug, wanted in wanted_pages.items():
            changed = self.changed("status_pages", slug)
            if wanted.existing_id is not None and not changed:
                continue
            sections = [
                {
                    "name": section["name"],
                    "components": [
                        {"monitor": self.monitors[c["monitor"]], "name": c["name"]} for c in section["components"]
                    ],
                }
                for section in wanted.refs["sections"]
            ]
            page: StatusPage | None = stored[wanted.existing_id] if wanted.existing_id else None
            fields = {name: value for name, value in wanted.values.items() if page is None or name in changed}
            with self.located(wanted):
                save_page(self.organization, page, fields, sections if page is None or "sections" in changed else None)


def _depths(parents: dict[str, list[str]]) -> dict[str, int]:
    """Each monitor's level in the file's dependency graph: 0 without parents, else one more
    than its deepest parent's (the graph is acyclic: the plan refused cycles)."""
    depth: dict[str, int] = {}

    def level(name: str) -> int:
        if name not in depth:
            depth[name] = 1 + max((level(parent) for parent in parents.get(name, ())), default=-1)
        return depth[name]

    for name in parents:
        level(name)
    return depth
