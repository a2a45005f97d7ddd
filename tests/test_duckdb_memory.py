"""The working database's memory settings (profiles.yml): DUCKDB_MEMORY_LIMIT and
DUCKDB_TEMP_DIRECTORY reach DuckDB through dbt, a query needing more memory
than the limit spills to the temp directory instead of failing, and the dbt
process goes on working after a spill."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest
from conftest import DBT, PROJECT_DIR

# A window over 8M rows: its sort needs well over the 128 MB allowed (the first test shows that it cannot
# run in them without spilling). A limit far below that (32 MB) left DuckDB too little room for the blocks
# it must hold in memory while it spills, and the query failed now and then on a busy machine.
MEMORY_LIMIT = "128MB"
SORT = "select max(rn) from (select row_number() over (order by hash(x)) as rn from range(8000000) t(x))"
SPILLING_QUERY = (
    "select current_setting('memory_limit') as memory_limit, current_setting('temp_directory') as temp_directory, "
    f"({SORT}) as rows_sorted"
)


def _spilling_env(tmp_path, spill):
    """dbt against a database of its own, with MEMORY_LIMIT of memory and `spill` as the temp directory."""
    return dict(os.environ, DUCKDB_PATH=str(tmp_path / "memory.duckdb"), DUCKDB_MEMORY_LIMIT=MEMORY_LIMIT,
                DUCKDB_TEMP_DIRECTORY=str(spill), DBT_TARGET_PATH=str(tmp_path / "target"),
                DBT_LOG_PATH=str(tmp_path / "target"))


def test_a_query_larger_than_the_memory_limit_spills_to_the_temp_directory(tmp_path):
    # without a temp directory the sort does not fit in the limit
    with duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "temp_directory": ""}) as con:
        with pytest.raises(duckdb.OutOfMemoryException):
            con.execute(SORT).fetchall()

    spill = tmp_path / "spill"
    env = _spilling_env(tmp_path, spill)
    command = [DBT, "show", "--profiles-dir", str(PROJECT_DIR), "--project-dir", str(PROJECT_DIR),
               "--inline", SPILLING_QUERY, "--output", "json", "--log-format", "text", "--quiet"]
    completed = subprocess.run(command, env=env, cwd=PROJECT_DIR, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    out = completed.stdout
    assert '"rows_sorted": 8000000' in out, out
    assert '"memory_limit": "122.0 MiB"' in out, out     # 128 MB as DuckDB reports it
    assert f'"temp_directory": "{spill}"' in out, out


# dbt's programmatic runner, twice in one process: dbt-duckdb keeps the database open between the
# invocations and opens a new connection for the second, as it does for every node of a build.
RUN_TWICE = """
import sys
from dbt.cli.main import dbtRunner
runner = dbtRunner()
for query in sys.argv[2:]:
    result = runner.invoke(["show", "--inline", query, "--profiles-dir", sys.argv[1], "--project-dir", sys.argv[1],
                            "--output", "json", "--log-format", "text"])
    print("invocation", "ok" if result.success else f"failed: {result.exception}", flush=True)
"""


def test_dbt_opens_new_connections_after_a_query_has_spilled(tmp_path):
    # dbt-duckdb applies the profile's `settings` again on every connection it opens, and DuckDB refuses
    # to SET temp_directory once something has spilled there: a 100M-order build died after its first
    # spill, at the next model. The limit and the directory are set once, when the database opens.
    spill = tmp_path / "spill"
    env = _spilling_env(tmp_path, spill)
    after = "select current_setting('temp_directory') as temp_directory_after_the_spill"
    completed = subprocess.run([sys.executable, "-c", RUN_TWICE, str(PROJECT_DIR), SPILLING_QUERY, after],
                               env=env, cwd=PROJECT_DIR, capture_output=True, text=True)
    out = completed.stdout
    assert completed.returncode == 0, out[-3000:] + completed.stderr[-2000:]
    assert out.count("invocation ok") == 2, out[-3000:]
    assert '"rows_sorted": 8000000' in out, out
    assert f'"temp_directory_after_the_spill": "{spill}"' in out, out
