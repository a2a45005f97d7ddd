"""The messy fixture built on Apache Spark (dbt-spark, local session) and on DuckDB:
the same marts and audit tables, and the dbt data tests pass on both.

Marked `spark` (slow: one Spark session per step, about a minute to land and
several to build on 2 cores); `make test` runs it, `make test-spark` runs only it.
Needs Java 17 and the `spark` dependency group (`make install-spark`).

The Spark side is the Spark driver, `python -m orchestration.spark build`: the
landing, the dbt selections and the CLV Python models run on Spark by
orchestration.spark_clv between them, then the marts copied into DuckDB.
Every model is built on both engines. The dbt unit tests run on DuckDB only
(each is a Spark job of its own there; README, "Past one machine").
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import duckdb
import pytest
from support import FIXTURES, PROJECT_DIR, run_dbt

from orchestration.landing import land_raw_data
from orchestration.spark import BUILT_TYPES, build_phases

pytestmark = pytest.mark.spark

AS_OF = "2024-06-30"


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    pytest.importorskip("pyspark", reason="the spark dependency group is not installed (make install-spark)")
    root = tmp_path_factory.mktemp("spark")
    # DuckDB: the reference
    duckdb_file = root / "duckdb_build.duckdb"
    land_raw_data(FIXTURES / "raw_messy", duckdb_file)
    run_dbt(["build", "--exclude-resource-type", "unit_test"], duckdb_file, root / "target_duckdb", as_of=AS_OF)

    # Spark: the driver, each Spark step in its own process (the local metastore allows one at a time)
    env = dict(os.environ, DBT_TARGET="spark", SPARK_WAREHOUSE_DIR=str(root / "warehouse"),
               SPARK_METASTORE_DIR=str(root / "metastore"), DBT_TARGET_PATH=str(root / "target_spark"))
    env.pop("AS_OF_DATE", None)
    spark_file = root / "spark_landing.duckdb"
    spark_build = subprocess.run(
        [sys.executable, "-m", "orchestration.spark", "build", "--raw-dir", str(FIXTURES / "raw_messy"),
         "--duckdb-path", str(spark_file), "--no-publish", "--vars", json.dumps({"as_of_date": AS_OF})],
        env=env, cwd=PROJECT_DIR, capture_output=True, text=True)
    manifest = json.loads((root / "target_spark" / "manifest.json").read_text())
    return {"duckdb": duckdb_file, "spark": spark_file, "spark_build": spark_build, "manifest": manifest}


def test_spark_build_passes(builds):
    completed = builds["spark_build"]
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-3000:]
    dbt_summaries = [line for line in completed.stdout.splitlines() if " Done. PASS=" in line]
    assert len(dbt_summaries) == 5, dbt_summaries   # three dbt builds, two runs of data tests
    assert all(" ERROR=0 " in line and " SKIP=0 " in line for line in dbt_summaries), dbt_summaries
    for model in ("int_clv_fits", "int_clv_predictions", "int_clv_fit_covariances", "int_clv_segment_intervals",
                  "int_clv_backtest_fits", "int_clv_backtest_predictions", "int_clv_backtest_tracking"):
        assert f"intermediate.{model}: " in completed.stdout, model


def test_every_node_is_built_once_after_its_parents(builds):
    manifest = builds["manifest"]
    steps = build_phases(manifest)
    position = {}
    for number, (_, names) in enumerate(steps):
        for name in names:
            assert name not in position, f"{name} is in two steps"
            position[name] = number
    expected = {node["name"]: node for node in manifest["nodes"].values()
                if node["resource_type"] in (*BUILT_TYPES, "test")}
    assert set(position) == set(expected)
    for name, node in expected.items():
        for parent in node["depends_on"].get("nodes", []):
            if parent in manifest["nodes"] and manifest["nodes"][parent]["name"] in position:
                parent_step = position[manifest["nodes"][parent]["name"]]
                assert parent_step < position[name] or (parent_step == position[name] and steps[parent_step][0] != "tests")
    assert [kind for kind, _ in steps] == ["dbt", "python", "tests", "dbt", "python", "tests", "dbt"]


def _tables(con, database: str) -> set[tuple[str, str]]:
    return set(con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = ? "
        "and schema_name in ('marts', 'audit')", [database]).fetchall())


def _same(left, right) -> bool:
    if isinstance(left, float) or isinstance(right, float):
        if left is None or right is None:
            return left is right
        return math.isclose(float(left), float(right), rel_tol=1e-9, abs_tol=1e-12)
    return left == right


def test_marts_and_audit_equal_duckdb(builds):
    con = duckdb.connect()
    con.execute(f"attach '{builds['duckdb']}' as reference (read_only)")
    con.execute(f"attach '{builds['spark']}' as spark (read_only)")
    reference, spark = _tables(con, "reference"), _tables(con, "spark")
    # every table, the empty ones included (Spark writes no Parquet file for those)
    assert reference == spark, f"only on DuckDB: {sorted(reference - spark)}; only on Spark: {sorted(spark - reference)}"
    differences = []
    for schema, table in sorted(spark):
        columns, spark_columns = ([row[0] for row in con.execute(
            "select column_name from duckdb_columns() where database_name = ? and schema_name = ? "
            "and table_name = ? order by column_index", [database, schema, table]).fetchall()]
            for database in ("reference", "spark"))
        if columns != spark_columns:
            differences.append(f"{schema}.{table}: columns {columns} (DuckDB) vs {spark_columns} (Spark)")
            continue
        listed = ", ".join(f'"{column}"' for column in columns)
        left = con.execute(f"select {listed} from reference.{schema}.{table} order by all").fetchall()
        right = con.execute(f"select {listed} from spark.{schema}.{table} order by all").fetchall()
        if len(left) != len(right):
            differences.append(f"{schema}.{table}: {len(left)} rows on DuckDB, {len(right)} on Spark")
            continue
        for row_left, row_right in zip(left, right, strict=True):
            if not all(_same(a, b) for a, b in zip(row_left, row_right, strict=True)):
                differences.append(f"{schema}.{table}: {row_left} (DuckDB) vs {row_right} (Spark)")
                break
    assert not differences, "\n".join(differences)


def test_export_creates_an_empty_spark_table_with_its_columns(tmp_path):
    """Spark writes no Parquet file for an empty table; the export still creates it, empty, with its columns."""
    pytest.importorskip("pyspark", reason="the spark dependency group is not installed (make install-spark)")
    env = dict(os.environ, DBT_TARGET="spark", SPARK_WAREHOUSE_DIR=str(tmp_path / "warehouse"),
               SPARK_METASTORE_DIR=str(tmp_path / "metastore"))
    create = ("from orchestration.spark import session\n"
              "spark = session()\n"
              "spark.sql('create database marts')\n"
              "spark.sql('create table marts.nobody (customer_id string, orders bigint, value decimal(18, 2), "
              "seen_at timestamp) using parquet')\n"
              "spark.stop()\n")
    created = subprocess.run([sys.executable, "-c", create], env=env, cwd=PROJECT_DIR, capture_output=True, text=True)
    assert created.returncode == 0, created.stderr[-3000:]
    assert not list((tmp_path / "warehouse" / "marts.db" / "nobody").glob("*.parquet"))
    exported = subprocess.run([sys.executable, "-m", "orchestration.spark", "export", str(tmp_path / "out.duckdb")],
                              env=env, cwd=PROJECT_DIR, capture_output=True, text=True)
    assert exported.returncode == 0, exported.stderr[-3000:]
    assert exported.stdout.split() == ["marts.nobody"]
    con = duckdb.connect(str(tmp_path / "out.duckdb"), read_only=True)
    assert con.execute("select count(*) from marts.nobody").fetchall() == [(0,)]
    assert con.execute("select column_name, data_type from duckdb_columns() where table_name = 'nobody' "
                       "order by column_index").fetchall() == [
        ("customer_id", "VARCHAR"), ("orders", "BIGINT"), ("value", "DECIMAL(18,2)"), ("seen_at", "TIMESTAMP")]
