"""The monitors a benchmark checks, made in bulk from templates the domain code made.

One monitor per region is created through `create_monitor` (so its PeriodicTask has the
shape `sync_schedule` gives it); the rest are copies of those rows, written with
bulk_create. Each monitor checks from one region; regions take turns.
"""

import json

from django.db import connection, transaction
from django_celery_beat.models import PeriodicTask, PeriodicTasks

from accounts.models import User
from checks.models import Incident
from monitors.models import Monitor, Region, new_badge_key
from monitors.scheduling import task_name
from monitors.services import create_monitor

from .organizations import personal_organization

OWNER_EMAIL = "bench@example.com"
BATCH = 5000


def url_for(index: int, target_port: int, refused_port: int) -> str:
    """The realistic mix: 10% slow (2-3 s), 5% time out, 5% answer 500, 0.2% refused, the
    rest fast 200s. A query string keeps each monitor's URL its own."""
    base = f"http://127.0.0.1:{target_port}"
    share = index % 100
    if index % 500 == 499:
        return f"http://127.0.0.1:{refused_port}/ok?m={index}"
    if share < 10:
        return f"{base}/slow?m={index}"
    if share < 15:
        return f"{base}/hang?m={index}"
    if share < 20:
        return f"{base}/status/500?m={index}"
    return f"{base}/ok?m={index}"


def ensure_monitors(total: int, target_port: int, refused_port: int, interval_seconds: int, check: dict) -> None:
    """Make the benchmark's organization have at least `total` monitors (kept between runs)."""
    user, _ = User.objects.get_or_create(email=OWNER_EMAIL)
    organization = personal_organization(user)
    regions = list(Region.objects.order_by("slug"))
    have = Monitor.objects.filter(organization=organization).count()
    if have >= total:
        return
    templates = {}
    for region in regions:
        monitor = Monitor.objects.filter(organization=organization, regions=region).order_by("pk").first()
        if monitor is None:
            monitor = create_monitor(
                organization,
                [region],
                name="bench 0",
                url=url_for(0, target_port, refused_port),
                interval_seconds=interval_seconds,
                **check,
            )
            have += 1
        task = PeriodicTask.objects.get(name=task_name(monitor.pk, region.slug))
        templates[region.pk] = (monitor, task)
    through = Monitor.regions.through
    while have < total:
        count = min(BATCH, total - have)
        with transaction.atomic():
            rows, region_of = [], []
            for offset in range(count):
                index = have + offset
                region = regions[index % len(regions)]
                template, _ = templates[region.pk]
                copy = Monitor(**{f.attname: getattr(template, f.attname) for f in Monitor._meta.concrete_fields})
                copy.pk = None
                copy.badge_key = new_badge_key()  # unique per monitor
                copy.name = f"bench {index}"
                copy.url = url_for(index, target_port, refused_port)
                rows.append(copy)
                region_of.append(region)
            created = Monitor.objects.bulk_create(rows, batch_size=BATCH)
            through.objects.bulk_create(
                [through(monitor_id=m.pk, region_id=r.pk) for m, r in zip(created, region_of, strict=True)]
            )
            tasks = []
            for monitor, region in zip(created, region_of, strict=True):
                _, template_task = templates[region.pk]
                task = PeriodicTask(
                    **{f.attname: getattr(template_task, f.attname) for f in PeriodicTask._meta.concrete_fields}
                )
                task.pk = None
                task.name = task_name(monitor.pk, region.slug)
                task.kwargs = json.dumps({"monitor_id": monitor.pk, "region": region.slug})
                task.description = f"{monitor.name} ({monitor.url}) from {region.slug}"
                tasks.append(task)
            PeriodicTask.objects.bulk_create(tasks, batch_size=BATCH)
        have += count
        print(f"[bench] {have} monitors", flush=True)
    PeriodicTasks.update_changed()


def arrange(total: int, start: float, interval_seconds: int, all_due: bool, pending: bool = False) -> dict[str, float]:
    """Enable the first `total` benchmark entries (the rest are disabled) and set their
    last runs: due evenly over one interval from `start`, or all due at `start` (a backlog
    that measures how fast beat can send). Returns each entry's first due time.

    `pending`: the monitors start undecided, as if just imported or paused and resumed (their
    open incidents resolved as a pause resolves them), so the first check of every one moves
    its status, all within the first interval."""
    organization = personal_organization(User.objects.get(email=OWNER_EMAIL))
    ids = Monitor.objects.filter(organization=organization).order_by("pk").values_list("pk", flat=True)
    prefixes = [f"check monitor {pk} in " for pk in ids[:total]]
    table = PeriodicTask._meta.db_table
    monitors = Monitor._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        # Only the chosen monitors are active, as if the others did not exist: workers keep
        # the active monitors of their regions in memory. (A direct UPDATE: a benchmark
        # setting, not a user's edit, so `updated_at` and the schedules are left alone.)
        # Their schedule starts at the first slot, as a resume starts it when it is made:
        # the watchdog expects no check before it. Joined with the ids, not `id = ANY(...)`
        # per row: with 100,000 monitors that comparison took most of a minute, and the
        # slots set below were that late before beat even started.
        cursor.execute(
            f"UPDATE {monitors} SET is_active = false WHERE organization_id = %s AND is_active",  # noqa: S608
            [organization.pk],
        )
        cursor.execute(
            f"""
            UPDATE {monitors} AS monitor SET is_active = true, checking_since = to_timestamp(%s)
            FROM unnest(%s::bigint[]) AS chosen (id) WHERE monitor.id = chosen.id
            """,  # noqa: S608
            [start, list(ids[:total])],
        )
        if pending:
            cursor.execute(
                f"""UPDATE {Incident._meta.db_table} SET resolved_at = now(), resolution = 'paused'
                WHERE resolved_at IS NULL AND monitor_id IN (SELECT id FROM {monitors} WHERE organization_id = %s)""",  # noqa: S608
                [organization.pk],
            )
            cursor.execute(f"UPDATE {monitors} SET status = 'pending' WHERE organization_id = %s", [organization.pk])  # noqa: S608
        cursor.execute(f"UPDATE {table} SET enabled = false WHERE name LIKE 'check monitor %%' AND enabled")  # noqa: S608
        # Numbered by monitor, then spread: entry i of n falls due i/n of an interval after start
        # (in floating point: integer division would bunch them on whole seconds).
        cursor.execute(
            f"""
            WITH chosen AS (
                SELECT task.id, row_number() OVER (ORDER BY task.id) - 1 AS i
                FROM {table} task JOIN unnest(%s::bigint[]) AS wanted (monitor_id)
                  ON substring(task.name from '^check monitor ([0-9]+) in ')::bigint = wanted.monitor_id
            )
            UPDATE {table} AS task
            SET enabled = true, total_run_count = 0,
                last_run_at = to_timestamp(%s) - make_interval(secs => %s)
                              + CASE WHEN %s THEN interval '0'
                                     ELSE make_interval(secs => chosen.i * %s::float8 / %s) END
            FROM chosen WHERE task.id = chosen.id
            RETURNING task.name, extract(epoch FROM task.last_run_at)
            """,  # noqa: S608
            [list(ids[:total]), start, interval_seconds, all_due, interval_seconds, total],
        )
        due = {name: float(last_run) + interval_seconds for name, last_run in cursor.fetchall()}
        PeriodicTasks.update_changed()
    assert len(due) == len(prefixes), (len(due), len(prefixes))
    return due


def clear_ticks() -> None:
    """Forget the checks of earlier runs, and the gaps the watchdog recorded among them."""
    from checks.models import Gap, Tick

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Tick._meta.db_table}, {Gap._meta.db_table} CASCADE")  # noqa: S608
