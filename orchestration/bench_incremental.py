"""`make bench SCALE=<orders> DAYS=<n>`: a full build, then n daily incremental builds; print figures.

The demo data of that size is split into a history file and one file per
day for the last n days (orchestration/daily_files.py). The history is built
in full, then each day's files are added and built through the incremental
path, the way the daily schedule runs: the planned landing
(orchestration.landing.land_for_build), one `dbt build` of seeds and models
(with --full-refresh when the plan says so; AS_OF_DATE in the environment),
then orchestration.incremental.record_success. dbt tests are left out of
both (they are timed by `make bench` without DAYS). Printed: wall time of
each build's landing and dbt step, the incremental build as a share of the
full one, the slowest models of each, and peak memory. Everything lives
under data/bench/ (raw_<N>/ is shared with `make bench`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from orchestration import incremental, settings
from orchestration.daily_files import arrive_day, split_daily
from orchestration.landing import land_for_build

END_DATE = dt.date(2026, 11, 1)


def _peak_rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0  # Linux reports KiB


def _build(raw: Path, db: Path, target: Path, as_of: dt.date, label: str) -> dict:
    start = time.perf_counter()
    plan, _ = land_for_build(raw, db, as_of)
    landed = time.perf_counter()
    env = dict(os.environ, DUCKDB_PATH=str(db), DBT_TARGET_PATH=str(target), DBT_LOG_PATH=str(target),
               AS_OF_DATE=as_of.isoformat())
    env.pop("FULL_REFRESH", None)
    command = [str(Path(sys.executable).with_name("dbt")), "build", "--resource-type", "seed",
               "--resource-type", "model", "--profiles-dir", str(settings.PROJECT_DIR),
               "--project-dir", str(settings.PROJECT_DIR)]
    if plan.full_refresh:
        command.append("--full-refresh")
    completed = subprocess.run(command, env=env, capture_output=True, text=True)
    if completed.returncode != 0:
        print(completed.stdout[-5000:])
        raise SystemExit(f"dbt build failed ({label})")
    incremental.record_success(db, as_of, raw)
    done = time.perf_counter()
    results = json.loads((target / "run_results.json").read_text())["results"]
    figures = {"label": label, "path": plan.describe(), "land": landed - start, "dbt": done - landed,
               "total": done - start, "results": results}
    print(f"{label:<34} {figures['total']:>7.1f} s  (land {figures['land']:.1f} s, dbt {figures['dbt']:.1f} s)  "
          f"{plan.describe()}", flush=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, required=True, help="number of raw orders")
    parser.add_argument("--days", type=int, default=1, help="daily incremental builds after the full one")
    parser.add_argument("--seed", type=int, default=settings.DEMO_SEED)
    args = parser.parse_args(argv)

    bench_dir = settings.PROJECT_DIR / "data" / "bench"
    source = bench_dir / f"raw_{args.scale}"
    daily = bench_dir / f"daily_{args.scale}_{args.days}"
    live = bench_dir / f"live_{args.scale}"
    db = bench_dir / f"incremental_{args.scale}.duckdb"
    target = bench_dir / f"target_incremental_{args.scale}"
    first_day = END_DATE - dt.timedelta(days=args.days)
    print(f"Incremental benchmark: {args.scale:,} orders, full build as of {first_day}, "
          f"then {args.days} daily build(s) up to {END_DATE}\n")

    if not (source / "orders.parquet").exists():
        from orchestration.demo_data import generate

        generate(source, args.scale, END_DATE, args.seed)
    if not daily.exists():
        split_daily(source, daily, first_day, END_DATE)
    shutil.rmtree(live, ignore_errors=True)
    db.unlink(missing_ok=True)

    arrive_day(daily, live, first_day, with_undated=True)
    full = _build(live, db, target, first_day, "full build (history)")
    full_rss = _peak_rss_mb(resource.RUSAGE_CHILDREN)
    days = []
    for n in range(1, args.days + 1):
        day = first_day + dt.timedelta(days=n)
        arrive_day(daily, live, day, with_undated=False)
        days.append(_build(live, db, target, day, f"incremental build ({day})"))
    rss = _peak_rss_mb(resource.RUSAGE_CHILDREN)

    for figures in (full, *days[-1:]):
        models = sorted((r for r in figures["results"] if r["unique_id"].startswith("model.")),
                        key=lambda r: -r["execution_time"])
        print(f"\nSlowest models, {figures['label']}:")
        for r in models[:8]:
            print(f"  {r['unique_id'].split('.')[-1]:<44} {r['execution_time']:>7.2f}")
    if days:
        last = days[-1]
        print(f"\nIncremental / full wall time: {last['total']:.1f} s / {full['total']:.1f} s = "
              f"{100 * last['total'] / full['total']:.0f}%")
    print(f"Peak RSS of dbt: full build {full_rss:,.0f} MB; largest of all builds {rss:,.0f} MB; "
          f"this process {_peak_rss_mb(resource.RUSAGE_SELF):,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
