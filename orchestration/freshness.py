"""Freshness of the raw orders: `dbt source freshness` as of the build's date.

The rule and its thresholds live in dbt (models/staging/_raw__sources.yml and
the vars freshness_warn_after_days / freshness_error_after_days); this module
runs it after the landing, keeps the verdict beside the working database
(``orders_freshness.json``) for the `make run` summary, and turns it into the
Dagster check ``raw_orders_freshness`` on raw/orders.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from orchestration import settings
from orchestration.dbt_args import copy_saved_parse, dbt_env

RESULT_FILE = "orders_freshness.json"


@dataclasses.dataclass(frozen=True)
class Freshness:
    status: str  # pass | warn | error | runtime error
    as_of_date: str
    age_days: float | None
    warn_after_days: int | None
    error_after_days: int | None
    message: str

    def line(self) -> str:
        return f"Raw orders freshness: {self.status.upper()}, {self.message}"


def result_path(duckdb_path: Path) -> Path:
    return Path(duckdb_path).parent / RESULT_FILE


def _describe(status: str, age_days: float | None, as_of: dt.date, warn: int | None, error: int | None) -> str:
    limits = f"warn after {warn} days, error after {error}"
    if age_days is None:
        return f"no parseable order dated on or before {as_of} ({limits})"
    newest = as_of - dt.timedelta(days=round(age_days))
    text = f"newest order {newest}, {round(age_days)} day(s) before AS_OF_DATE {as_of} ({limits})"
    if status in ("warn", "error"):
        text += "; is the export stale? Check that RAW_DATA_DIR holds the latest files"
    return text


def check_orders_freshness(as_of: dt.date, duckdb_path: Path) -> Freshness:
    """Run dbt's source freshness on raw.orders against duckdb_path; keep and return the verdict.

    Always on the duckdb target, whatever DBT_TARGET says: the raw tables are landed into duckdb_path on
    both engines (orchestration.spark.land copies them on into Spark), so on Spark the rule reads the same
    rows without a Spark session of its own."""
    duckdb_path = Path(duckdb_path)
    target = duckdb_path.parent / ".dbt_freshness"
    env = dict(os.environ, DBT_TARGET_PATH=str(target), DBT_LOG_PATH=str(target), DUCKDB_PATH=str(duckdb_path),
               DBT_TARGET="duckdb", **dbt_env(as_of))
    dbt = str(Path(sys.executable).with_name("dbt"))
    copy_saved_parse(target)
    output = target / "sources.json"
    output.unlink(missing_ok=True)
    command = [
        dbt, "source", "freshness", "--select", "source:raw.orders", "--output", str(output),
        "--profiles-dir", str(settings.PROJECT_DIR), "--project-dir", str(settings.PROJECT_DIR),
    ]  # fmt: skip
    completed = subprocess.run(command, env=env, cwd=settings.PROJECT_DIR, capture_output=True, text=True)
    warn = error = age = None
    if output.exists():
        result = json.loads(output.read_text())["results"][0]
        status = result["status"]
        criteria = result.get("criteria") or {}
        warn = (criteria.get("warn_after") or {}).get("count")
        error = (criteria.get("error_after") or {}).get("count")
        seconds = result.get("max_loaded_at_time_ago_in_s")
        age = None if seconds is None or result.get("max_loaded_at") is None else seconds / 86400
        message = _describe(status, age, as_of, warn, error)
        if status == "runtime error":
            message = f"could not be measured: {result.get('message') or 'see dbt.log'}"
    else:
        status = "runtime error"
        message = "could not be measured: " + (completed.stdout.strip().splitlines() or ["dbt failed"])[-1]
    verdict = Freshness(status, as_of.isoformat(), age, warn, error, message)
    result_path(duckdb_path).write_text(json.dumps(dataclasses.asdict(verdict), indent=2))
    return verdict


def read_verdict(duckdb_path: Path) -> Freshness | None:
    path = result_path(duckdb_path)
    if not path.exists():
        return None
    return Freshness(**json.loads(path.read_text()))
