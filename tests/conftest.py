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


# --- BI: one small published build shared by the semantic-layer and Superset tests ---
@pytest.fixture(scope="session")
def published_marts(tmp_path_factory) -> dict[str, Path]:
    """A real demo build (few orders), published; see tests/bi_support.py."""
    from tests.bi_support import build_published

    return build_published(tmp_path_factory.mktemp("bi_build"))
