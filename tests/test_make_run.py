"""`make run` itself (`python -m uptime.embedded run`), as a terminal runs it: with its own
embedded servers in a temporary directory, on free ports."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from uptime.embedded import free_port, port_in_use

BASE_DIR = Path(__file__).resolve().parent.parent
RUN = [sys.executable, "-m", "uptime.embedded", "run"]

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def data_root():
    """Where the runs keep their servers' data. Not under pytest's own temporary directory:
    run as root, PostgreSQL runs as another user, who must be able to reach its data, and
    every pytest session takes the others' permissions off that directory again."""
    root = Path(tempfile.mkdtemp(prefix="uptime-make-run-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def run_env(data_dir: Path, web_port: int) -> dict[str, str]:
    """The environment of a first `make run` on a fresh machine: embedded servers (not the
    suite's), their data in `data_dir`, every port free unless the test takes it."""
    env = {name: value for name, value in os.environ.items() if name not in {"DATABASE_URL", "REDIS_URL"}}
    return {
        **env,
        "EMBEDDED_DATA_DIR": str(data_dir),
        "EMBEDDED_POSTGRES_PORT": str(free_port()),
        "EMBEDDED_REDIS_PORT": str(free_port()),
        "PORT": str(web_port),
    }


def test_a_taken_web_port_is_named_in_one_line_before_anything_starts(data_root):
    data_dir = data_root / "taken-port"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = run_env(data_dir, port)
        result = subprocess.run(RUN, env=env, cwd=BASE_DIR, capture_output=True, text=True, timeout=300)

    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        f"uptime: PORT {port} is taken by another program; stop it or set PORT to a free port"
    ]
    # Nothing started: no server, no process, no banner.
    assert result.stdout == ""
    assert not data_dir.exists()
    assert not port_in_use(int(env["EMBEDDED_POSTGRES_PORT"]))
    assert not port_in_use(int(env["EMBEDDED_REDIS_PORT"]))


class Output:
    """A process's merged stdout and stderr (its children's too), read as it comes."""

    def __init__(self, process: subprocess.Popen):
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, process: subprocess.Popen, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(re.search(pattern, line) for line in self.lines):
                return
            if process.poll() is not None:
                break
            time.sleep(0.5)
        pytest.fail(f"no line matching {pattern!r}; the output:\n" + "\n".join(self.lines[-80:]))


class Run:
    """What one `make run`, stopped with Ctrl-C once it has started, printed and left."""

    def __init__(self, data_dir: Path, env: dict[str, str], lines: list[str], returncode: int):
        self.data_dir, self.env, self.lines, self.returncode = data_dir, env, lines, returncode

    def ours(self) -> list[str]:
        return [line.removeprefix("[uptime] ") for line in self.lines if line.startswith("[uptime] ")]


@pytest.fixture(scope="module")
def stopped_run(data_root) -> Run:
    data_dir = data_root / "stopped"
    env = run_env(data_dir, free_port())
    # A session of its own stands for the terminal: Ctrl-C signals its whole foreground
    # process group, the group `make run` starts in.
    process = subprocess.Popen(
        RUN, env=env, cwd=BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    output = Output(process)
    try:
        output.wait_for(r"(?i)ctrl-c to stop everything", process, timeout=300)
        output.wait_for(r"housekeeping@\S+ ready", process, timeout=120)
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        output.thread.join(timeout=10)
    return Run(data_dir, env, output.lines, process.returncode)


def test_the_admin_sign_in_is_printed_once_every_process_has_started(stopped_run):
    lines, rule = stopped_run.lines, "[uptime] " + "=" * 72
    assert rule in lines
    announced = lines.index(rule)
    # Each worker's and beat's start-up banner came before it, not after.
    for node in ("india", "usa", "europe", "housekeeping"):
        assert any(re.search(rf"{node}@\S+ v\d", line) for line in lines[:announced]), node
    assert any("celery beat v" in line for line in lines[:announced])
    banner = lines[announced : lines.index(rule, announced + 1) + 1]
    port = stopped_run.env["PORT"]
    assert f"[uptime] Uptime is running: http://127.0.0.1:{port}/" in banner
    assert any(re.fullmatch(r"\[uptime\]   sign in: +admin@example\.com +password: \S{12,}", line) for line in banner)
    assert f"[uptime]   dashboard: http://127.0.0.1:{port}/   (sign in with the account below)" in banner
    assert any(f"http://127.0.0.1:{port}/password/" in line for line in banner)
    assert any("POST /api/auth/password/" in line for line in banner)


def test_ctrl_c_stops_web_beat_and_workers_first_and_the_servers_last(stopped_run):
    log = "\n".join(stopped_run.lines)
    # The broker was there until the workers had finished: their outcomes were written.
    assert "left in the spool" not in log
    valkey_log = (stopped_run.data_dir / "valkey" / "valkey.log").read_text()
    assert "Received SIGINT" not in valkey_log
    assert "Received SIGTERM" in valkey_log  # stopped by `make run`, after the workers
    assert stopped_run.returncode == 0

    ours = stopped_run.ours()
    stopping = ours.index("stopping web, beat and workers (running checks are finished first)")
    assert ours[stopping:] == [
        "stopping web, beat and workers (running checks are finished first)",
        "web, beat and workers have stopped",
        "stopping embedded Valkey",
        "stopping embedded PostgreSQL",
    ]
    # Nothing of web, beat or the workers was printed after they were reported stopped,
    # and both servers are gone.
    assert stopped_run.lines[-3:] == [f"[uptime] {line}" for line in ours[-3:]]
    assert not port_in_use(int(stopped_run.env["EMBEDDED_REDIS_PORT"]))
    assert not port_in_use(int(stopped_run.env["EMBEDDED_POSTGRES_PORT"]))
