"""What `make run` does once its database and broker answer: migrate, create the admin user,
start web, beat and the workers, look after them as a supervisor would, print where
everything is once it has all started, and stop them in order.

It knows only the environment it is given (DATABASE_URL, REDIS_URL); uptime/embedded.py
starts the servers around it, and stops them after it has returned.
"""

import contextlib
import json
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from uptime.process_commands import beat_command, housekeeping_worker_command, worker_command

BASE_DIR = Path(__file__).resolve().parent.parent
SHUTDOWN_GRACE_SECONDS = 20
# How long `run` waits for web, beat and every worker to report in before it prints the
# addresses and the admin's sign-in anyway.
READY_TIMEOUT_SECONDS = 90
# Each look is a request the web server logs: not every second.
READY_POLL_SECONDS = 2


def say(message: str) -> None:
    print(f"[uptime] {message}", flush=True)


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


def region_slugs(env: dict) -> list[str]:
    code = "from monitors.models import Region\nprint(*Region.objects.values_list('slug', flat=True))"
    result = run_django(env, code)
    if result.returncode != 0:
        raise RuntimeError(f"could not read the regions: {result.stderr.strip().splitlines()[-1:]}")
    return result.stdout.split()


def ensure_admin(env: dict, email: str, password: str) -> bool:
    """Create the admin user on the first run; whether it was created now."""
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
        return False
    say(f"created admin user {email}")
    return True


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


def everything_reports_in(web_port: int) -> bool:
    """The web server answers /api/health/, and it shows beat holding its lease, a live
    worker in every region and an outcome writer reading the spool."""
    # No proxy from the environment: this is our own server on loopback.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://127.0.0.1:{web_port}/api/health/", timeout=5) as response:
            report = json.load(response)
    except (OSError, ValueError):  # not listening yet, 503 (an HTTPError), or not JSON
        return False
    # "degraded" is a running system too: alerts dying on several channels say nothing of
    # whether the processes have started.
    return bool(
        report.get("status") in ("ok", "degraded")
        and report.get("beat", {}).get("active")
        and report.get("outcome_writers", 0) > 0
        and all(region.get("workers", 0) > 0 for region in report.get("regions", {}).values())
    )


def announce(web_port: int, admin_email: str, admin_password: str | None, ready: bool) -> None:
    """Where everything is and how to sign in, printed once it has all started: after the
    processes' own start-up banners, not among them. `admin_password` is the one just
    generated for the admin user, shown this once."""
    base = f"http://127.0.0.1:{web_port}"
    rule = "=" * 72
    lines = [
        rule,
        f"Uptime is running: {base}/" if ready else f"Uptime is starting; not all has reported in: {base}/api/health/",
        f"  dashboard: {base}/   (sign in with the account below)",
        f"  admin:     {base}/admin/",
        f"  API docs:  {base}/api/docs/   (health: {base}/api/health/)",
    ]
    if admin_password:
        lines += [
            f"  sign in:   {admin_email}   password: {admin_password}",
            f"  The password is shown only now. Change it at {base}/password/",
            '  or with POST /api/auth/password/; README.md, "Admin password", says how to reset it.',
        ]
    else:
        lines.append(f'  sign in:   {admin_email}, with its password (lost? README.md, "Admin password")')
    lines += ["Press Ctrl-C to stop everything.", rule]
    for line in lines:
        say(line)


def run(env: dict, web_port: int, admin_email: str, admin_password: str | None) -> int:
    """Prepare the database, then start and look after web, beat and the workers until
    Ctrl-C or SIGTERM (a KeyboardInterrupt), or until web dies or another keeps dying;
    return once all have stopped: 0 when asked to stop, 1 when a process failed. The admin
    user is created on the first run with `admin_password`, or a generated one."""
    say("applying migrations")
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "collectstatic", "--no-input", "-v", "0")
    generated = secrets.token_urlsafe(12)
    created = ensure_admin(env, admin_email, admin_password or generated)
    # A generated password is shown once, when everything has started; ADMIN_PASSWORD is not.
    shown_password = generated if created and not admin_password else None
    commands = {
        "web": [sys.executable, str(BASE_DIR / "manage.py"), "runserver", f"127.0.0.1:{web_port}", "--noreload"],
        "beat": beat_command(),
        **{f"worker-{slug}": worker_command(slug) for slug in region_slugs(env)},
        "worker-housekeeping": housekeeping_worker_command(),
    }
    processes: list[subprocess.Popen] = []
    running: dict[str, subprocess.Popen] = {}
    restarts: dict[str, list[float]] = {}
    exit_status = 0

    def launch(name: str) -> None:
        # Own process group: the terminal's Ctrl-C is ours to pass on, in order.
        running[name] = subprocess.Popen(commands[name], env=env, cwd=BASE_DIR, start_new_session=True)
        processes.append(running[name])
        say(f"started {name} (pid {running[name].pid})")

    try:
        for name in commands:
            launch(name)
        say("waiting for web, beat and the workers to report in")
        announce_by = time.monotonic() + READY_TIMEOUT_SECONDS
        next_look = time.monotonic()
        ready_looks = 0
        announced = False
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
                    exit_status = 1
                    raise KeyboardInterrupt
                restarts[name] = [*recent, time.monotonic()]
                say(f"{name} exited with status {process.returncode}; starting it again")
                launch(name)
            if not announced and time.monotonic() >= next_look:
                next_look = time.monotonic() + READY_POLL_SECONDS
                ready_looks = ready_looks + 1 if everything_reports_in(web_port) else 0
                # Twice: a worker reports in a moment before it prints that it is ready.
                if ready_looks >= 2 or time.monotonic() > announce_by:
                    announce(web_port, admin_email, shown_password, ready_looks > 0)
                    announced = True
            time.sleep(1)
    except KeyboardInterrupt:
        say("stopping web, beat and workers (running checks are finished first)")
    finally:
        stop_processes(processes)
        say("web, beat and workers have stopped")
    return exit_status
