"""Creating many monitors at once (the bulk API, a config file's apply): the same rows
create_monitor writes, in a few statements for the whole batch rather than a score per
monitor, so 10,000 take seconds."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from notifications.models import Channel

from .copy_rows import assign_ids, copy_instances, copy_rows
from .models import Monitor
from .scheduling import first_slots, new_check_tasks, save_new_check_tasks
from .services import reserve_quota
from .validation import parent_errors


class InvalidSpecs(ValidationError):
    """Specs breaking a rule create_monitor enforces itself (the parents'): `by_index` is
    {index in the batch: {field: message}}."""

    def __init__(self, by_index: dict[int, dict[str, str]]):
        self.by_index = by_index
        super().__init__(
            {f"{index}.{field}": [message] for index, errors in by_index.items() for field, message in errors.items()}
        )


@transaction.atomic
def create_monitors(organization, specs: list[dict]) -> list[Monitor]:
    """Create many monitors in one transaction, all or nothing. Each spec is exactly the
    keyword arguments monitors.services.create_monitor takes (regions, channels, parents,
    **fields) with the same meaning: no channels given → the organization's default channels;
    quota (settings.MONITOR_QUOTA_PER_ORGANIZATION) counted for the whole batch; parents may be
    existing monitors.

    Like create_monitor, it checks the parents (InvalidSpecs, per index) and the quota
    (MonitorQuotaExceeded), not the settings: callers validate those first
    (monitors.validation.monitor_errors, as the API does). Unlike it, nothing is checked at
    once: each active monitor's first check is at its own slot within one interval from
    now (scheduling.first_slots), so a batch does not send all its checks together.
    """
    specs = [dict(spec) for spec in specs]  # the caller's stay as they were
    if not specs:
        return []
    reserve_quota(organization, len(specs))
    regions = [list(spec.pop("regions")) for spec in specs]
    channels = [spec.pop("channels", None) for spec in specs]
    parents = [list(spec.pop("parents", None) or ()) for spec in specs]
    _check_parents(organization, parents)

    monitors = [Monitor(organization=organization, **fields) for fields in specs]
    for monitor in monitors:
        monitor.status = Monitor.Status.PENDING if monitor.is_active else Monitor.Status.PAUSED
    assign_ids(Monitor, monitors)
    links = _links(organization, monitors, regions, channels, parents)
    slugs = {region.pk: region.slug for its_regions in regions for region in its_regions}
    tasks = new_check_tasks(
        monitors,
        {
            monitor.pk: [slugs[pk] for pk in dict.fromkeys(region.pk for region in its)]
            for monitor, its in zip(monitors, regions, strict=True)
        },
    )

    # Everything is built: the first slots are chosen now, just before the writing and the
    # commit, after which beat sees them (scheduling.first_slots).
    start = timezone.now()
    active = [monitor for monitor in monitors if monitor.is_active]
    first = {monitor.pk: slot for monitor, slot in zip(active, first_slots(active, start), strict=True)}
    for monitor in monitors:
        # The watchdog expects no slot before the first one (none before now, if paused).
        monitor.checking_since = first.get(monitor.pk, start)
    copy_instances(Monitor, monitors)
    for through, from_field, to_field, pairs in links:
        meta = through._meta
        copy_rows(meta.db_table, [meta.get_field(from_field).column, meta.get_field(to_field).column], pairs)
    save_new_check_tasks(tasks, first)
    return monitors


def _links(organization, monitors: list[Monitor], regions: list, channels: list, parents: list) -> list[tuple]:
    """The rows of the monitors' regions, channels (the organization's default ones where none are
    given) and parents: (through model, from field, to field, [(from id, to id)])."""
    defaults = None
    region_rows, channel_rows, parent_rows = [], [], []
    for monitor, its_regions, its_channels, its_parents in zip(monitors, regions, channels, parents, strict=True):
        region_rows += [(monitor.pk, pk) for pk in dict.fromkeys(region.pk for region in its_regions)]
        if its_channels is None:
            if defaults is None:
                defaults = list(
                    Channel.objects.filter(organization=organization, is_default=True).values_list("pk", flat=True)
                )
            its_channel_ids = defaults
        else:
            its_channel_ids = list(dict.fromkeys(channel.pk for channel in its_channels))
        channel_rows += [(monitor.pk, pk) for pk in its_channel_ids]
        parent_rows += [(monitor.pk, pk) for pk in dict.fromkeys(parent.pk for parent in its_parents)]
    return [
        (Monitor.regions.through, "monitor", "region", region_rows),
        (Channel.monitors.through, "monitor", "channel", channel_rows),
        (Monitor.parents.through, "from_monitor", "to_monitor", parent_rows),
    ]


def _check_parents(organization, parents: list[list[Monitor]]) -> None:
    """The dependency rules (parent_errors), judged once per distinct set of parents: a
    batch's monitors mostly share a few (a load balancer, a database host)."""
    judged: dict[frozenset[int], dict[str, str]] = {}
    by_index = {}
    for index, its_parents in enumerate(parents):
        if not its_parents:
            continue
        key = frozenset(parent.pk for parent in its_parents)
        if key not in judged:
            judged[key] = parent_errors(None, organization.pk, its_parents)
        if judged[key]:
            by_index[index] = judged[key]
    if by_index:
        raise InvalidSpecs(by_index)
