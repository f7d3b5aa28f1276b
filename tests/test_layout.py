"""The layout the README and docs/ describe holds: packages by process, the probe free of
Django, apps depending in the stated directions, and no module past the size that asks
for a split. Read from the source, so a new import that breaks a rule fails here."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ("accounts", "checks", "monitors", "notifications", "probe", "statuspages", "uptime", "web")
MAX_MODULE_LINES = 400


def modules(*packages: str) -> list[Path]:
    return sorted(
        path for package in packages for path in (ROOT / package).rglob("*.py") if "migrations" not in path.parts
    )


def imports_of(path: Path) -> set[str]:
    """Every module (with its imported names, as "module:name") a file imports, at any depth."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.update(f"{node.module}:{alias.name}" for alias in node.names)
    return found


def offenders(paths: list[Path], forbidden) -> dict[str, list[str]]:
    found = {}
    for path in paths:
        bad = sorted(name for name in imports_of(path) if forbidden(name))
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    return found


def top(name: str) -> str:
    return name.split(":")[0].split(".")[0]


def test_the_probe_is_plain_python_with_no_django_and_nothing_of_the_project_but_itself():
    assert offenders(modules("probe"), lambda name: top(name) in {*PROJECT, "django", "celery"} - {"probe"}) == {}


def test_each_room_of_checks_says_in_one_line_which_process_runs_it():
    for package in ("beat", "worker", "outcomes", "state", "figures"):
        docstring = ast.get_docstring(ast.parse((ROOT / "checks" / package / "__init__.py").read_text())) or ""
        assert docstring.startswith("Run by") or docstring.startswith("Run inside"), package
        assert "\n" not in docstring, package


def test_beat_and_the_region_workers_import_no_alerting_figures_or_verdicts():
    """Beat only schedules and a region worker only checks and spools. (A worker whose spool
    is away records through checks/outcomes/recording.py, the writer's own path.)"""
    beat_forbidden = ("notifications", "checks.state", "checks.figures", "checks.worker", "checks.outcomes")
    worker_forbidden = ("notifications", "checks.state", "checks.figures", "checks.beat")
    assert offenders(modules("checks/beat"), lambda name: name.startswith(beat_forbidden)) == {}
    assert offenders(modules("checks/worker"), lambda name: name.startswith(worker_forbidden)) == {}


def test_what_checks_builds_on_in_monitors_imports_nothing_of_checks_or_notifications():
    """monitors' models and rules sit below checks; only its services, API and admin (which
    start checks and show figures) sit above."""
    base = [
        ROOT / "monitors" / name
        for name in ("models.py", "validation.py", "request_validation.py", "scheduling.py", "maintenance.py")
    ]
    assert offenders(base, lambda name: top(name) in {"checks", "notifications"}) == {}


def test_checks_reaches_notifications_through_its_alerting_functions_only():
    allowed = {
        "notifications.services:notify_incidents",
        "notifications.services:notify_monitor",
        "notifications.messages:INCIDENT_OPENED",
        "notifications.messages:INCIDENT_RESOLVED",
        # A region's own network failing and recovering, told to the operator's channel.
        "notifications.services:notify_operators",
        "notifications.messages:REGION_IMPAIRED",
        "notifications.messages:REGION_RECOVERED",
        "notifications.messages:region_event_context",
        # The dead letter's size, for /metrics and the health report.
        "notifications.dead_letter:dead_counts",
        "notifications.dead_letter:dead_letter_health",
    }
    found = offenders(modules("checks"), lambda name: top(name) == "notifications" and name not in allowed)
    assert found == {}


def test_notifications_reads_only_the_models_of_checks_and_monitors():
    found = offenders(
        modules("notifications"),
        lambda name: top(name) in {"checks", "monitors"} and not name.split(":")[0].endswith(".models"),
    )
    assert found == {}


def test_status_pages_sit_above_what_they_show_and_nothing_below_imports_them():
    """A status page reads monitors, checks' figures and models, and sends through
    notifications; none of those knows status pages exist (a subscriber's channel is a
    channel like any other)."""
    below = modules("accounts", "checks", "monitors", "notifications", "probe")
    assert offenders(below, lambda name: top(name) == "statuspages") == {}


def test_no_module_is_past_the_size_that_asks_for_a_split():
    sizes = {str(path.relative_to(ROOT)): len(path.read_text().splitlines()) for path in modules(*PROJECT)}
    assert {path: lines for path, lines in sizes.items() if lines > MAX_MODULE_LINES} == {}


def test_the_web_pages_sit_on_top_nothing_imports_them():
    """Pages call the domain functions and the API's serializers; nothing below depends on
    a page (an alert links to one by its URL name)."""
    below = [p for p in modules(*PROJECT) if "web" not in p.relative_to(ROOT).parts[:1]]
    assert offenders(below, lambda name: top(name) == "web") == {}
