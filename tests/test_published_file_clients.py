"""The published marts file opens in every DuckDB client the README promises.

BI tools and notebooks embed whatever DuckDB they shipped with, many of them
on the 1.4 LTS line. This test builds the project on a small demo data set,
publishes it as `make run` does, then installs real old DuckDB clients, each
in its own virtual environment, and has each one read every table of the
published file. Row counts, column types and a checksum of every table must
equal what the working database holds.

Client environments are cached in .cache/duckdb-clients/<version>; they come
from PyPI through the project's pinned uv (.tools/uv, made by `make`).
Deselect locally with `-m "not old_clients"`; CI runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from published_file_reader import read_file
from support import PROJECT_DIR, run_dbt

from orchestration import demo_data, settings
from orchestration.landing import land_raw_data
from orchestration.publish import PUBLISHED_SCHEMAS, publish

pytestmark = pytest.mark.old_clients

AS_OF = "2026-11-30"
READER = Path(__file__).with_name("published_file_reader.py")
CLIENTS_DIR = PROJECT_DIR / ".cache" / "duckdb-clients"

# The oldest client the README claims (1.0.0), the release the issue saw fail
# (1.4.1), and the last release of every minor line in between and after.
CLIENT_VERSIONS = ("1.0.0", "1.1.3", "1.2.2", "1.3.2", "1.4.1", "1.4.5", "1.5.6")


def _uv() -> str:
    local = PROJECT_DIR / ".tools" / "uv" / "bin" / "uv"
    found = str(local) if local.exists() else shutil.which("uv")
    if found is None:
        pytest.fail("uv not found: run `make install` first (it creates .tools/uv).")
    return found


def client_python(version: str) -> Path:
    """The interpreter of a virtual environment holding exactly duckdb==version."""
    venv = CLIENTS_DIR / version
    python = venv / "bin" / "python"
    marker = venv / ".duckdb-installed"
    if marker.exists():
        return python
    uv = _uv()
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")}
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, env=env)
    subprocess.run([uv, "pip", "install", "--quiet", "--python", str(python), f"duckdb=={version}"],
                   check=True, env=env)
    marker.touch()
    return python


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("clients")
    raw, working, target = root / "raw", root / "lifecycle.duckdb", root / "lifecycle_marts.duckdb"
    demo_data.generate(raw, n_orders=4_000, end_date=AS_OF, seed=17)
    land_raw_data(raw, working)
    run_dbt(["build", "--exclude", "resource_type:test", "resource_type:unit_test"], working, root / "target",
            as_of=AS_OF)
    publish(working, target)
    return {"working": working, "published": target}


@pytest.fixture(scope="module")
def expected(published) -> dict:
    """Fingerprints of the working database's published schemas, read by the project's own DuckDB."""
    tables = read_file(str(published["working"]), list(PUBLISHED_SCHEMAS))["tables"]
    assert "marts.customers" in tables and "audit.row_reconciliation" in tables
    assert sum(table["rows"] for table in tables.values()) > 10_000, "the fixture build should fill the marts"
    return tables


def test_the_published_file_carries_the_claimed_storage_version(published):
    import duckdb

    con = duckdb.connect(str(published["published"]), read_only=True)
    try:
        tags = con.execute("select tags from duckdb_databases() where database_name = current_database()").fetchone()
    finally:
        con.close()
    assert tags[0]["storage_version"].startswith(settings.PUBLISHED_STORAGE_VERSION)


@pytest.mark.parametrize("version", CLIENT_VERSIONS)
def test_an_old_client_reads_every_table_as_the_working_database_holds_it(version, published, expected):
    completed = subprocess.run(
        [str(client_python(version)), str(READER), str(published["published"]), *PUBLISHED_SCHEMAS],
        capture_output=True, text=True, cwd=READER.parent,
    )
    assert completed.returncode == 0, f"DuckDB {version} could not read the published file:\n{completed.stderr[-3000:]}"
    seen = json.loads(completed.stdout)
    assert seen["duckdb_version"] == version
    assert sorted(seen["tables"]) == sorted(expected)
    for table, want in expected.items():
        got = seen["tables"][table]
        assert got["rows"] == want["rows"], f"{table}: row count differs in DuckDB {version}"
        assert got["columns"] == want["columns"], f"{table}: column types differ in DuckDB {version}"
        assert got["checksum"] == want["checksum"], f"{table}: values differ in DuckDB {version}"
