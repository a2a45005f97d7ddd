"""The working database's memory settings (profiles.yml): DUCKDB_MEMORY_LIMIT and
DUCKDB_TEMP_DIRECTORY reach DuckDB through dbt, and a query needing more memory
than the limit spills to the temp directory instead of failing."""

from __future__ import annotations

import os
import subprocess

from conftest import DBT, PROJECT_DIR

# a window over 4M rows: its sort needs well over the 32 MB allowed
SPILLING_QUERY = (
    "select current_setting('memory_limit') as memory_limit, current_setting('temp_directory') as temp_directory, "
    "(select max(rn) from (select row_number() over (order by hash(x)) as rn from range(4000000) t(x))) as rows_sorted"
)


def test_a_query_larger_than_the_memory_limit_spills_to_the_temp_directory(tmp_path):
    spill = tmp_path / "spill"
    env = dict(os.environ, DUCKDB_PATH=str(tmp_path / "memory.duckdb"), DUCKDB_MEMORY_LIMIT="32MB",
               DUCKDB_TEMP_DIRECTORY=str(spill), DBT_TARGET_PATH=str(tmp_path / "target"),
               DBT_LOG_PATH=str(tmp_path / "target"))
    command = [DBT, "show", "--profiles-dir", str(PROJECT_DIR), "--project-dir", str(PROJECT_DIR),
               "--inline", SPILLING_QUERY, "--output", "json", "--log-format", "text", "--quiet"]
    completed = subprocess.run(command, env=env, cwd=PROJECT_DIR, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    out = completed.stdout
    assert '"rows_sorted": 4000000' in out, out
    assert '"memory_limit": "30.5 MiB"' in out, out      # 32 MB as DuckDB reports it
    assert f'"temp_directory": "{spill}"' in out, out
