"""Plan and apply of a config file with many new monitors (docs/config-file.md), split into
its parts: parse (YAML to a document), validate (types, the account read once, the API's
rules), diff (the plan), write (the domain functions, bulk creation, commit), and a second
apply of the same file (a plan with no changes).

    .venv/bin/python -m bench.config_apply [--monitors 10000] [--runs 3]

Starts its own throwaway PostgreSQL and Valkey (uptime.embedded); each run applies the
file to a new user's (personal) organization. ALLOW_PRIVATE_TARGETS is on, so no URL is
resolved when it is judged (with the address guard on, each new URL costs a DNS lookup, as
through the API). Prints the medians and writes bench/results/config_apply-<time>.json.
"""

import argparse
import secrets
import statistics
import time

from .served import report_head, say, served_process, write_report

TARGET_SECONDS = 10
PARTS = ("parse", "validate", "diff", "write", "commit", "plan_total", "apply_total", "second_apply")


def config_text(monitors: int) -> str:
    """A file like an import's: defaults at the top, a few keys per monitor, two channels."""
    lines = [
        "version: 1",
        "defaults:",
        "  monitor:",
        "    interval_seconds: 60",
        "    timeout_seconds: 10",
        "    regions: [india, usa]",
        "channels:",
        "  - name: Ops hook",
        "    kind: webhook",
        "    url: https://hooks.example.com/uptime",
        "    is_default: true",
        "  - name: Ops mail",
        "    kind: email",
        "    email: ops@example.com",
        "monitors:",
    ]
    for n in range(monitors):
        lines += [f"  - name: Site {n}", f"    url: https://site{n}.example.com/health"]
        if n % 10 == 0:
            lines += [
                '    expected_status: "200-299"',
                "    channels: [Ops mail]",
                '    request_headers: {X-Check: "1"}',
            ]
    return "\n".join(lines) + "\n"


def one_run(text: str, n: int) -> dict[str, float]:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from accounts.models import Organization
    from configfile.account import read_account
    from configfile.apply import _Writer, apply_document
    from configfile.document import check_types, load
    from configfile.plan import _diff, make_plan
    from configfile.rules import judge

    from .organizations import personal_organization

    user = get_user_model().objects.create_user(email=f"config-{n}@example.com", password=secrets.token_urlsafe())
    organization = personal_organization(user)
    times: dict[str, float] = {}

    # The plan, as `uptime plan` makes it, timed as a whole.
    started = time.perf_counter()
    document, lines = load(text)
    make_plan(organization, document, lines)
    times["plan_total"] = time.perf_counter() - started

    # The apply, as apply_document does it, timed part by part.
    started = time.perf_counter()
    document, lines = load(text)
    times["parse"] = time.perf_counter() - started
    with transaction.atomic():
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        mark = time.perf_counter()
        errors, bad = check_types(document, lines)
        account = read_account(organization)
        judged = judge(document, lines, bad, account, organization, prune=False)
        assert not errors and not judged.errors, (errors + judged.errors)[:3]
        times["validate"] = time.perf_counter() - mark
        mark = time.perf_counter()
        plan = _diff(judged, account, prune=False)
        times["diff"] = time.perf_counter() - mark
        mark = time.perf_counter()
        _Writer(organization, plan).run()
        times["write"] = time.perf_counter() - mark
        mark = time.perf_counter()
    # Leaving the block commits; the new monitors' first checks are sent on commit.
    times["commit"] = time.perf_counter() - mark
    times["apply_total"] = time.perf_counter() - started

    started = time.perf_counter()
    document, lines = load(text)
    again = apply_document(organization, document, lines)
    times["second_apply"] = time.perf_counter() - started
    assert not again.has_changes
    return times


def run(args) -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    from monitors.models import Monitor

    call_command("migrate", "--no-input", verbosity=0)
    text = config_text(args.monitors)
    say(f"a file of {args.monitors:,} monitors, {len(text) / 1e6:.1f} MB; {args.runs} runs, each into a new account")
    runs = []
    for n in range(args.runs):
        times = one_run(text, n)
        runs.append({part: round(seconds, 3) for part, seconds in times.items()})
        say(f"run {n + 1}: plan {times['plan_total']:.2f} s, apply {times['apply_total']:.2f} s")
    assert Monitor.objects.count() == args.monitors * args.runs
    medians = {part: round(statistics.median(r[part] for r in runs), 3) for part in PARTS}
    return {"monitors": args.monitors, "file_bytes": len(text), "runs": runs, "median_seconds": medians}


def print_report(report: dict) -> None:
    medians = report["median_seconds"]
    print(f"\n{report['monitors']:,} new monitors, median of {len(report['runs'])} runs")
    print(f"{'part':<14} {'seconds':>8}")
    for part in PARTS:
        print(f"{part:<14} {medians[part]:>8.3f}")
    total = medians["plan_total"] + medians["apply_total"]
    print(
        f"\nplan + apply: {total:.2f} s (target ≤ {TARGET_SECONDS} s: {'met' if total <= TARGET_SECONDS else 'MISSED'})"
    )
    machine = report["machine"]
    print(
        f"machine ms before / after: {machine['machine_ms_before']} / {machine['machine_ms_after']}; "
        f"load average before / after: {machine['load_before']} / {machine['load_after']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.config_apply", description=__doc__.split("\n\n")[0])
    parser.add_argument("--monitors", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", default="bench/results")
    args = parser.parse_args(argv)
    if args.monitors < 1 or args.runs < 1:
        parser.error("--monitors and --runs must be at least 1")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    # No quota (the default allows 500 per organization) and no DNS lookups when URLs are judged.
    with served_process("config_apply", MONITOR_QUOTA_PER_ORGANIZATION="0", ALLOW_PRIVATE_TARGETS="true") as machine:
        report = run(args)
    report = {
        **report_head("bench.config_apply", machine, args),
        **report,
    }
    print_report(report)
    write_report("config_apply", stamp, args.out, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
