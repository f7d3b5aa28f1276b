"""A benchmark's figures: lateness percentiles, the printed table, JSON and a PNG."""

import json
import time
from collections import defaultdict
from pathlib import Path


def percentile(ordered: list[float], share: float) -> float:
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def lateness_summary(seconds: list[float]) -> dict:
    if not seconds:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(seconds)
    return {
        name: round(percentile(ordered, share) * 1000, 1)
        for name, share in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
    }


def per_second(result: dict) -> dict:
    """Lateness p99 and max, and each process's CPU (cores), per second since the start."""
    timeline = result["timeline"]
    start = timeline["start"]
    bins = defaultdict(list)
    for at, late in timeline["lateness"]:
        bins[int(at - start)].append(late)
    lateness = {
        second: {"p99_ms": round(percentile(sorted(values), 0.99) * 1000, 1), "max_ms": round(max(values) * 1000, 1)}
        for second, values in sorted(bins.items())
    }
    cpu = []
    for (t0, before), (t1, after) in zip(timeline["cpu"], timeline["cpu"][1:], strict=False):
        if t1 > t0:
            cpu.append((round(t1 - start, 1), {k: round((after[k] - before.get(k, 0)) / (t1 - t0), 3) for k in after}))
    return {"lateness": lateness, "cpu_cores": cpu}


def by_minute(checks: list[tuple[float, float, bool]], cpu_between, start: float) -> list[dict]:
    """Per minute since the start: the checks finished, the fast sites' p99 lateness, and
    each process group's CPU ms per check. `checks` are (checked at, seconds late, fast);
    `cpu_between(t0, t1)` is the sampler's. The targets do the same work for every check,
    so when their figure rises with the workers', the machine slowed, not our code."""
    minutes = defaultdict(list)
    for checked, late, fast in checks:
        minutes[int((checked - start) // 60)].append((late, fast))
    rows = []
    for minute, found in sorted(minutes.items()):
        cpu = cpu_between(start + minute * 60, start + (minute + 1) * 60)
        fast_late = sorted(late for late, fast in found if fast)
        rows.append(
            {
                "minute": minute,
                "checks": len(found),
                "fast_p99_ms": round(percentile(fast_late, 0.99) * 1000, 1) if fast_late else None,
                "cpu_ms_per_check": {name: round(value * 1000 / len(found), 3) for name, value in cpu.items()},
            }
        )
    return rows


def print_minutes(results: list[dict]) -> None:
    for r in results:
        if not r.get("by_minute"):
            continue
        groups = list(r["by_minute"][0]["cpu_ms_per_check"])
        print(f"\n{r['label']}, per minute: checks, fast p99 ms, CPU ms per check")
        print("  ".join(["min", "checks".ljust(7), "fast p99".ljust(9), *(g[:12].ljust(12) for g in groups)]))
        for row in r["by_minute"]:
            cells = [
                str(row["minute"]).ljust(3),
                str(row["checks"]).ljust(7),
                str(row["fast_p99_ms"]).ljust(9),
                *(str(row["cpu_ms_per_check"][g]).ljust(12) for g in groups),
            ]
            print("  ".join(cells))


def print_table(results: list[dict]) -> None:
    columns = [
        ("case", lambda r: r["label"]),
        ("sent/s", lambda r: r.get("dispatches_per_second")),
        ("checks/s", lambda r: r.get("checks_per_second", "")),
        ("first s", lambda r: r.get("first_dispatch_seconds", "")),
        ("p50 ms", lambda r: r["lateness_ms"]["p50"]),
        ("p95 ms", lambda r: r["lateness_ms"]["p95"]),
        ("p99 ms", lambda r: r["lateness_ms"]["p99"]),
        ("max ms", lambda r: r["lateness_ms"]["max"]),
        ("fast p99 ms", lambda r: r["fast_lateness_ms"]["p99"] if "fast_lateness_ms" in r else ""),
        ("false down", lambda r: r.get("fast_false_down", "")),
        ("missed", lambda r: r["slots_missed"]),
        ("dups", lambda r: r["duplicates"]),
        ("unwritten", lambda r: r.get("unwritten_at_end", "")),
        ("machine ms", lambda r: f"{r.get('machine_ms_before', '')}/{r.get('machine_ms_after', '')}".strip("/")),
        ("beat cores", lambda r: r.get("beat_cores", round(r["cpu_seconds"]["beat"] / r["seconds"], 3))),
        ("ratio", lambda r: r.get("ours_over_stock", "")),
    ]
    rows = [[str(get(r)) for _, get in columns] for r in results]
    widths = [max(len(name), *(len(row[i]) for row in rows)) for i, (name, _) in enumerate(columns)]
    print("  ".join(name.ljust(w) for (name, _), w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    print()
    groups = sorted({name for r in results for name in r["cpu_seconds"]})
    print("CPU ms per " + ("check" if any("checks" in r for r in results) else "dispatch") + " / peak RSS MB")
    print("  ".join(["case".ljust(widths[0]), *(g.ljust(16) for g in groups), "total"]))
    for r in results:
        per = r.get("cpu_ms_per_check") or r.get("cpu_ms_per_dispatch")
        cells = [f"{per.get(g, '')} / {r['peak_rss_mb'].get(g, '')}".ljust(16) for g in groups]
        print("  ".join([r["label"].ljust(widths[0]), *cells, str(round(sum(per.values()), 3))]))


def save_results(results: list[dict], out: Path, mode: str, options: dict) -> tuple[Path, Path]:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    json_path, png_path = out / f"{mode}-{stamp}.json", out / f"{mode}-{stamp}.png"
    series = [per_second(r) for r in results]
    options = {k: v for k, v in options.items() if k != "handler"}
    stored = [
        {**{k: v for k, v in r.items() if k != "timeline"}, "per_second": s}
        for r, s in zip(results, series, strict=True)
    ]
    json_path.write_text(json.dumps({"mode": mode, "at": stamp, "options": options, "results": stored}, indent=1))
    draw(results, series, png_path)
    return json_path, png_path


def draw(results: list[dict], series: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (lateness_axes, cpu_axes) = plt.subplots(2, 1, figsize=(11, 8))
    for result, s in zip(results, series, strict=True):
        seconds = list(s["lateness"])
        lateness_axes.plot(seconds, [s["lateness"][t]["p99_ms"] for t in seconds], label=f"{result['label']} p99")
    lateness_axes.set_yscale("symlog", linthresh=10)
    lateness_axes.set_xlabel("seconds since start")
    lateness_axes.set_ylabel("lateness ms (p99 per second)")
    lateness_axes.legend(fontsize=7)
    lateness_axes.grid(alpha=0.3)
    for result, s in zip(results, series, strict=True):
        for name in s["cpu_cores"][0][1] if s["cpu_cores"] else []:
            cpu_axes.plot(
                [t for t, _ in s["cpu_cores"]],
                [values[name] for _, values in s["cpu_cores"]],
                label=f"{result['label']} {name}",
            )
    cpu_axes.set_xlabel("seconds since start")
    cpu_axes.set_ylabel("CPU (cores)")
    cpu_axes.legend(fontsize=6, ncol=2)
    cpu_axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
