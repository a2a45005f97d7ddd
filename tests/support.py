"""Helpers shared by the pytest modules that build the dbt project for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

PROJECT_DIR = Path(__file__).resolve().parent.parent
FIXTURES = PROJECT_DIR / "tests" / "fixtures"
DBT = str(Path(sys.executable).with_name("dbt"))


def run_dbt(args: list[str], duckdb_path: Path, target_path: Path, as_of: str | None = None,
            check: bool = True, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the dbt CLI against a private database and target folder."""
    env = dict(os.environ, DUCKDB_PATH=str(duckdb_path), DBT_TARGET_PATH=str(target_path))
    env.pop("AS_OF_DATE", None)
    env.update(extra_env or {})
    command = [DBT, *args, "--profiles-dir", str(PROJECT_DIR), "--project-dir", str(PROJECT_DIR)]
    if as_of is not None:
        command += ["--vars", json.dumps({"as_of_date": as_of})]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, cwd=PROJECT_DIR)
    if check and completed.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{completed.stdout[-6000:]}\n{completed.stderr[-2000:]}")
    return completed


def query(duckdb_path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()
