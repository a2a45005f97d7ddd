"""The dbt command lines Dagster runs, as plain functions (unit-tested).

Every model judges "as of" one date. Dagster always passes it explicitly, so
a run records the date it used even when it came from the default
(AS_OF_DATE, else today in UTC at run time): to `dbt build` as the AS_OF_DATE
environment variable (dbt_env), not as `--vars`. dbt re-parses the whole
project whenever `--vars` differ from the last parse, but only the files that
read an environment variable when that variable changes (macros/as_of_date.sql),
so a daily build keeps dbt's partial parsing (`dbt source freshness` gets it
the same way). `--vars '{"as_of_date": ...}'` still wins when given (the
tests use it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

from orchestration import settings


def resolve_as_of_date(configured: str | dt.date | None = None) -> dt.date:
    """The run's as-of date: the run config value if given, else AS_OF_DATE, else today (UTC)."""
    if isinstance(configured, dt.date):
        return configured
    if configured and configured.strip():
        return settings.parse_as_of_date(configured)
    return settings.as_of_date()


def dbt_env(as_of_date: dt.date) -> dict[str, str]:
    """The environment that carries the as-of date to `dbt build` (set over any AS_OF_DATE the user has)."""
    return {"AS_OF_DATE": as_of_date.isoformat()}


def dbt_build_args(full_refresh: bool = False, on_spark: bool = False) -> list[str]:
    """`dbt build` of the selection Dagster adds: seeds, models, their tests and unit tests.

    full_refresh: rebuild the incremental models from scratch (the run's
    landing chose the full path; orchestration.incremental).
    on_spark: the Spark target, where the unit tests are left out of the build
    (README, "Past one machine": they run apart, `dbt test --select test_type:unit`).
    """
    args = ["build", "--full-refresh"] if full_refresh else ["build"]
    return [*args, "--exclude-resource-type", "unit_test"] if on_spark else args


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


@contextlib.contextmanager
def env_set(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the block, over the user's values (dagster-dbt reads the
    environment when an invocation is created, so its dbt runs inside such a block)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def env_defaults(defaults: Mapping[str, str]) -> contextlib.AbstractContextManager[None]:
    """Set environment variables the user has not set (or set empty), for the block."""
    return env_set({name: value for name, value in defaults.items() if not os.environ.get(name, "").strip()})


def copy_saved_parse(target: str | os.PathLike) -> None:
    """Start a dbt invocation's own target folder with the project's saved parse, if there is one.

    dagster-dbt does this for the invocations it runs; our own (`dbt source freshness`, the CLV tests on
    Spark) run in folders of their own, where dbt would otherwise parse the whole project again (about
    10 s, twice that beside a build). With partial_parse.msgpack there, dbt re-reads only what changed; it
    still parses in full when the profile, target or vars differ from that parse's.
    """
    saved = settings.dbt_target_dir() / "partial_parse.msgpack"
    destination = Path(target) / "partial_parse.msgpack"
    if saved.is_file() and saved.resolve() != destination.resolve():
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(saved, destination)
