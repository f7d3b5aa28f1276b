"""Debian's Chromium for the browser tests (tests/browser/): where it is, and installing it
before `make test` when it is missing and we may (root, with apt-get).

Playwright drives this binary; its own browser downloads do not work on every network."""

import os
import shutil
import subprocess
from pathlib import Path

from uptime.local_run import say

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
INSTALL_HINT = (
    "Chromium is not installed, and the browser tests (tests/browser/) need it: "
    "install Debian's package with `sudo apt-get install chromium`, then run the tests again."
)
# Headless Chromium needs none of its recommends (printing, desktop notifications, a sandbox
# helper unused as root) but the fonts, so that screenshots show the pages as people see them.
INSTALL = ("install", "-y", "-q", "--no-install-recommends", "chromium", "fonts-liberation")
# An install that hangs (a held dpkg lock, an unreachable mirror) must not hold up the suite for good.
APT_TIMEOUT_SECONDS = 600


def chromium_path() -> Path | None:
    """Debian's Chromium, or a `chromium` on PATH; None when there is none."""
    if DEBIAN_CHROMIUM.is_file() and os.access(DEBIAN_CHROMIUM, os.X_OK):
        return DEBIAN_CHROMIUM
    found = shutil.which("chromium")
    return Path(found) if found else None


def ensure_chromium() -> Path | None:
    """The Chromium to test with, installed first if it is missing and we run as root with
    apt-get (as CI does, on a machine with only Python). Otherwise say loudly how to install
    it, and return None: the browser tests then fail with the same words, rather than pass
    without a browser."""
    if found := chromium_path():
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        _shout(INSTALL_HINT)
        return None
    say("Chromium is missing: installing Debian's chromium package for the browser tests (apt-get, a minute or two)")
    failure = _apt(*INSTALL)
    if failure:
        # A fresh machine's package index is old or absent: read it once, then try again.
        failure = _apt("update", "-q") or _apt(*INSTALL)
    found = chromium_path()
    if found is None:
        _shout(f"apt-get could not install chromium ({failure or 'no chromium binary afterwards'}). {INSTALL_HINT}")
    return found


def _apt(*args: str) -> str:
    """Run apt-get without questions; return "" on success, else the tail of what it said."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        result = subprocess.run(
            ["apt-get", *args], env=env, capture_output=True, text=True, timeout=APT_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        return f"apt-get {args[0]} took over {APT_TIMEOUT_SECONDS} s"
    if result.returncode == 0:
        return ""
    tail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-3:]
    return f"apt-get {args[0]} exited {result.returncode}: " + " | ".join(tail)


def _shout(message: str) -> None:
    rule = "[uptime] " + "!" * 72
    print(f"{rule}\n[uptime] {message}\n{rule}", flush=True)
