"""Run the fault suite: python -m bench.faults [--quick] [--only NAME ...]

Each scenario gets a fresh installation (embedded PostgreSQL and Valkey, beat, a worker per
region, the housekeeping worker), runs steady, takes its fault, recovers, and is measured.
Prints a table and writes the figures as JSON.
"""

import argparse
import json
import sys
import time
import traceback
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from uptime.embedded import _stop_on_signals

from .cluster import Cluster, Settings
from .measure import measure
from .scenarios import QUICK, SCENARIOS, Scenario

DEFAULT_JSON = Path(__file__).resolve().parent / "results.json"


def say(message: str) -> None:
    print(f"[faults {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def run_scenario(scenario: Scenario, args: argparse.Namespace) -> dict:
    settings = Settings(monitors=args.monitors, interval_seconds=args.interval, **scenario.settings)
    with Cluster(settings, keep=args.keep) as cluster:
        say(f"{scenario.name}: {scenario.description} (data in {cluster.root})")
        cluster.target.delay_seconds = scenario.target_delay_seconds
        cluster.start_all()
        cluster.create_monitors()
        time.sleep(args.steady)
        say(f"{scenario.name}: injecting the fault")
        fault = scenario.inject(cluster)
        say(f"{scenario.name}: fault over after {fault.ended - fault.started:.0f} s; recovering for {args.recovery} s")
        time.sleep(args.recovery)
        cluster.note_deaths()
        beats = [name for name, p in cluster.processes.items() if name.startswith("beat") and p.poll() is None]
        window_end = time.time()
        for name in beats:
            cluster.stop(name)
        # Let the checks beat sent last be run before the workers stop.
        time.sleep(settings.timeout_seconds + scenario.target_delay_seconds + 3)
        cluster.stop_everything()
        hits = Counter(hit.monitor_key for hit in cluster.target.hits)
        outcome = measure(
            cluster.postgres.url(),
            settings.interval_seconds,
            {monitor_id: key for monitor_id, (key, _region) in cluster.monitors.items()},
            hits,
            fault.ended,
            window_end,
        )
        for death in cluster.deaths:
            say(f"{scenario.name}: {death}")
        for name, tail in cluster.death_logs.items():
            say(f"{scenario.name}: the end of {name}'s log when it died:")
            print(tail, flush=True)
        return {
            "name": scenario.name,
            "description": scenario.description,
            "fault_seconds": round(fault.ended - fault.started, 1),
            "notes": [*fault.notes, *cluster.deaths],
            # Processes that died during the run and were started again, with how often.
            "restarts": dict(cluster.restarts),
            **outcome.as_dict(),
        }


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.0f}"


COLUMNS = [
    ("fault", lambda r: r["name"]),
    ("ticks/expected", lambda r: f"{r['ticks']}/{r['expected']}"),
    ("lost (unflagged)", lambda r: f"{r['lost']} ({r['lost_unflagged']})"),
    ("dup ticks", lambda r: r["duplicate_ticks"]),
    ("extra hits", lambda r: r["extra_hits"]),
    ("longest gap s", lambda r: r["longest_gap_seconds"]),
    ("recovery s (first/all)", lambda r: f"{_seconds(r['first_on_time_seconds'])}/{_seconds(r['recovery_seconds'])}"),
    ("late ticks", lambda r: r["late_ticks"]),
    ("false down", lambda r: f"{r['down_ticks']}/{r['incidents']}/{r['down_changes']}"),
    ("gaps", lambda r: r["gaps_recorded"]),
]


def table(results: list[dict]) -> str:
    """A Markdown table: docs/reliability.md takes it as printed."""
    rows = [
        [str(get(r)) if "error" not in r else (r["name"] if i == 0 else "-") for i, (_, get) in enumerate(COLUMNS)]
        for r in results
    ]
    header = [title for title, _ in COLUMNS]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def restarts_line(results: list[dict]) -> str:
    """Which processes died and were started again, per scenario (the table counts their
    slots as usual: a crash shows as a restart, not as every later slot lost)."""
    done = [
        f"{r['name']}: " + ", ".join(f"{name} {count}x" for name, count in sorted(r["restarts"].items()))
        for r in results
        if r.get("restarts")
    ]
    return "restarts: " + ("; ".join(done) if done else "none")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this scenario (repeatable)")
    parser.add_argument("--quick", action="store_true", help=f"a short subset: {', '.join(QUICK)}")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--monitors", type=int, default=12, help="monitors, split between india and usa")
    parser.add_argument("--interval", type=int, default=20, help="their interval in seconds")
    parser.add_argument("--steady", type=int, help="seconds of steady running before the fault")
    parser.add_argument("--recovery", type=int, help="seconds of running after the fault")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write the figures")
    parser.add_argument("--keep", action="store_true", help="keep each scenario's data and process logs")
    args = parser.parse_args(argv)
    if args.list:
        for scenario in SCENARIOS:
            print(f"{scenario.name:26} {scenario.description}")
        return 0
    known = {scenario.name for scenario in SCENARIOS}
    wanted = args.only or (QUICK if args.quick else [s.name for s in SCENARIOS])
    unknown = set(wanted) - known
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}; see --list")
    args.steady = args.steady or (args.interval + 10 if args.quick else 2 * args.interval)
    args.recovery = args.recovery or (2 * args.interval if args.quick else 3 * args.interval)

    # SIGTERM (and a Ctrl-C even when started in the background) unwinds like Ctrl-C, so
    # each scenario's servers and processes are stopped.
    _stop_on_signals()
    started = datetime.now(UTC)
    results = []
    for scenario in SCENARIOS:
        if scenario.name not in wanted:
            continue
        try:
            results.append(run_scenario(scenario, args))
        except KeyboardInterrupt:
            say("interrupted")
            break
        except Exception as exc:  # one broken scenario must not lose the others' figures
            traceback.print_exc()
            results.append({"name": scenario.name, "error": str(exc)})
        say(f"{scenario.name}: {json.dumps(results[-1])}")
    report = {
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.faults " + " ".join(sys.argv[1:] if argv is None else argv),
        "settings": {
            "monitors": args.monitors,
            "interval_seconds": args.interval,
            "steady_seconds": args.steady,
            "recovery_seconds": args.recovery,
            **{k: v for k, v in vars(Settings()).items() if k not in {"monitors", "interval_seconds", "extra_env"}},
        },
        "results": results,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(table(results))
    print(restarts_line(results))
    print(f"\nfigures written to {args.json}")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
