"""Run the verdict benchmark: python -m bench.verdicts [--interval S] [--recovery S]

One throwaway installation (embedded PostgreSQL and Valkey, beat, a worker per region and
the housekeeping worker that sends alerts), one monitor per scenario checked from india and
usa with a majority quorum (the flapping ones from india alone), a webhook channel on all
of them, and a scripted site. After a
steady start the script plays every scenario at once; then the incidents, status changes
and alerts are read back and compared with the script. Among the scenarios: a parent with
five children that all go down together (one incident, one alert, the children
`unreachable`), and a site failing every other check with 2 failures before down (no
incident) and with 1 (an incident per failing check). Europe, checked by a worker of its
own, loses its network for 2 minutes (nothing it asks is answered, its canaries
included) while its sites are fine: no incident, and the region impaired within one
interval (a RegionImpairment row, and the operator's channel told).
"""

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.faults.cluster import Cluster, Settings
from uptime.local_run import run_django

from .receiver import AlertReceiver
from .target import Flapping, Outage, Scenario, ScriptedTarget

CHILDREN = 5
# A region that loses its network while its sites are fine: a region of its own, so the
# other scenarios' regions keep theirs.
NETWORK_LOSS = Outage(10, 130, "europe")
CANARIES = 3

DEFAULT_JSON = Path(__file__).resolve().parent / "results.json"


def scenarios(timeout_seconds: float, interval_seconds: float) -> list[Scenario]:
    down_2min = (Outage(10, 130),)
    # Every other check fails from 10 s to 130 s; a request over half an interval after a
    # check began is the next check (retries come sooner). Checked from india alone, so
    # "every other check" is every other slot.
    flapping = Flapping(10, 130, interval_seconds / 2)
    return [
        Scenario("steady", "always up"),
        Scenario("blips", "one failed request now and then", blips=(5, 25, 45, 65, 85, 105)),
        Scenario("outage_20s", "down everywhere for 20 s", outages=(Outage(10, 30),), real_outages=1),
        Scenario("outage_2min", "down everywhere for 2 min", outages=(Outage(10, 130),), real_outages=1),
        Scenario("one_region", "down for india only, 80 s", outages=(Outage(10, 90, "india"),)),
        Scenario("slow", "every answer near the timeout", delay_seconds=0.8 * timeout_seconds),
        # Created before its children, which name it.
        Scenario("parent", f"a parent and its {CHILDREN} children down for 2 min", outages=down_2min, real_outages=1),
        *(
            Scenario(
                f"child_{n}",
                "behind the parent, down with it",
                outages=down_2min,
                parent="parent",
                expect_unreachable=True,
            )
            for n in range(1, CHILDREN + 1)
        ),
        Scenario(
            "flap_confirm_2",
            "every other check fails; 2 failures before down",
            flapping=flapping,
            failures_before_down=2,
            regions=("india",),
        ),
        # Europe's network fails from 10 s to 130 s (NETWORK_LOSS); its sites are fine.
        Scenario("network_europe", "europe's network fails; the site is fine", regions=("europe",)),
        Scenario("network_europe_usa", "the same, checked from europe and usa", regions=("europe", "usa")),
        Scenario(
            "flap_confirm_1",
            "every other check fails; 1 failure before down",
            flapping=flapping,
            incident_per_failing_check=True,
            regions=("india",),
        ),
    ]


def say(message: str) -> None:
    print(f"[verdicts {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def create(cluster: Cluster, target: ScriptedTarget, receiver: AlertReceiver, plan: list[Scenario]) -> dict:
    s = cluster.settings
    monitors = [
        (
            scenario.name,
            target.url(scenario.name),
            list(scenario.regions),
            scenario.parent,
            scenario.failures_before_down,
        )
        for scenario in plan
    ]
    code = f"""
import json
from accounts.models import User
from monitors.models import Monitor, Region
from monitors.services import create_monitor
from notifications.models import Channel
from bench.organizations import personal_organization
owner = User.objects.create_user(email="verdicts@example.com", password="unused-password-123")
organization = personal_organization(owner)
channel = Channel.objects.create(organization=organization, name="bench", kind="webhook", url={receiver.url()!r},
    is_default=True)
ids = {{}}
for name, url, regions, parent, failures_before_down in {monitors!r}:
    monitor = create_monitor(organization, Region.objects.filter(slug__in=regions), name=name, url=url,
        interval_seconds={s.interval_seconds}, timeout_seconds={s.timeout_seconds}, retries={s.retries},
        retry_interval_seconds={s.retry_interval_seconds}, failures_before_down=failures_before_down,
        parents=Monitor.objects.filter(pk=ids[parent]) if parent else None)
    ids[name] = monitor.pk
print(json.dumps({{"secret": channel.secret, "monitors": ids}}))
"""
    result = run_django(cluster.env, code)
    if result.returncode != 0:
        raise RuntimeError(f"could not create the monitors: {result.stderr.strip()[-500:]}")
    return json.loads(result.stdout)


def read_back(cluster: Cluster) -> dict:
    code = """
import json
from checks.models import Incident, StatusChange, Tick
out = {}
for incident in Incident.objects.order_by("started_at"):
    out.setdefault(str(incident.monitor_id), {"incidents": [], "changes": []})["incidents"].append(
        [incident.started_at.timestamp(), incident.resolved_at.timestamp() if incident.resolved_at else None])
for change in StatusChange.objects.order_by("changed_at"):
    out.setdefault(str(change.monitor_id), {"incidents": [], "changes": []})["changes"].append(
        [change.changed_at.timestamp(), change.from_status, change.to_status])
from checks.models import RegionImpairment
out["impairments"] = [
    [i.region.slug, i.started_at.timestamp(), i.ended_at.timestamp() if i.ended_at else None]
    for i in RegionImpairment.objects.select_related("region").order_by("started_at")]
print(json.dumps(out))
"""
    result = run_django(cluster.env, code)
    if result.returncode != 0:
        raise RuntimeError(f"could not read the results: {result.stderr.strip()[-500:]}")
    return json.loads(result.stdout)


def measure(plan, monitors, facts, alerts, started_at, failed_checks) -> list[dict]:
    rows = []
    for scenario in plan:
        if scenario.incident_per_failing_check:
            scenario.real_outages = failed_checks.get(scenario.name, 0)
        monitor_id = monitors[scenario.name]
        mine = facts.get(str(monitor_id), {"incidents": [], "changes": []})
        opened = [a for a in alerts if a.monitor_id == monitor_id and a.event == "incident.opened"]
        resolved = [a for a in alerts if a.monitor_id == monitor_id and a.event == "incident.resolved"]
        outage = next((o for o in scenario.outages if o.region is None), None)
        row = {
            "scenario": scenario.name,
            "description": scenario.description,
            "incidents": len(mine["incidents"]),
            "expected_incidents": scenario.real_outages,
            "false_alarms": max(0, len(mine["incidents"]) - scenario.real_outages),
            "status_changes": [change[1:] for change in mine["changes"]],
            "alerts_opened": len(opened),
            "alerts_resolved": len(resolved),
            "alerts_signed": all(a.signed for a in alerts if a.monitor_id == monitor_id),
            "unreachable": any(change[2] == "unreachable" for change in mine["changes"]),
            "expect_unreachable": scenario.expect_unreachable,
            "children_listed": max((a.children for a in opened + resolved), default=0),
            "children_listed_on_open": max((a.children for a in opened), default=0),
            "detection_seconds": None,
            "alert_seconds": None,
            "recovery_seconds": None,
            "recovery_alert_seconds": None,
        }
        if outage is not None and mine["incidents"]:
            start, end = started_at + outage.start, started_at + outage.end
            first_start, first_end = mine["incidents"][0]
            row["detection_seconds"] = round(first_start - start, 1)
            row["recovery_seconds"] = round(first_end - end, 1) if first_end else None
            row["alert_seconds"] = round(opened[0].at - start, 1) if opened else None
            row["recovery_alert_seconds"] = round(resolved[0].at - end, 1) if resolved else None
        rows.append(row)
    return rows


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


COLUMNS = [
    ("scenario", "scenario"),
    ("incidents (expected)", lambda r: f"{r['incidents']} ({r['expected_incidents']})"),
    ("false alarms", "false_alarms"),
    ("detected s", "detection_seconds"),
    ("alerted s", "alert_seconds"),
    ("recovered s", "recovery_seconds"),
    ("recovery alert s", "recovery_alert_seconds"),
    ("alerts open/resolve", lambda r: f"{r['alerts_opened']}/{r['alerts_resolved']}"),
    ("unreachable (expected)", lambda r: f"{yes_no(r['unreachable'])} ({yes_no(r['expect_unreachable'])})"),
    (
        "children listed open/resolve",
        lambda r: f"{r['children_listed_on_open']}/{r['children_listed']}" if r["children_listed"] else None,
    ),
    ("signed", lambda r: "yes" if r["alerts_signed"] else "NO"),
]


def table(rows: list[dict]) -> str:
    def cell(row, how):
        value = how(row) if callable(how) else row[how]
        return "-" if value is None else str(value)

    lines = ["| " + " | ".join(name for name, _ in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(row, how) for _, how in COLUMNS) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.verdicts", description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=int, default=10, help="monitor interval, seconds (default 10)")
    parser.add_argument("--timeout", type=int, default=2, help="check timeout, seconds (default 2)")
    parser.add_argument("--retries", type=int, default=2)
    parser.add_argument("--retry-interval", type=int, default=2)
    parser.add_argument("--steady", type=float, default=30, help="seconds of steady running first")
    parser.add_argument("--recovery", type=float, default=40, help="seconds after the script's last outage")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)

    settings = Settings(
        interval_seconds=args.interval,
        timeout_seconds=args.timeout,
        retries=args.retries,
        retry_interval_seconds=args.retry_interval,
    )
    plan = scenarios(args.timeout, args.interval)
    script_seconds = max((o.end for s in plan for o in (*s.outages, NETWORK_LOSS)), default=0)
    budget = args.interval + args.retries * args.retry_interval + 2
    with ScriptedTarget(plan, (NETWORK_LOSS,)) as target, AlertReceiver() as receiver:
        # Every region's canaries are paths of the scripted site, answered unless the
        # region's network is lost; rounds as often as the checks. The bench's channel,
        # the first made, is the operator's too.
        settings.extra_env = {
            "CANARY_TARGETS": ",".join(target.url(f"canary-{n}") for n in range(1, CANARIES + 1)),
            "CANARY_INTERVAL_SECONDS": str(args.interval),
            "CANARY_TIMEOUT_SECONDS": str(args.timeout),
            "OPERATOR_CHANNEL_ID": "1",
        }
        with Cluster(settings) as cluster:
            cluster.start_all()
            cluster.start_worker(NETWORK_LOSS.region)
            cluster.wait_for_worker(NETWORK_LOSS.region, NETWORK_LOSS.region)
            facts, created, started_at = play(cluster, target, receiver, plan, args, script_seconds)
    rows = measure(plan, created["monitors"], facts, receiver.alerts, started_at, target.failed_checks)
    impaired = network_loss_row(facts["impairments"], receiver.alerts, started_at, args.interval)
    print(table(rows))
    print(
        f"europe's network lost {NETWORK_LOSS.start:.0f}-{NETWORK_LOSS.end:.0f} s: impaired after "
        f"{impaired['impaired_after_seconds']} s (target: one interval, {args.interval} s), for "
        f"{impaired['impaired_seconds']} s; operator told {impaired['operator_alerts']}"
    )
    print(f"detection target: interval + retries x retry interval + 2 s = {budget} s")
    args.json.write_text(
        json.dumps(
            {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "settings": {name: value for name, value in vars(args).items() if name != "json"},
                "detection_target_seconds": budget,
                "scenarios": rows,
                "network_loss": impaired,
            },
            indent=2,
        )
    )
    return 0


def play(cluster, target, receiver, plan, args, script_seconds):
    """Create the monitors, run steady, play the script, and read back what was recorded."""
    created = create(cluster, target, receiver, plan)
    receiver.secret = created["secret"]
    say(f"{len(plan)} monitors checked every {args.interval} s; steady for {args.steady:.0f} s")
    time.sleep(args.steady)
    started_at = target.start_script()
    say(f"script running for {script_seconds:.0f} s, then {args.recovery:.0f} s to recover")
    time.sleep(script_seconds + args.recovery)
    cluster.stop_everything()
    facts = read_back(cluster)
    return facts, created, started_at


def network_loss_row(impairments: list, alerts, started_at: float, interval: int) -> dict:
    """When europe was found impaired after its network went, and for how long."""
    europe = [(start, end) for slug, start, end in impairments if slug == NETWORK_LOSS.region]
    first = europe[0] if europe else None
    return {
        "impairments": len(europe),
        "impaired_after_seconds": round(first[0] - (started_at + NETWORK_LOSS.start), 1) if first else None,
        "impaired_seconds": round(first[1] - first[0], 1) if first and first[1] else None,
        "within_one_interval": bool(first) and first[0] - (started_at + NETWORK_LOSS.start) <= interval,
        "other_regions_impaired": sum(1 for slug, *_ in impairments if slug != NETWORK_LOSS.region),
        "operator_alerts": sorted(a.event for a in alerts if a.event.startswith("region.")),
    }


if __name__ == "__main__":
    sys.exit(main())
