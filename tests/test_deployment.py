"""docker-compose.yml and .env.example hold what an operator relies on: a worker for every
region, one beat, a durable broker, settings that reach the code, and no default secrets."""

import ast
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml
from django.conf import settings
from django.db import connection

from monitors.models import Region

BASE_DIR = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_IMAGE = COMPOSE["x-app"]["image"]
APP_SERVICES = {name: service for name, service in SERVICES.items() if service.get("image") == APP_IMAGE}
REQUIRED_SECRETS = {"SECRET_KEY", "JWT_SIGNING_KEY", "POSTGRES_PASSWORD"}
SLOT_SCHEDULER = "checks.beat.scheduler:SlotScheduler"
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's variable substitution, for the forms this file uses."""

    def substitute(match: re.Match) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        given = env.get(name)
        if op and op.endswith("?") and not given:
            raise LookupError(f"{name}: {arg}")
        if op == ":-" and not given:
            return arg
        return given or ""

    return INTERPOLATION.sub(substitute, value.replace("$$", "\0")).replace("\0", "$")


def command_of(service: dict) -> list[str]:
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else list(command)


def option(command: list[str], *names: str) -> str | None:
    """The value of a command-line option given as `-Q india`, `--queues india` or `--queues=india`."""
    for index, word in enumerate(command):
        if word in names and index + 1 < len(command):
            return command[index + 1]
        for name in names:
            if name.startswith("--") and word.startswith(name + "="):
                return word.split("=", 1)[1]
    return None


def celery_role(service: dict) -> str | None:
    """ "worker" or "beat" for a `celery -A uptime …` service, else None."""
    command = command_of(service)
    if command[:3] != ["celery", "-A", "uptime"] or len(command) < 4:
        return None
    return command[3]


def workers() -> dict[str, list[str]]:
    return {name: command_of(s) for name, s in APP_SERVICES.items() if celery_role(s) == "worker"}


def settings_variables() -> set[str]:
    """Every environment variable uptime/settings.py reads, found in its source."""
    tree = ast.parse((BASE_DIR / "uptime" / "settings.py").read_text())
    readers = {"env_str", "env_bool", "env_int", "env_list", "env_secret", "get", "getenv"}
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if called in readers and isinstance(node.args[0].value, str):
                names.add(node.args[0].value)
    return names


def compose_variables() -> set[str]:
    """The variables docker-compose.yml takes from .env (or the shell)."""
    return {match["name"] for match in INTERPOLATION.finditer((BASE_DIR / "docker-compose.yml").read_text())}


def env_example() -> dict[str, str]:
    entries = {}
    for line in (BASE_DIR / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            entries[name.strip()] = value.strip()
    return entries


def seconds(duration: str) -> float:
    """A Compose duration such as "5m", "1m30s" or "250s", in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 0.000001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|us|m|s)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, f"not a duration: {duration!r}"
    return sum(float(number) * units[unit] for number, unit in parts)


def test_compose_file_follows_the_compose_specification():
    assert "version" not in COMPOSE, "the Compose specification has no version key"
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    validator = jsonschema.Draft202012Validator(json.loads(schema_file.read_text()))
    errors = [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(COMPOSE)]
    assert errors == []


def test_every_seeded_region_has_a_worker_on_its_own_queue(db):
    slugs = set(Region.objects.values_list("slug", flat=True))
    assert slugs, "the migrations seed no region"
    by_queue = {
        queue: name for name, command in workers().items() for queue in option(command, "-Q", "--queues").split(",")
    }
    for slug in slugs:
        assert slug in by_queue, f"no worker service consumes the {slug!r} queue"
        command = workers()[by_queue[slug]]
        # Per replica a distinct node name, so scaled workers do not clash in the heartbeat.
        assert option(command, "-n", "--hostname") == f"{slug}@%h"
    # Every worker consumes a region's queue, or housekeeping's and the alerts' (a typo'd
    # queue would be a worker nobody sends anything to), and no queue has two services.
    housekeeping = {settings.HOUSEKEEPING_QUEUE, settings.NOTIFICATIONS_QUEUE}
    assert set(by_queue) <= slugs | housekeeping
    assert housekeeping <= set(by_queue), "nobody runs housekeeping or sends alerts"
    assert len(by_queue) == len(slugs) + len(housekeeping), "two worker services consume the same queue"


def test_region_workers_use_the_settings_pool_and_outlast_a_running_check():
    for name, command in workers().items():
        if settings.HOUSEKEEPING_QUEUE in option(command, "-Q", "--queues").split(","):
            continue
        # The threads pool and its size come from settings (WORKER_POOL, WORKER_CONCURRENCY).
        assert option(command, "-P", "--pool") is None, name
        assert option(command, "-c", "--concurrency") is None, name
        # Docker kills after stop_grace_period; a warm shutdown needs a whole check's time.
        grace = seconds(SERVICES[name].get("stop_grace_period", "10s"))
        assert grace > settings.CHECK_MAX_SECONDS, f"{name} is killed before its running checks can finish"
        assert SERVICES[name]["restart"] == "unless-stopped"


def test_region_workers_only_check_and_the_housekeeping_worker_writes_the_outcomes():
    """Someone must write what the region workers check: compose and `make run` alike."""
    from uptime.process_commands import housekeeping_worker_command, worker_command

    commands = {
        **workers(),
        "make run: region": worker_command("india"),
        "make run: housekeeping": housekeeping_worker_command(),
    }
    for name, command in commands.items():
        writes_outcomes = settings.HOUSEKEEPING_QUEUE in option(command, "-Q", "--queues").split(",")
        assert ("--without-outcome-writer" not in command) == writes_outcomes, name


def test_exactly_one_beat_with_the_slot_scheduler():
    beats = [name for name, service in APP_SERVICES.items() if celery_role(service) == "beat"]
    assert len(beats) == 1
    beat = SERVICES[beats[0]]
    assert beat.get("deploy", {}).get("replicas", 1) == 1
    scheduler = option(command_of(beat), "-S", "--scheduler") or settings.CELERY_BEAT_SCHEDULER
    assert scheduler == SLOT_SCHEDULER, "beat must stamp each check with its slot"
    # A worker with an embedded beat would be a second clock.
    for name, command in workers().items():
        assert not {"-B", "--beat"} & set(command), name


def test_redis_keeps_queued_checks_in_an_append_only_file():
    redis = SERVICES["redis"]
    command = command_of(redis)
    assert option(command, "--appendonly") == "yes"
    assert option(command, "--appendfsync") == "everysec"
    assert any(volume.endswith(":/data") for volume in redis["volumes"]), "the append-only file is not on a volume"
    assert "healthcheck" in redis


def test_postgres_keeps_its_data_and_reports_readiness():
    postgres = SERVICES["postgres"]
    assert postgres["image"].startswith("postgres:17")
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in postgres["volumes"])
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_processes_start_only_after_migrations_have_applied():
    migrate = SERVICES["migrate"]
    assert command_of(migrate)[:3] == ["python", "manage.py", "migrate"]
    assert migrate["restart"] == "no"
    for name, service in APP_SERVICES.items():
        if name == "migrate":
            continue
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
        assert service["depends_on"]["postgres"] == {"condition": "service_healthy"}, name


def test_compose_sets_only_variables_settings_reads_and_all_of_them():
    read = settings_variables()
    assert {"SECRET_KEY", "DATABASE_URL", "WORKER_CONCURRENCY"} <= read  # the parser finds them
    for name, service in APP_SERVICES.items():
        environment = set(service["environment"])
        assert environment - read == set(), f"{name} sets variables the settings never read"
        assert read - environment == set(), f"{name} cannot be given these settings"


def test_required_secrets_have_no_default():
    text = (BASE_DIR / "docker-compose.yml").read_text()
    for secret in REQUIRED_SECRETS:
        uses = [match for match in INTERPOLATION.finditer(text) if match["name"] == secret]
        assert uses, f"{secret} is not taken from the environment"
        for use in uses:
            assert use["op"] == ":?", f"{secret} must be required, not defaulted: {use[0]}"
    with pytest.raises(LookupError, match="SECRET_KEY"):
        interpolate(COMPOSE["x-app"]["environment"]["SECRET_KEY"], {"SECRET_KEY": ""})
    example = env_example()
    assert all(example[secret] == "" for secret in REQUIRED_SECRETS), ".env.example must not carry secrets"


def test_env_example_lists_exactly_the_variables_compose_takes():
    assert set(env_example()) == compose_variables()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def runnable(command: list[str]) -> list[str]:
    """The container's command, run from this virtualenv."""
    program = Path(sys.executable).parent / command[0]
    return [sys.executable if command[0] == "python" else str(program), *command[1:]]


def test_web_command_serves_the_health_check_the_container_probes(db):
    """gunicorn as the web service starts it, with the compose environment, and the health
    check exactly as Docker runs it, Host header included."""
    db_settings = connection.settings_dict
    operator = {
        "SECRET_KEY": "s" * 40,
        "JWT_SIGNING_KEY": "j" * 40,
        "POSTGRES_PASSWORD": "unused",
        "ALLOWED_HOSTS": "uptime.example.com",
        "WEB_WORKERS": "1",
    }
    env = {name: interpolate(str(value), operator) for name, value in SERVICES["web"]["environment"].items()}
    env["DATABASE_URL"] = (
        f"postgresql://{db_settings['USER']}@{db_settings['HOST']}:{db_settings['PORT']}/{db_settings['NAME']}"
    )
    env["REDIS_URL"] = settings.REDIS_URL
    port = free_port()
    command = [
        interpolate(word, operator).replace("0.0.0.0:8000", f"127.0.0.1:{port}") for word in command_of(SERVICES["web"])
    ]
    probe = [word.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for word in SERVICES["web"]["healthcheck"]["test"]]
    assert probe[0] == "CMD"
    web = subprocess.Popen(
        runnable(command),
        cwd=BASE_DIR,
        env={"PATH": os.environ["PATH"], **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            check = subprocess.run(runnable(probe[1:]), capture_output=True, text=True, timeout=15)
            answered = "HTTPError" in check.stderr  # up, but refused the probe: no point waiting
            if check.returncode == 0 or answered or time.monotonic() > deadline or web.poll() is not None:
                break
            time.sleep(0.3)
        assert web.poll() is None, "gunicorn exited"
        assert check.returncode == 0, check.stderr[-500:]
    finally:
        web.send_signal(signal.SIGTERM)
        try:
            output, _ = web.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            web.kill()
            output, _ = web.communicate()
    assert "GET /api/health/" in output, "the access log goes to the container's output"
