"""Fixtures for the Dagster tests: a parsed dbt manifest and a private Dagster home.

`defs` parses the dbt project into a private target folder (DBT_TARGET_PATH
if set, else a temp folder), points DBT_TARGET_PATH there and builds the
definitions by calling `build_definitions()`: importing orchestration modules
does nothing, so no test reloads a module.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock

PROJECT_DIR = Path(__file__).resolve().parent.parent
DBT = str(Path(sys.executable).with_name("dbt"))


def dbt_parse(project_dir: Path, target_path: Path) -> None:
    env = dict(
        os.environ,
        DBT_TARGET_PATH=str(target_path),
        DBT_LOG_PATH=str(target_path),
        DUCKDB_PATH=str(target_path / "parse.duckdb"),  # parse never connects; keep it private anyway
    )
    command = [DBT, "parse", "--quiet", "--profiles-dir", str(project_dir), "--project-dir", str(project_dir)]
    completed = subprocess.run(command, env=env, cwd=project_dir, capture_output=True, text=True)
    if completed.returncode != 0:
        raise AssertionError(f"dbt parse failed:\n{completed.stdout[-4000:]}\n{completed.stderr[-2000:]}")


@pytest.fixture(scope="session")
def dagster_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(PROJECT_DIR / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(home))
        patch.setenv("DAGSTER_TELEMETRY_DISABLED", "1")
        patch.setenv("DO_NOT_TRACK", "1")
        yield home


@pytest.fixture(scope="session")
def dbt_target_path(tmp_path_factory) -> Path:
    value = os.environ.get("DBT_TARGET_PATH", "").strip()
    target = (PROJECT_DIR / value).resolve() if value else tmp_path_factory.mktemp("dbt_target")
    target.mkdir(parents=True, exist_ok=True)
    dbt_parse(PROJECT_DIR, target)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DBT_TARGET_PATH", str(target))
        patch.setenv("DBT_LOG_PATH", str(target))
        yield target


@pytest.fixture(scope="session")
def defs(dbt_target_path, dagster_home):
    """The code location's definitions, built against the freshly parsed manifest.

    Built with RAW_DATA_DIR unset, as a first `make run` sees it (so the demo
    step is in the graph); the tests set RAW_DATA_DIR per run.
    """
    from orchestration.definitions import build_definitions

    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("RAW_DATA_DIR", raising=False)
        patch.delenv("DAGSTER_IS_DEV_CLI", raising=False)
        return build_definitions()


@pytest.fixture()
def build_env(monkeypatch, tmp_path) -> dict[str, Path]:
    """A private working database and published file for one test."""
    paths = {"duckdb": tmp_path / "lifecycle.duckdb", "publish": tmp_path / "published" / "lifecycle_marts.duckdb"}
    monkeypatch.setenv("DUCKDB_PATH", str(paths["duckdb"]))
    monkeypatch.setenv("PUBLISH_PATH", str(paths["publish"]))
    monkeypatch.delenv("RAW_DATA_DIR", raising=False)
    monkeypatch.delenv("AS_OF_DATE", raising=False)
    return paths


# --- running on both cores ------------------------------------------------------
# `make test` runs pytest-xdist with `-n 2 --dist loadfile`: a module runs on one
# worker, so its module-scoped builds are made once. (`loadgroup` would let
# modules share a worker, but its groups are lost under pytest 9: xdist 3.8
# writes them into a node id pytest 9 no longer reads.) The published BI build
# that several modules share is made once per run, under a file lock (below).
# Slow modules are sent first, so the two workers finish together instead of
# one waiting on a long module started last. The Makefile passes
# --no-loadscope-reorder: by default xdist re-sorts the modules by their number
# of tests, which put the Spark build (few tests, the longest module) last.
SLOW_FIRST = ("test_spark_build", "test_incremental_contract", "test_staging_build", "test_stage_history_property",
              "test_superset", "test_run_refusal", "test_clv_pipeline_cdnow", "test_dagster_dev", "test_raw_input_staging",
              "test_materialize", "test_semantic_layer", "test_freshness", "test_landing_property",
              "test_clv_backtest_cdnow", "test_clv_cdnow", "test_spark_clv_cdnow", "test_published_file_clients")


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        module = item.module.__name__.rsplit(".", 1)[-1]
        return SLOW_FIRST.index(module) if module in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)  # stable: a module's tests stay together and in order


# --- BI: one small published build shared by the semantic-layer and Superset tests ---
@pytest.fixture(scope="session")
def published_marts(tmp_path_factory, worker_id) -> dict[str, Path]:
    """A real demo build (few orders), published; see tests/bi_support.py.

    Made once per test run: under xdist the first worker to ask builds it in the
    run's shared temp folder while holding a lock; the other finds it built. The
    tests only read it (read-only connections, or copies)."""
    from tests.bi_support import build_paths, build_published

    if worker_id == "master":  # no xdist
        return build_published(tmp_path_factory.mktemp("bi_build"))
    shared = tmp_path_factory.getbasetemp().parent / "bi_build"
    with FileLock(str(shared) + ".lock"):
        done = shared / "built"
        if not done.exists():
            shared.mkdir(exist_ok=True)
            build_published(shared)
            done.touch()
    return build_paths(shared)
