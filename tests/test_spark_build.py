"""The messy fixture built on Apache Spark (dbt-spark, local session) by the Dagster job and on DuckDB:
the same asset graph, the same marts and audit tables, and every dbt data test passes on both.

Marked `spark` (slow: one Spark session per step, about a minute to land and
several to build on 2 cores); `make test` runs it, `make test-spark` runs only it.
Needs Java 17 and the `spark` dependency group (`make install-spark`).

The Spark side is what `DBT_TARGET=spark make run` runs: the Dagster job
`build_everything` with DBT_TARGET=spark (the landing writes the raw tables
into Spark, dbt builds every SQL model, the CLV Python models run on Spark
through orchestration.spark_clv as a step of their own, the marts are copied
into DuckDB and published). The DuckDB side is a plain `dbt build`. One Spark
build serves every test of the module.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import dagster as dg
import duckdb
import pytest
from conftest import dbt_parse
from support import FIXTURES, PROJECT_DIR, run_dbt

from orchestration.assets.clv_spark import CLV_STEP_NAME, python_model_names
from orchestration.landing import land_raw_data
from orchestration.spark import BUILT_TYPES, build_phases

pytestmark = pytest.mark.spark

AS_OF = "2024-06-30"


@pytest.fixture(scope="module")
def builds(tmp_path_factory, dagster_home):
    pytest.importorskip("pyspark", reason="the spark dependency group is not installed (make install-spark)")
    root = tmp_path_factory.mktemp("spark")
    # DuckDB: the reference
    duckdb_file = root / "duckdb_build.duckdb"
    land_raw_data(FIXTURES / "raw_messy", duckdb_file)
    run_dbt(["build", "--exclude-resource-type", "unit_test"], duckdb_file, root / "target_duckdb", as_of=AS_OF)

    # Spark: the Dagster job, as `DBT_TARGET=spark make run` launches it
    from orchestration.definitions import build_definitions

    spark_file, published = root / "spark_landing.duckdb", root / "spark_published.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"DBT_TARGET": "spark", "SPARK_WAREHOUSE_DIR": str(root / "warehouse"),
                            "SPARK_METASTORE_DIR": str(root / "metastore"),
                            "DBT_TARGET_PATH": str(root / "target_spark"), "DBT_LOG_PATH": str(root / "target_spark"),
                            "RAW_DATA_DIR": str(FIXTURES / "raw_messy"), "AS_OF_DATE": AS_OF,
                            "DUCKDB_PATH": str(spark_file), "PUBLISH_PATH": str(published)}.items():
            patch.setenv(name, value)
        patch.delenv("DAGSTER_IS_DEV_CLI", raising=False)
        (root / "target_spark").mkdir()
        dbt_parse(PROJECT_DIR, root / "target_spark")
        defs = build_definitions()
        job = defs.resolve_job_def("build_everything")
        with dg.DagsterInstance.get() as instance:
            result = job.execute_in_process(instance=instance, raise_on_error=False)
            messages = [entry.user_message for entry in instance.all_logs(result.run_id)]
    manifest = json.loads((root / "target_spark" / "manifest.json").read_text())
    return {"duckdb": duckdb_file, "spark": spark_file, "published": published, "result": result, "job": job,
            "defs": defs, "manifest": manifest, "warehouse": root / "warehouse", "messages": messages}


def _failures(result) -> str:
    return "\n".join(f"{event.step_key}: {event.step_failure_data.error.to_string()[-3000:]}"
                      for event in result.all_events if event.is_step_failure)


def test_the_dagster_job_builds_every_asset_on_spark(builds):
    result, job = builds["result"], builds["job"]
    assert result.success, _failures(result)
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    assert set(job.asset_layer.executable_asset_keys) <= materialized
    # every dbt test is an asset check and ran: on the dbt steps, and the Python models' on the CLV step
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == len(job.asset_layer.asset_graph.asset_check_keys) > 0
    failed = [e.check_name for e in evaluations if not e.passed and e.check_name != "raw_orders_freshness"]
    assert not failed
    # the CLV models were materialized by the Spark CLV step, with their row counts
    clv_steps = {event.step_key for event in result.get_asset_materialization_events()
                 if event.asset_key.path[-1] in python_model_names(builds["manifest"])}
    assert clv_steps and all(step.startswith(CLV_STEP_NAME) for step in clv_steps), clv_steps
    fits = next(event.materialization.metadata for event in result.get_asset_materialization_events()
                if event.asset_key == dg.AssetKey(["intermediate", "int_clv_fits"]))
    assert fits["dagster/row_count"].value > 0
    # dbt materializations carry what the Spark warehouse says (row counts, columns)
    customers = next(event.materialization.metadata for event in result.get_asset_materialization_events()
                     if event.asset_key == dg.AssetKey(["marts", "customers"]))
    assert customers["as_of_date"].value == AS_OF
    assert customers["dagster/row_count"].value == duckdb.connect(str(builds["duckdb"]), read_only=True).execute(
        "select count(*) from marts.customers").fetchone()[0]
    # each Spark dbt step is a subset (the first of 340 nodes); dagster-dbt passed it as arguments,
    # not through a temporary copy of the repository (orchestration.assets.dbt.pass_selections_as_arguments)
    assert any("A dbt subsetted execution is being performed" in message for message in builds["messages"])
    assert not [message for message in builds["messages"] if "temporary copy" in message]


def test_the_spark_graph_is_the_duckdb_graph(defs, tmp_path):
    """The code location with DBT_TARGET=spark has DuckDB's asset keys, checks and dependencies
    (both built as a first `make run` sees them, RAW_DATA_DIR unset: the demo step included)."""
    from orchestration.definitions import build_definitions

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DBT_TARGET", "spark")
        patch.setenv("DBT_TARGET_PATH", str(tmp_path))
        patch.setenv("DBT_LOG_PATH", str(tmp_path))
        patch.delenv("RAW_DATA_DIR", raising=False)
        patch.delenv("DAGSTER_IS_DEV_CLI", raising=False)
        dbt_parse(PROJECT_DIR, tmp_path)
        spark_defs = build_definitions()
    spark_graph, duckdb_graph = spark_defs.resolve_asset_graph(), defs.resolve_asset_graph()
    assert spark_graph.get_all_asset_keys() == duckdb_graph.get_all_asset_keys()
    assert set(spark_graph.asset_check_keys) == set(duckdb_graph.asset_check_keys)
    for key in duckdb_graph.get_all_asset_keys():
        assert spark_graph.get(key).parent_keys == duckdb_graph.get(key).parent_keys, key


def test_every_node_is_built_once_after_its_parents(builds):
    """The order the Spark bench takes (orchestration.spark.build_phases), checked on the Spark manifest."""
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
    assert builds["result"].success, _failures(builds["result"])
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


@pytest.mark.spark_unit
def test_dbt_unit_tests_pass_on_spark(builds):
    """`dbt test --select test_type:unit` on Spark, over the warehouse the job built (dbt reads the
    parents' columns from it). Under 2 minutes on a quiet 2-core machine (the stage-interval tests
    are the slow ones); `make test` and `make test-spark` run it, -m 'not spark_unit' skips it locally."""
    assert builds["result"].success, _failures(builds["result"])
    root = builds["warehouse"].parent
    env = {"DBT_TARGET": "spark", "SPARK_WAREHOUSE_DIR": str(root / "warehouse"),
           "SPARK_METASTORE_DIR": str(root / "metastore"), "DBT_LOG_PATH": str(root / "target_unit")}
    completed = run_dbt(["test", "--select", "test_type:unit"],
                        root / "unused.duckdb", root / "target_unit", as_of=AS_OF, check=False, extra_env=env)
    assert completed.returncode == 0, completed.stdout[-6000:]
    results = json.loads((root / "target_unit" / "run_results.json").read_text())["results"]
    unit_tests = [node for node in builds["manifest"]["unit_tests"].values()]
    assert len(results) == len(unit_tests) > 0
    assert all(result["status"] == "pass" for result in results)
