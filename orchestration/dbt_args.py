"""The dbt command lines Dagster runs, as plain functions (unit-tested).

Every model judges "as of" one date. Dagster always passes it explicitly as a
dbt var, so a run records the date it used even when it came from the
default (AS_OF_DATE, else today in UTC at run time).
"""

from __future__ import annotations

import datetime as dt
import json

from orchestration import settings


def resolve_as_of_date(configured: str | dt.date | None = None) -> dt.date:
    """The run's as-of date: the run config value if given, else AS_OF_DATE, else today (UTC)."""
    if isinstance(configured, dt.date):
        return configured
    if configured and configured.strip():
        return settings.parse_as_of_date(configured)
    return settings.as_of_date()


def dbt_vars(as_of_date: dt.date) -> dict[str, str]:
    return {"as_of_date": as_of_date.isoformat()}


def vars_arg(as_of_date: dt.date) -> list[str]:
    return ["--vars", json.dumps(dbt_vars(as_of_date), sort_keys=True)]


def dbt_build_args(as_of_date: dt.date) -> list[str]:
    """`dbt build` of the selection Dagster adds: seeds, models, their tests and unit tests."""
    return ["build", *vars_arg(as_of_date)]


def dbt_parse_args() -> list[str]:
    return ["parse", "--quiet"]


def dbt_env_defaults() -> dict[str, str]:
    """Environment defaults for Dagster's dbt runs (a value the user already set wins).

    DBT_INDIRECT_SELECTION=cautious: when a run builds only part of the graph
    (a subset picked in the UI), run only the tests whose every parent is being
    built. dbt's default (eager) would also run, say, a relationships test
    between a selected seed and a model that is not built, and fail on the
    missing table. dagster-dbt reads this variable as the default and still
    overrides it when it must (explicit check selections).

    DUCKDB_PATH: the database the Python steps use (settings.duckdb_path(),
    resolved against the working directory), so dbt, which runs in the project
    folder, writes the same file even when the user gave a relative path or none.
    """
    return {"DBT_INDIRECT_SELECTION": "cautious", "DUCKDB_PATH": str(settings.duckdb_path())}
