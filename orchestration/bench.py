"""`make bench SCALE=<orders>`: generate, land and build at a given size; print figures.

Everything goes under data/bench/ (its own raw folder, database and dbt target
folder), so a benchmark never touches the demo database. Figures printed:
demo-data generation time, landing time, the wall time of seeds, models and
tests (run as separate dbt commands), per-model times from dbt's
run_results.json summed per layer (staging, intermediate, marts, audit) and
for the CLV fits, publishing, and peak memory (RSS); with ``--make-run``, also
the whole ``make run`` (Dagster job and summary) on the same data. Shapes:
``demo`` (orders, customers, merchants, interactions, costs) and
``orders-only`` (the same orders file alone: customers derived from their
orders, no merchants or interactions). There are no assertions: the numbers
go in the closing notes.

With DBT_TARGET=spark (`make bench SCALE=... DBT_TARGET=spark`) the same
figures come from a build on a local Spark session, under its own warehouse
and metastore in data/bench/: the landing includes writing the raw tables
into Spark; the models are dbt runs alternating with the CLV Python models
run on Spark by orchestration.spark_clv, in the order of
orchestration.spark.build_phases (each a process of its own, as in the
Dagster job); the tests are one `dbt test`; publishing includes copying the
Spark marts into DuckDB. Peak RSS counts the Spark JVMs (children).
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

from orchestration import settings
from orchestration.landing import land_raw_data
from orchestration.publish import publish


def _peak_rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0  # Linux reports KiB


def _timed(label: str, fn):
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    print(f"{label:<28} {seconds:>8.1f} s", flush=True)
    return value, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, required=True, help="number of raw orders")
    parser.add_argument("--as-of", default="", help="AS_OF_DATE (default: the data's end date)")
    parser.add_argument("--seed", type=int, default=settings.DEMO_SEED)
    parser.add_argument("--select", default="", help="optional dbt --select (default: everything)")
    parser.add_argument("--shape", choices=("demo", "orders-only"), default="demo",
                        help="demo: every entity; orders-only: the demo orders file alone")
    parser.add_argument("--make-run", action="store_true",
                        help="also time the whole `make run` (Dagster job + summary) on the same data")
    args = parser.parse_args(argv)

    bench_dir = settings.PROJECT_DIR / "data" / "bench"
    demo_dir = bench_dir / f"raw_{args.scale}"
    suffix = "" if args.shape == "demo" else "_orders_only"
    on_spark = settings.dbt_target() == "spark"
    engine = "_spark" if on_spark else ""
    raw_dir = bench_dir / f"raw_{args.scale}{suffix}"
    db_path = bench_dir / f"bench_{args.scale}{suffix}{engine}.duckdb"
    target_dir = bench_dir / f"target_{args.scale}{suffix}{engine}"
    end_date = dt.date.fromisoformat(args.as_of) if args.as_of else dt.date(2026, 11, 1)
    as_of = end_date.isoformat()
    spark_env = {}
    if on_spark:   # a warehouse and metastore of the bench's own, emptied first
        spark_dir = bench_dir / f"spark_{args.scale}{suffix}"
        shutil.rmtree(spark_dir, ignore_errors=True)
        spark_env = {"DBT_TARGET": "spark", "SPARK_WAREHOUSE_DIR": str(spark_dir / "warehouse"),
                     "SPARK_METASTORE_DIR": str(spark_dir / "metastore")}

    print(f"Benchmark: {args.scale:,} orders ({args.shape} shape), as of {as_of}, on {'Spark' if on_spark else 'DuckDB'}")
    print(f"  raw data : {raw_dir}\n  database : {db_path}\n"
          + (f"  Spark    : {spark_env['SPARK_WAREHOUSE_DIR']} ({os.environ.get('SPARK_MASTER') or 'local[2]'})\n"
             if on_spark else ""))

    totals: dict[str, float] = {}
    if not (demo_dir / "orders.parquet").exists():
        from orchestration.demo_data import generate

        counts, totals["generate"] = _timed(
            "generate demo data", lambda: generate(demo_dir, args.scale, end_date, args.seed)
        )
        print("  rows: " + ", ".join(f"{k}={v:,}" for k, v in counts.items()))
    else:
        print("generate demo data            (reusing existing files)")
    if args.shape == "orders-only" and not (raw_dir / "orders.parquet").exists():
        raw_dir.mkdir(parents=True, exist_ok=True)
        (raw_dir / "orders.parquet").symlink_to((demo_dir / "orders.parquet").resolve())

    if db_path.exists():
        db_path.unlink()
    env = dict(os.environ, DUCKDB_PATH=str(db_path), AS_OF_DATE=as_of, DBT_TARGET_PATH=str(target_dir), **spark_env)
    if on_spark:   # the one landing, then the raw tables written into Spark (a process of its own)
        _, totals["land"] = _timed("land raw files (+ Spark)", lambda: _run_checked(
            [sys.executable, "-m", "orchestration.spark", "land", "--raw-dir", str(raw_dir),
             "--duckdb-path", str(db_path)], env))
    else:
        _, totals["land"] = _timed("land raw files", lambda: land_raw_data(raw_dir, db_path))
    land_rss = _peak_rss_mb(resource.RUSAGE_SELF)

    dbt = str(Path(sys.executable).with_name("dbt"))
    base = ["--profiles-dir", str(settings.PROJECT_DIR), "--project-dir", str(settings.PROJECT_DIR),
            "--vars", json.dumps({"as_of_date": as_of})]
    # Models and tests are timed apart: the models are what a build costs a
    # BI user's freshness; the tests are what CI and the blocking checks cost.
    # All models run in ONE dbt invocation, as a Dagster run builds them, so
    # dbt's start-up is paid once and the predicted-CLV Python nodes overlap
    # the SQL that does not depend on them.
    selection = ["--select", args.select] if args.select else []
    steps = [("dbt seed", "seed", []), ("dbt run (models)", "run", selection),
             ("dbt test (data + unit tests)", "test", selection)]
    if on_spark:   # the unit tests run apart on Spark (README, "Past one machine"): ~8 min more on 2 cores
        steps[2] = ("dbt test (data tests)", "test", ["--exclude-resource-type", "unit_test"])
    results: list[dict] = []
    for label, verb, chosen in steps:
        if on_spark and verb == "run":
            if args.select:
                print("--select is not supported on Spark (the models run in phases)", file=sys.stderr)
                return 2
            label = "dbt run + CLV on Spark (models)"
            (code, phase_results), seconds = _timed(label, lambda: _spark_models(dbt, base, env, target_dir))
            if code != 0:
                return code
            results += phase_results
        else:
            command = [dbt, verb, *base, *chosen]
            completed, seconds = _timed(
                label, lambda command=command: subprocess.run(command, env=env, capture_output=True, text=True)
            )
            if completed.returncode != 0:
                print(completed.stdout[-5000:])
                print(f"dbt {verb} failed", file=sys.stderr)
                return completed.returncode
            results += json.loads((target_dir / "run_results.json").read_text())["results"]
        totals[label] = seconds
        totals[verb] = totals.get(verb, 0.0) + seconds
    dbt_rss = _peak_rss_mb(resource.RUSAGE_CHILDREN)

    models = [r for r in results if r["unique_id"].startswith("model.")]
    tests = [r for r in results if r["unique_id"].startswith(("test.", "unit_test."))]
    seeds = [r for r in results if r["unique_id"].startswith("seed.")]

    print("\nPer model (wall seconds, slowest first):")
    for r in sorted(models, key=lambda r: -r["execution_time"]):
        print(f"  {r['unique_id'].split('.')[-1]:<44} {r['execution_time']:>7.2f}")
    nodes = json.loads((target_dir / "manifest.json").read_text())["nodes"]
    layer_totals: dict[str, float] = {}
    for r in models:   # the layer is the model's folder: models/<layer>/...
        path = nodes.get(r["unique_id"], {}).get("original_file_path", "")
        layer = path.split("/")[1] if path.count("/") >= 2 else "other"
        layer_totals[layer] = layer_totals.get(layer, 0.0) + r["execution_time"]
    print("\nModel time per layer (summed per node; two run at once): "
          + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(layer_totals.items())))
    fits = [r for r in models if r["unique_id"].split(".")[-1] in ("int_clv_fits", "int_clv_backtest_fits")]
    print("CLV fits: " + ", ".join(f"{r['unique_id'].split('.')[-1]} {r['execution_time']:.1f} s" for r in fits))
    print(f"Tests: {len(tests)} ran, {sum(r['execution_time'] for r in tests):.1f} s in all; "
          f"seeds {sum(r['execution_time'] for r in seeds):.1f} s")
    def publish_marts():
        if on_spark:   # the Spark marts copied into the working DuckDB file first, as the Dagster job does
            _run_checked([sys.executable, "-m", "orchestration.spark", "export", str(db_path)], env)
        return publish(db_path, db_path.with_name(db_path.stem + "_marts.duckdb"))

    published, totals["publish"] = _timed_quiet(publish_marts)
    print(f"Publish: {len(published)} tables copied in {totals['publish']:.1f} s"
          + (" (Spark marts copied into DuckDB, then published)" if on_spark else ""))
    print(f"\nWall: land {totals['land']:.1f} s + seeds {totals['seed']:.1f} s + models {totals['run']:.1f} s "
          f"= {totals['land'] + totals['seed'] + totals['run']:.1f} s to fresh marts; tests {totals['test']:.1f} s, "
          f"publish {totals['publish']:.1f} s more")
    python_models = [r for r in models if nodes.get(r["unique_id"], {}).get("language") == "python"]
    if python_models:
        python_seconds = sum(r["execution_time"] for r in python_models)
        print(f"Model time: SQL models {sum(r['execution_time'] for r in models) - python_seconds:.1f} s, "
              f"Python models (CLV) {python_seconds:.1f} s (summed per node; the run overlaps them)")
    # the CLV backtest (models/*/clv_backtest/) and the fits' uncertainty, apart from the live fits
    groups = {
        "CLV backtest (refit + holdout predictions + marts)":
            lambda node: "/clv_backtest/" in "/" + node.get("original_file_path", ""),
        "CLV uncertainty (covariances + segment intervals)":
            lambda node: node.get("name") in ("int_clv_fit_covariances", "int_clv_segment_intervals",
                                              "clv_segment_intervals"),
    }
    for label, belongs in groups.items():
        chosen = [r for r in models if belongs(nodes.get(r["unique_id"], {}))]
        if chosen:
            print(f"{label}: {sum(r['execution_time'] for r in chosen):.1f} s over {len(chosen)} models "
                  "(summed per node)")
    print(f"Peak RSS: generate + land (this process) {land_rss:,.0f} MB; largest dbt step {dbt_rss:,.0f} MB")
    if args.make_run:
        return _time_make_run(raw_dir, bench_dir / f"make_run_{args.scale}{suffix}.duckdb", as_of)
    return 0


def _run_checked(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    completed = subprocess.run(command, env=env, capture_output=True, text=True, cwd=settings.PROJECT_DIR)
    if completed.returncode != 0:
        print(completed.stdout[-3000:] + completed.stderr[-3000:])
        raise SystemExit(f"{' '.join(command[:4])} failed (exit status {completed.returncode})")
    return completed


def _spark_models(dbt: str, base: list[str], env: dict[str, str], target_dir: Path) -> tuple[int, list[dict]]:
    """Every model on Spark: `dbt run` of each SQL phase and orchestration.spark_clv for each Python one,
    in the order of orchestration.spark.build_phases. Results as run_results.json entries; a Python
    model's execution_time is its own time as spark_clv prints it."""
    from orchestration.spark import build_phases

    manifest_path = target_dir / "manifest.json"   # the Spark parse `dbt seed` just wrote
    manifest = json.loads(manifest_path.read_text())
    results: list[dict] = []
    for kind, names in build_phases(manifest):
        if kind == "dbt":
            models = [n for n in names if any(node["name"] == n and node["resource_type"] == "model"
                                              for node in manifest["nodes"].values())]
            if not models:
                continue
            completed = subprocess.run([dbt, "run", *base, "--select", *models], env=env,
                                       capture_output=True, text=True, cwd=settings.PROJECT_DIR)
            if completed.returncode != 0:
                print(completed.stdout[-5000:])
                print("dbt run failed", file=sys.stderr)
                return completed.returncode, results
            results += json.loads((target_dir / "run_results.json").read_text())["results"]
        elif kind == "python":
            completed = subprocess.run(
                [sys.executable, "-m", "orchestration.spark_clv", "--manifest", str(manifest_path), "--select", *names],
                env=env, capture_output=True, text=True, cwd=settings.PROJECT_DIR)
            if completed.returncode != 0:
                print(completed.stdout[-3000:] + completed.stderr[-3000:])
                print("the CLV Python models failed on Spark", file=sys.stderr)
                return completed.returncode, results
            by_name = {node["name"]: uid for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"}
            for line in completed.stdout.splitlines():   # `schema.model: N rows (S s)`
                relation, _, rest = line.partition(": ")
                name = relation.split(".")[-1]
                if name in by_name and rest.endswith(" s)"):
                    results.append({"unique_id": by_name[name],
                                    "execution_time": float(rest.rsplit("(", 1)[1].removesuffix(" s)"))})
    return 0, results


def _timed_quiet(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def _time_make_run(raw_dir: Path, db_path: Path, as_of: str) -> int:
    """`make run`'s two steps (the Dagster job, then the summary) on the bench data, with wall
    time and the peak RSS of the largest process (the job's process runs dbt's Python models)."""
    env = dict(os.environ, RAW_DATA_DIR=str(raw_dir), DUCKDB_PATH=str(db_path), AS_OF_DATE=as_of,
               PUBLISH_PATH=str(db_path.with_name(db_path.stem + "_marts.duckdb")))
    env.pop("DBT_TARGET_PATH", None)
    print("\nmake run (dg launch --job build_everything, then the summary):")
    start = time.perf_counter()
    for module in ("orchestration.run", "orchestration.summary"):
        completed = subprocess.run([sys.executable, "-m", module], env=env, capture_output=True, text=True)
        if completed.returncode != 0:
            print(completed.stdout[-3000:] + completed.stderr[-3000:])
            print(f"{module} failed", file=sys.stderr)
            return completed.returncode
    seconds = time.perf_counter() - start
    print(f"make run                     {seconds:>8.1f} s wall; peak RSS {_peak_rss_mb(resource.RUSAGE_CHILDREN):,.0f} MB "
          "(largest process so far)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
