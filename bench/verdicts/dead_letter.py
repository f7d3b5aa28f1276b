"""A channel failing past its retries, then replayed: python -m bench.verdicts.dead_letter

One throwaway installation (embedded PostgreSQL and Valkey, the web server, and the
housekeeping worker that sends alerts). A webhook channel's receiver refuses every request
until the test message sent to it has used all its attempts: one dead delivery. Then the
receiver accepts, the dead delivery is replayed through the API, and what arrived is
counted: exactly one accepted message, and a second replay refused.
"""

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from bench.faults.cluster import HOUSEKEEPING, Cluster, Settings
from uptime.embedded import BASE_DIR, free_port
from uptime.local_run import run_django

from .receiver import AlertReceiver, ReceiverHandler

PASSWORD = "dead-letter-password-123"


class RefusingHandler(ReceiverHandler):
    def do_POST(self):
        server: RefusingReceiver = self.server  # type: ignore[assignment]
        if not server.refusing:
            return super().do_POST()
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        server.refused += 1
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()


class RefusingReceiver(AlertReceiver):
    """The alert receiver, answering 503 to everything while `refusing`."""

    def __init__(self):
        super().__init__()
        self.RequestHandlerClass = RefusingHandler
        self.refusing = True
        self.refused = 0


def say(message: str) -> None:
    print(f"[dead letter {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


class Api:
    """The installation's API, as a user's script calls it: a JWT, then JSON requests."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.token = ""

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        # Our own server on loopback, http only.
        request = urllib.request.Request(self.base + path, method=method, data=data, headers=headers)  # noqa: S310
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def wait_until_up(self, timeout_seconds: float = 60) -> None:
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            try:
                self.call("GET", "/api/health/")
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("the web server did not answer")

    def wait_for(self, path: str, done, timeout_seconds: float) -> dict:
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            status, body = self.call("GET", path)
            if status == 200 and done(body):
                return body
            time.sleep(0.5)
        raise RuntimeError(f"timed out waiting on {path}")


def run(max_attempts: int = 3, retry_base_seconds: int = 1, json_path: Path | None = None) -> dict:
    """Play the scenario once; print its table and return its figures."""
    settings = Settings(
        extra_env={
            "NOTIFY_MAX_ATTEMPTS": str(max_attempts),
            "NOTIFY_RETRY_BASE_SECONDS": str(retry_base_seconds),
            "NOTIFY_RETRY_MAX_SECONDS": str(retry_base_seconds * 4),
        }
    )
    web_port = free_port()
    with RefusingReceiver() as receiver, Cluster(settings) as cluster:
        created = run_django(
            cluster.env,
            f"""
import json
from accounts.models import User
from notifications.models import Channel
from bench.organizations import personal_organization
owner = User.objects.create_user(email="dead-letter@example.com", password={PASSWORD!r})
channel = Channel.objects.create(organization=personal_organization(owner), name="bench", kind="webhook",
    url={receiver.url()!r})
print(json.dumps({{"channel": channel.pk, "secret": channel.secret}}))
""",
        )
        if created.returncode != 0:
            raise RuntimeError(f"could not create the channel: {created.stderr.strip()[-500:]}")
        facts = json.loads(created.stdout)
        receiver.secret = facts["secret"]
        channel = facts["channel"]
        web = [sys.executable, str(BASE_DIR / "manage.py"), "runserver", f"127.0.0.1:{web_port}", "--noreload"]
        cluster.start("web", web)
        cluster.start_worker(HOUSEKEEPING)
        api = Api(web_port)
        api.wait_until_up()
        _, tokens = api.call("POST", "/api/auth/token/", {"email": "dead-letter@example.com", "password": PASSWORD})
        api.token = tokens["access"]

        say(f"a test message to a receiver that refuses everything; {max_attempts} attempts")
        started = time.monotonic()
        api.call("POST", f"/api/channels/{channel}/test/")
        dead = api.wait_for("/api/channels/dead-deliveries/", lambda body: body["count"] >= 1, 120)
        dead_after_seconds = time.monotonic() - started
        (delivery,) = dead["results"]

        say("the receiver accepts now; replaying the dead delivery through the API")
        receiver.refusing = False
        replay_path = f"/api/channels/{channel}/deliveries/{delivery['id']}/replay/"
        replayed_status, replayed = api.call("POST", replay_path)
        started = time.monotonic()
        new_id = replayed["deliveries"][0]["id"] if replayed_status == 202 else None
        delivered = api.wait_for(
            f"/api/channels/{channel}/deliveries/",
            lambda body: any(d["id"] == new_id and d["status"] == "sent" for d in body["results"]),
            60,
        )
        delivered_after_seconds = time.monotonic() - started
        second_status, _ = api.call("POST", replay_path)
        _, replay_all = api.call("POST", f"/api/channels/{channel}/replay-dead/")
        time.sleep(2)  # anything sent twice would have arrived by now
        statuses = [d["status"] for d in delivered["results"]]
        _, left = api.call("GET", "/api/channels/dead-deliveries/")
        cluster.stop_everything()

    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": {"max_attempts": max_attempts, "retry_base_seconds": retry_base_seconds},
        "refused_attempts": receiver.refused,
        "dead_attempts": len(delivery["attempts"]),
        "dead": dead["count"],
        "dead_after_seconds": round(dead_after_seconds, 1),
        "replay_status": replayed_status,
        "delivered": statuses.count("sent"),
        "delivered_after_seconds": round(delivered_after_seconds, 1),
        "accepted_messages": len(receiver.alerts),
        "signed": all(alert.signed for alert in receiver.alerts),
        "second_replay_status": second_status,
        "replay_dead_after": replay_all.get("replayed"),
        "dead_left": left.get("count"),
    }
    print(table(result))
    if json_path is not None:
        json_path.write_text(json.dumps(result, indent=2))
    return result


def table(result: dict) -> str:
    rows = [
        ("refused attempts (all of them)", result["refused_attempts"]),
        ("dead deliveries", result["dead"]),
        ("dead after s", result["dead_after_seconds"]),
        ("replay answer", result["replay_status"]),
        ("delivered after the replay", result["delivered"]),
        ("replay to arrival s", result["delivered_after_seconds"]),
        ("messages the receiver accepted", result["accepted_messages"]),
        ("second replay answer", result["second_replay_status"]),
        ("replay-dead afterwards replayed", result["replay_dead_after"]),
        ("dead deliveries left", result["dead_left"]),
    ]
    return "\n".join(["| figure | value |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.verdicts.dead_letter", description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=3, help="NOTIFY_MAX_ATTEMPTS (default 3)")
    parser.add_argument("--retry-base", type=int, default=1, help="NOTIFY_RETRY_BASE_SECONDS (default 1)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    result = run(args.attempts, args.retry_base, args.json)
    ok = (
        result["dead"] == 1
        and result["delivered"] == 1
        and result["accepted_messages"] == 1
        and result["second_replay_status"] == 409
        and result["replay_status"] == 202
        and result["signed"]
        and result["replay_dead_after"] == 0
        and result["dead_left"] == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
