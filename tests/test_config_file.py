"""The config file through the command line: plan, apply (with prune), export, errors with
line numbers, secrets, dependencies among new monitors, one transaction, other users."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection
from django_celery_beat.models import PeriodicTask

from monitors.models import MaintenanceWindow, Monitor
from monitors.scheduling import task_name
from notifications.models import Channel
from statuspages.models import StatusPage
from tests.factories import make_monitor, personal

FILE = """\
version: 1
defaults:
  monitor:
    interval_seconds: 60
    timeout_seconds: 5
    regions: [india]
channels:
  - name: Ops hook
    kind: webhook
    url: https://hooks.example.com/x
    is_default: true
  - name: Ops mail
    kind: email
    email: ops@example.com
monitors:
  - name: Load balancer
    url: https://lb.example.com/
    regions: [india, usa]
    channels: [Ops mail]
  - name: Shop
    url: https://shop.example.com/
    expected_status: "200-299"
    request_headers: {X-Check: "1"}
    auth_username: shop
    auth_password: ${SHOP_PASSWORD}
    parents: [Load balancer]
  - name: Database
    kind: tcp
    url: tcp://db.example.com:5432
    interval_seconds: 120
    paused: true
maintenance_windows:
  - name: Tuesday deploys
    monitors: [Shop]
    starts_at: 2026-12-08T02:00:00Z
    ends_at: 2026-12-08T03:00:00Z
    recurrence: weekly
status_pages:
  - slug: acme-config
    title: Acme status
    sections:
      - name: Web
        components:
          - monitor: Shop
            name: Online shop
          - monitor: Load balancer
"""


def run(*args, **environment) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("uptime", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def config(tmp_path, monkeypatch):
    """Writes a config file and returns its path; the file's secret is in the environment."""
    monkeypatch.setenv("SHOP_PASSWORD", "s3cret-shop")

    def write(text: str = FILE, name: str = "uptime.yaml") -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return write


def schedules() -> list[tuple]:
    return list(PeriodicTask.objects.order_by("id").values_list("id", "date_changed", "enabled", "queue"))


def test_apply_creates_what_the_file_says(alice, config):
    out, _ = run("apply", "-f", config(), "--owner", "alice@example.com")

    assert '+ create monitor "Shop"' in out and "7 to create, 0 to change, 0 to delete." in out
    shop = Monitor.objects.get(organization=personal(alice), name="Shop")
    assert (shop.interval_seconds, shop.timeout_seconds, shop.expected_status) == (60, 5, "200-299")
    assert shop.request_headers == {"X-Check": "1"} and shop.auth_password == "s3cret-shop"
    assert [r.slug for r in shop.regions.all()] == ["india"]
    # New monitors depend on each other: created parents first, then linked.
    assert [p.name for p in shop.parents.all()] == ["Load balancer"]
    # No channels given: the default channels, the file's new one among them.
    assert [c.name for c in shop.channels.all()] == ["Ops hook"]
    balancer = Monitor.objects.get(organization=personal(alice), name="Load balancer")
    assert sorted(r.slug for r in balancer.regions.all()) == ["india", "usa"]
    assert [c.name for c in balancer.channels.all()] == ["Ops mail"]
    database = Monitor.objects.get(organization=personal(alice), name="Database")
    assert (database.kind, database.is_active, database.status) == ("tcp", False, "paused")
    # Schedules are written as by the API: one task per active monitor and region.
    assert sorted(PeriodicTask.objects.filter(enabled=True).values_list("name", flat=True)) == sorted(
        [task_name(shop.pk, "india"), task_name(balancer.pk, "india"), task_name(balancer.pk, "usa")]
    )
    window = MaintenanceWindow.objects.get(organization=personal(alice))
    assert (window.name, window.recurrence, [m.name for m in window.monitors.all()]) == (
        "Tuesday deploys",
        "weekly",
        ["Shop"],
    )
    page = StatusPage.objects.get(organization=personal(alice))
    components = [(c.monitor.name, c.name) for s in page.sections.all() for c in s.components.all()]
    assert components == [("Shop", "Online shop"), ("Load balancer", "Load balancer")]


def test_a_second_apply_changes_nothing(alice, config):
    path = config()
    run("apply", "-f", path, "--owner", "alice@example.com")
    monitors = list(Monitor.objects.order_by("id").values_list("id", "updated_at"))
    channels = list(Channel.objects.order_by("id").values_list("id", "updated_at"))
    pages = list(StatusPage.objects.order_by("id").values_list("id", "updated_at"))
    tasks = schedules()

    out, _ = run("apply", "-f", path, "--owner", "alice@example.com")

    assert out.strip() == "No changes: the account matches the file."
    assert list(Monitor.objects.order_by("id").values_list("id", "updated_at")) == monitors
    assert list(Channel.objects.order_by("id").values_list("id", "updated_at")) == channels
    assert list(StatusPage.objects.order_by("id").values_list("id", "updated_at")) == pages
    assert schedules() == tasks


def test_plan_shows_changes_field_by_field_and_writes_nothing(alice, config, monkeypatch):
    run("apply", "-f", config(), "--owner", "alice@example.com")
    changed = FILE.replace('    expected_status: "200-299"\n', '    expected_status: "200"\n    interval_seconds: 30\n')
    monkeypatch.setenv("SHOP_PASSWORD", "another-password")
    tasks = schedules()

    out, _ = run("plan", "-f", config(changed), "--owner", "alice@example.com")

    assert '~ change monitor "Shop"' in out
    assert "    interval_seconds: 60 → 30" in out
    assert '    expected_status: "200-299" → "200"' in out
    assert "    auth_password: changed (secret, not shown)" in out
    assert "another-password" not in out and "s3cret-shop" not in out
    assert "0 to create, 1 to change, 0 to delete." in out
    assert Monitor.objects.get(name="Shop").interval_seconds == 60 and schedules() == tasks

    run("apply", "-f", config(changed), "--owner", "alice@example.com")
    shop = Monitor.objects.get(name="Shop")
    assert (shop.interval_seconds, shop.expected_status, shop.auth_password) == (30, "200", "another-password")


def test_objects_not_in_the_file_are_left_unless_pruned(alice, config, broker):
    run("apply", "-f", config(), "--owner", "alice@example.com")
    make_monitor(alice, "https://old.example.com/", name="Old")
    database = "  - name: Database\n    kind: tcp\n    url: tcp://db.example.com:5432\n"
    shorter = FILE.split("maintenance_windows:")[0].replace(
        database + "    interval_seconds: 120\n    paused: true\n", ""
    )
    path = config(shorter)

    out, _ = run("plan", "-f", path, "--owner", "alice@example.com")
    assert out.startswith("No changes")
    assert "Not in the file, left as they are: 2 monitors, 1 maintenance window, 1 status page" in out

    out, _ = run("apply", "-f", path, "--owner", "alice@example.com", "--prune")
    assert '- delete monitor "Old"' in out and '- delete monitor "Database"' in out
    assert '- delete status page "acme-config"' in out
    assert sorted(Monitor.objects.filter(organization=personal(alice)).values_list("name", flat=True)) == [
        "Load balancer",
        "Shop",
    ]
    assert not MaintenanceWindow.objects.filter(organization=personal(alice)).exists()
    assert not StatusPage.objects.filter(organization=personal(alice)).exists()


def test_export_then_apply_on_a_fresh_account_reproduces_it(alice, bob, config, tmp_path):
    run("apply", "-f", config(), "--owner", "alice@example.com")
    exported = tmp_path / "export.yaml"
    run("export", "--owner", "alice@example.com", "-o", str(exported), "--with-secrets")
    alices = snapshot(alice)
    # A status page's slug is unique among all organizations: alice's goes first, with her account.
    personal(alice).delete()
    alice.delete()

    out, _ = run("apply", "-f", str(exported), "--owner", "bob@example.com")
    assert "7 to create" in out

    assert snapshot(bob) == alices
    again, _ = run("plan", "-f", str(exported), "--owner", "bob@example.com")
    assert again.startswith("No changes")


def snapshot(owner) -> dict:
    """Everything a user set, field by field, by name rather than id."""
    from monitors.services import EDITABLE_FIELDS

    monitors = {}
    for monitor in Monitor.objects.filter(organization=personal(owner)).prefetch_related(
        "regions", "channels", "parents"
    ):
        monitors[monitor.name] = {
            **{name: getattr(monitor, name) for name in EDITABLE_FIELDS},
            "regions": sorted(r.slug for r in monitor.regions.all()),
            "channels": sorted(c.name for c in monitor.channels.all()),
            "parents": sorted(p.name for p in monitor.parents.all()),
        }
    channels = {
        c["name"]: c
        for c in Channel.objects.filter(organization=personal(owner)).values(
            "name", "kind", "url", "email", "apprise_url", "is_default", "reminder_minutes"
        )
    }
    windows = {
        w.name: (w.starts_at, w.ends_at, w.recurrence, sorted(m.name for m in w.monitors.all()))
        for w in MaintenanceWindow.objects.filter(organization=personal(owner))
    }
    pages = {
        p.title: (
            p.description,
            p.show_regions,
            p.domain,
            [(s.name, [(c.monitor.name, c.name) for c in s.components.all()]) for s in p.sections.all()],
        )
        for p in StatusPage.objects.filter(organization=personal(owner))
    }
    return {"monitors": monitors, "channels": channels, "windows": windows, "pages": pages}


def test_errors_name_the_item_the_field_and_the_line(alice, config):
    broken = (
        FILE.replace("    interval_seconds: 120\n", "    interval_seconds: ten\n")
        .replace("    parents: [Load balancer]\n", "    parents: [Load balancer, Nowhere]\n")
        .replace("    channels: [Ops mail]\n", "    channels: [Ops mail]\n    colour: red\n")
    )
    err = io.StringIO()

    with pytest.raises(CommandError, match=r"3 error\(s\); nothing was changed"):
        call_command("uptime", "plan", "-f", config(broken), "--owner", "alice@example.com", stderr=err)

    lines = err.getvalue().splitlines()
    assert lines[0].startswith('monitors[0] "Load balancer" colour (line 20): Unknown key; known keys: name, kind, url')
    assert lines[1:] == [
        'monitors[1] "Shop" parents (line 27): Not in the file\'s monitors: "Nowhere".',
        'monitors[2] "Database" interval_seconds (line 31): '
        "Interval must be a whole number of seconds from 1 to 86400.",
    ]
    assert not Monitor.objects.exists()


def test_a_missing_secret_is_an_error_naming_the_variable(alice, config, monkeypatch):
    monkeypatch.delenv("SHOP_PASSWORD")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("uptime", "apply", "-f", config(), "--owner", "alice@example.com", stderr=err)
    assert (
        'monitors[1] "Shop" auth_password (line 25): The environment variable SHOP_PASSWORD is not set.'
        in err.getvalue()
    )


def test_export_writes_placeholders_for_secrets(alice, config):
    run("apply", "-f", config(), "--owner", "alice@example.com")

    out, _ = run("export", "--owner", "alice@example.com")

    assert "s3cret-shop" not in out
    assert "auth_password: ${UPTIME_MONITOR_SHOP_AUTH_PASSWORD}" in out
    assert '#   UPTIME_MONITOR_SHOP_AUTH_PASSWORD  monitors "Shop" auth_password' in out
    with_secrets, _ = run("export", "--owner", "alice@example.com", "--with-secrets")
    assert "auth_password: s3cret-shop" in with_secrets


def test_another_users_objects_are_never_seen_or_touched(alice, bob, config):
    bobs = make_monitor(bob, "https://shop.example.com/", name="Shop", interval_seconds=300)
    before = Monitor.objects.filter(pk=bobs.pk).values().get()

    out, _ = run("apply", "-f", config(), "--owner", "alice@example.com", "--prune")

    assert '+ create monitor "Shop"' in out and "- delete" not in out
    assert Monitor.objects.filter(pk=bobs.pk).values().get() == before
    exported, _ = run("export", "--owner", "alice@example.com")
    assert "300" not in exported and exported.count("name: Shop") == 1


def test_duplicate_names_in_the_account_are_an_error_naming_both(alice, config):
    first = make_monitor(alice, "https://a.example.com/", name="Shop")
    second = make_monitor(alice, "https://b.example.com/", name="Shop")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("uptime", "plan", "-f", config(), "--owner", "alice@example.com", stderr=err)
    assert f"2 in the account have this name (ids {first.pk}, {second.pk})" in err.getvalue()


def test_a_dependency_cycle_is_refused(alice, config):
    cycle = FILE.replace("    channels: [Ops mail]\n", "    channels: [Ops mail]\n    parents: [Shop]\n")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("uptime", "apply", "-f", config(cycle), "--owner", "alice@example.com", stderr=err)
    assert "That would make a cycle: a parent monitor depends on this one." in err.getvalue()
    assert not Monitor.objects.exists()


def test_apply_is_all_or_nothing_when_the_500th_item_fails(alice, config, settings):
    settings.MONITOR_QUOTA_PER_ORGANIZATION = 0
    monitors = "".join(f"  - name: Site {n}\n    url: https://site{n}.example.com/\n" for n in range(1, 501))
    text = "version: 1\ndefaults:\n  monitor:\n    regions: [india]\nchannels:\n  - name: Hook\n    kind: webhook\n"
    text += "    url: https://hooks.example.com/x\nmonitors:\n" + monitors
    # The database refuses the 500th monitor as it is written (after the plan passed).
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_site_500() RETURNS trigger AS $$ BEGIN "
            "IF NEW.name = 'Site 500' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$ "
            "LANGUAGE plpgsql; CREATE TRIGGER refuse_site_500 BEFORE INSERT ON monitors_monitor "
            "FOR EACH ROW EXECUTE FUNCTION refuse_site_500()"
        )
    tasks = schedules()

    with pytest.raises(DatabaseError, match="refused by the test"):
        run("apply", "-f", config(text), "--owner", "alice@example.com")

    assert not Monitor.objects.filter(organization=personal(alice)).exists()
    assert not Channel.objects.filter(organization=personal(alice)).exists()
    assert schedules() == tasks


def test_import_kuma_is_a_subcommand(alice, tmp_path):
    # What it imports is the importer's to test (configfile/kuma.py); here that it is wired.
    with pytest.raises(CommandError):
        run("import-kuma", str(tmp_path / "missing.db"), "--owner", "alice@example.com")


def test_unknown_owner_is_an_error(db, config):
    with pytest.raises(CommandError, match="no user nobody@example.com"):
        run("plan", "-f", config(), "--owner", "nobody@example.com")


def test_yaml_syntax_errors_give_the_line(alice, config):
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "uptime",
            "plan",
            "-f",
            config("version: 1\nmonitors:\n  - name: [\n"),
            "--owner",
            "alice@example.com",
            stderr=err,
        )
    assert "(line " in err.getvalue() and "Not valid YAML" in err.getvalue()
