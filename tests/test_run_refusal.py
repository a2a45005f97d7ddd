"""`make run`'s entry point: a refused input ends the output with its reason, and the Dagster failure says the same."""

from __future__ import annotations

import os
import subprocess
import sys

import dagster as dg
from conftest import PROJECT_DIR


def test_make_run_ends_with_the_refusal_and_no_stack_trace(dbt_target_path, dagster_home, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "orders.csv").write_bytes(b"")
    env = dict(
        os.environ,
        RAW_DATA_DIR=str(raw),
        DUCKDB_PATH=str(tmp_path / "work" / "lifecycle.duckdb"),
        PUBLISH_PATH=str(tmp_path / "work" / "published.duckdb"),
        AS_OF_DATE="2024-06-30",
    )
    completed = subprocess.run([sys.executable, "-m", "orchestration.run"], cwd=PROJECT_DIR, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert completed.returncode != 0
    lines = completed.stdout.rstrip().splitlines()
    assert "Traceback" in completed.stdout or "dagster" in completed.stdout.lower()  # Dagster's own output came first
    assert lines[-2:] == [
        "The build was refused; nothing was rebuilt:",
        f"orders: {raw.resolve() / 'orders.csv'} is empty (0 bytes). Export it again with at least its header "
        "line, or remove the file if the entity is optional.",
    ]


def test_the_dagster_failure_is_the_refusal_text(defs, build_env, monkeypatch, tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "orders.csv").write_text("order_id,customer_id,ordered_at,amount\n")
    monkeypatch.setenv("RAW_DATA_DIR", str(raw))
    with dg.DagsterInstance.get() as instance:
        result = defs.resolve_job_def("build_everything").execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "raw_landing"
    description = failure.step_failure_data.user_failure_data.description
    assert description == (
        f"orders: {raw.resolve() / 'orders.csv'} has a header but no rows. Export the orders again (the export "
        "may have been cut short), or point RAW_DATA_DIR at the folder with the data."
    )
    # the same text is left for `make run` to print last
    assert (build_env["duckdb"].parent / "last_refusal.txt").read_text().strip() == description
