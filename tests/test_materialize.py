"""Materialise the whole graph for real: raw landing -> dbt build (with checks) -> published marts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import PROJECT_DIR, dbt_parse
from support import query

from orchestration import settings

FIXTURE = PROJECT_DIR / "tests" / "fixtures" / "raw_messy"
AS_OF = "2024-06-30"


def table_counts(path: Path, schemas=("marts", "audit")) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            f"where database_name = current_database() and schema_name in {tuple(schemas)}"
        ).fetchall()
        return {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in names}
    finally:
        con.close()


def step_failure_messages(result) -> dict[str, str]:
    return {
        event.step_key: event.step_failure_data.error.to_string()
        for event in result.all_events
        if event.event_type == dg.DagsterEventType.STEP_FAILURE
    }


def test_build_everything_on_the_messy_fixture(defs, build_env, monkeypatch):
    monkeypatch.setenv("RAW_DATA_DIR", str(FIXTURE))
    monkeypatch.setenv("AS_OF_DATE", AS_OF)
    job = defs.resolve_job_def("build_everything")

    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance)

    assert result.success
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    assert set(job.asset_layer.executable_asset_keys) <= materialized

    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == len(job.asset_layer.asset_graph.asset_check_keys) > 0
    # the fixture's newest order (2024-03-07) is months before AS_OF: the freshness check says so
    freshness = [e for e in evaluations if e.check_name == "raw_orders_freshness"]
    assert [(e.passed, e.severity) for e in freshness] == [(False, dg.AssetCheckSeverity.ERROR)]
    assert all(evaluation.passed for evaluation in evaluations if evaluation.check_name != "raw_orders_freshness")

    orders = next(
        event.materialization.metadata
        for event in result.get_asset_materialization_events()
        if event.asset_key == dg.AssetKey(["raw", "orders"])
    )
    assert orders["dagster/row_count"].value == len(FIXTURE.joinpath("orders.csv").read_text().splitlines()) - 1

    working, published = table_counts(build_env["duckdb"]), table_counts(build_env["publish"])
    assert "audit.row_reconciliation" in published
    assert published == working

    # Every dbt materialization says what was built: as-of date, rows, columns with their descriptions.
    metadata = {
        event.asset_key.to_user_string(): event.materialization.metadata
        for event in result.get_asset_materialization_events()
    }
    for key, meta in metadata.items():
        layer = key.split("/")[0]
        if layer in ("staging", "intermediate", "marts", "audit", "config"):
            assert meta["as_of_date"].value == AS_OF, key
            if layer in ("marts", "audit"):
                assert meta["dagster/row_count"].value == working[key.replace("/", ".")], key
            assert meta["dagster/column_schema"].schema.columns, key
    customer_columns = {c.name: c.description for c in metadata["marts/customers"]["dagster/column_schema"].schema.columns}
    assert customer_columns["lifecycle_stage"], "column descriptions come from the model's YAML"
    reconciliation = query(
        build_env["duckdb"],
        "select raw_rows, clean_rows, quarantined_rows from audit.row_reconciliation where entity = 'orders'",
    )[0]
    for model in ("stg_raw__orders_checked", "stg_raw__orders", "stg_raw__orders_quarantine"):
        meta = metadata[f"staging/{model}"]
        assert (meta["raw_rows"].value, meta["clean_rows"].value, meta["quarantined_rows"].value) == reconciliation
        assert meta["reconciles"].value is True
        assert sum(meta["quarantine_reasons"].data.values()) == reconciliation[2] > 0
    fits = metadata["marts/clv_model_fits"]
    statuses = query(
        build_env["duckdb"], "select count(distinct (model, segment_level, segment)) from marts.clv_model_fits"
    )[0][0]
    assert fits["clv_fits_ok"].value + fits["clv_fits_not_ok"].value == statuses > 0
    assert "| model | level | segment | status |" in fits["clv_fit_status"].value
    # a first build is a full one: every customer was computed, and the metadata says so
    recomputed = metadata["intermediate/int_customers_to_recompute"]
    customers = query(build_env["duckdb"], "select count(*) from intermediate.int_customers_windowed")[0][0]
    assert recomputed["customers_recomputed"].value == customers > 0
    assert recomputed["customers_recomputed_why"].data["every customer (no incremental plan as of this date)"] == customers
    assert metadata["intermediate/int_periods_to_recompute"]["periods_recomputed_from"].value == "every period"

    con = duckdb.connect(str(build_env["publish"]), read_only=True)
    try:
        tags = con.execute("select tags from duckdb_databases() where database_name = current_database()").fetchone()[0]
        schemas = {row[0] for row in con.execute("select schema_name from duckdb_schemas()").fetchall()}
    finally:
        con.close()
    assert tags["storage_version"].startswith(settings.PUBLISHED_STORAGE_VERSION)
    assert not {"raw", "staging", "intermediate"} & schemas, "only marts and audit are published"


def test_run_config_as_of_date_wins_over_the_environment(defs, build_env, monkeypatch):
    monkeypatch.setenv("RAW_DATA_DIR", str(FIXTURE))
    monkeypatch.setenv("AS_OF_DATE", "2099-01-01")
    job = defs.resolve_job_def("build_everything")
    selection = [key for key in job.asset_layer.executable_asset_keys if key.path[0] == "raw"]
    assert selection
    selection += [
        dg.AssetKey(["config", "currencies"]),
        dg.AssetKey(["staging", "stg_raw__orders_checked"]),
        dg.AssetKey(["staging", "stg_raw__orders"]),
    ]
    config = {"ops": {"dbt_build": {"config": {"as_of_date": AS_OF}}}}

    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, run_config=config, asset_selection=selection)

    assert result.success
    # The fixture has an order dated after 2024-06-30: flagged only if the run's date, not 2099, was used.
    con = duckdb.connect(str(build_env["duckdb"]), read_only=True)
    try:
        future = con.execute("select count(*) from staging.stg_raw__orders where is_after_as_of_date").fetchone()[0]
    finally:
        con.close()
    assert future > 0


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"customers.csv": "customer_id,registered_at\nC1,2024-01-01\n"}, "no orders.parquet, orders.csv"),
        ({"orders.csv": "order_id,customer_id,amount\nO1,C1,5\n"}, "missing required column(s) ordered_at"),
    ],
    ids=["no-orders-file", "orders-missing-a-column"],
)
def test_raw_data_contract_errors_fail_the_run_with_their_message(defs, build_env, monkeypatch, tmp_path, files, expected):
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir()
    for name, text in files.items():
        (raw_dir / name).write_text(text)
    monkeypatch.setenv("RAW_DATA_DIR", str(raw_dir))
    monkeypatch.setenv("AS_OF_DATE", AS_OF)

    job = defs.resolve_job_def("build_everything")
    landing_and_after = [key for key in job.asset_layer.executable_asset_keys if key.path[0] != "demo"]
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False, asset_selection=landing_and_after)

    assert not result.success
    failures = step_failure_messages(result)
    assert set(failures) == {"raw_landing"}
    message = failures["raw_landing"]
    assert expected in message
    assert "orders" in message and "order_id, customer_id, ordered_at, amount" in message
    assert not list(raw_dir.glob("*.parquet")), "no demo data is written into a RAW_DATA_DIR the user set"


def test_a_failing_error_test_fails_the_run_and_blocks_what_depends_on_it(tmp_path):
    """In a copy of the project with one failing test, nothing downstream of it is built or published."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(PROJECT_DIR / name, copy / name)
    for name in ("models", "macros", "seeds", "orchestration", "tests/dbt", "dagster_home"):
        shutil.copytree(PROJECT_DIR / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    # An error-severity test on raw orders: everything built from orders must be skipped.
    (copy / "tests" / "dbt" / "assert_raw_orders_is_empty.sql").write_text(
        "select * from {{ source('raw', 'orders') }}\n"
    )
    target = tmp_path / "target"
    dbt_parse(copy, target)

    script = textwrap.dedent(
        """
        import json
        import dagster as dg
        import orchestration
        from orchestration.definitions import build_definitions

        assert orchestration.__file__.startswith(%r), orchestration.__file__
        result = build_definitions().resolve_job_def("build_everything").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
        )
        print(json.dumps({
            "success": result.success,
            "failed_checks": [e.check_name for e in result.get_asset_check_evaluations() if not e.passed],
            "materialized": sorted(e.asset_key.to_user_string() for e in result.get_asset_materialization_events()),
            "failed_steps": [e.step_key for e in result.all_events if e.is_step_failure],
        }))
        """
        % str(copy)
    )
    env = {
        **{k: v for k, v in os.environ.items() if k != "DAGSTER_IS_DEV_CLI"},
        "PYTHONPATH": str(copy),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(target),
        "RAW_DATA_DIR": str(FIXTURE),
        "AS_OF_DATE": AS_OF,
        "DUCKDB_PATH": str(tmp_path / "work.duckdb"),
        "PUBLISH_PATH": str(tmp_path / "published.duckdb"),
    }
    completed = subprocess.run([sys.executable, "-c", script], cwd=copy, env=env, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-4000:]
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    assert outcome["success"] is False
    assert outcome["failed_steps"] == ["dbt_build"]
    assert "assert_raw_orders_is_empty" in outcome["failed_checks"]
    materialized = set(outcome["materialized"])
    assert "raw/orders" in materialized
    assert not {"staging/stg_raw__orders", "published_marts"} & materialized
    assert not (tmp_path / "published.duckdb").exists()


def test_the_demo_step_fills_an_empty_default_folder_once(monkeypatch, tmp_path):
    from orchestration import settings
    from orchestration.assets.demo import DEMO_KEY, demo_raw_files

    default_dir = tmp_path / "default_raw"
    monkeypatch.setattr(settings, "DEFAULT_RAW_DATA_DIR", default_dir)
    monkeypatch.setattr(settings, "DEMO_ORDERS", 1_000)
    monkeypatch.delenv("RAW_DATA_DIR", raising=False)
    config = {"ops": {"demo__raw_files": {"config": {"as_of_date": AS_OF}}}}

    def materialize():
        result = dg.materialize([demo_raw_files], run_config=config, instance=dg.DagsterInstance.ephemeral())
        return result.asset_materializations_for_node("demo__raw_files")[0].metadata

    first = materialize()
    assert first["generated"].value is True and first["end_date"].value == AS_OF
    assert (default_dir / "orders.parquet").is_file()
    stamp = (default_dir / "orders.parquet").stat().st_mtime_ns
    assert materialize()["generated"].value is False, "orders exist: keep them"
    assert (default_dir / "orders.parquet").stat().st_mtime_ns == stamp

    # Should the step run with RAW_DATA_DIR set (definitions built before it was set), it writes nothing.
    user_dir = tmp_path / "user_raw"
    user_dir.mkdir()
    monkeypatch.setenv("RAW_DATA_DIR", str(user_dir))
    assert materialize()["generated"].value is False
    assert not any(user_dir.iterdir())
    assert DEMO_KEY.path == ["demo", "raw_files"]
