"""`make run`'s entry point: a refused input ends the output with its reason, and the Dagster failure says the same."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys

import dagster as dg
import pytest
from conftest import PROJECT_DIR

from orchestration import settings
from orchestration.assets.raw import build_raw_landing
from orchestration.landing import RawDataError, land_raw_data


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


def test_spark_make_run_ends_with_the_refusal(dagster_home, tmp_path):
    """DBT_TARGET=spark runs the same Dagster job; its landing refuses before Spark starts, and says why last."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "orders.csv").write_bytes(b"")
    env = dict(os.environ, DBT_TARGET="spark", RAW_DATA_DIR=str(raw), AS_OF_DATE="2024-06-30",
               DUCKDB_PATH=str(tmp_path / "work" / "lifecycle.duckdb"),
               PUBLISH_PATH=str(tmp_path / "work" / "published.duckdb"),
               DBT_TARGET_PATH=str(tmp_path / "target_spark"), DBT_LOG_PATH=str(tmp_path / "target_spark"))
    completed = subprocess.run([sys.executable, "-m", "orchestration.run"], cwd=PROJECT_DIR, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert completed.returncode != 0
    assert "raw_landing" in completed.stdout   # the Dagster job's landing step refused
    assert completed.stdout.rstrip().splitlines()[-2:] == [
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


HEADER = b"order_id,customer_id,ordered_at,amount\n"
ROW = b"o1,c1,2024-01-01,5\n"
LATIN1 = "o1,Jos\u00e9 M\u00fcller,2024-01-01,5\no2,Fran\u00e7ois \u00c5ngstr\u00f6m,2024-01-02,6\n".encode("latin-1")

# Each refused input as files under RAW_DATA_DIR, plus environment settings.
REFUSED_INPUTS = {
    "empty_file": ({"orders.csv": b""}, {}),
    "header_only": ({"orders.csv": HEADER}, {}),
    "corrupt_gzip": ({"orders.csv.gz": gzip.compress(HEADER + ROW)[:-12] + b"garbage!"}, {}),
    "unknown_delimiter": ({"orders.csv": b"order_id:customer_id:ordered_at:amount\no1:c1:2024-01-01:5\n"}, {}),
    "missing_columns": ({"orders.csv": b"order_id;customer_id;total\no1;c1;5\n"}, {}),
    "two_sources": ({"orders.csv": HEADER + ROW, "orders/part-1.csv": HEADER + ROW}, {}),
    "undeclared_encoding": ({"orders.csv": HEADER + LATIN1}, {}),
    "unknown_encoding_setting": ({"orders.csv": HEADER + ROW}, {"RAW_CSV_ENCODING": "orders=klingon"}),
}


def land_in_dagster() -> tuple[dg.ExecuteInProcessResult, str]:
    """Materialise the real landing step alone (the first step of build_everything, see the test above
    for the whole job); return the result and its one failure's description."""
    with dg.DagsterInstance.get() as instance:
        result = dg.materialize([build_raw_landing()], instance=instance, raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    return result, failure.step_failure_data.user_failure_data.description


@pytest.mark.parametrize("case", sorted(REFUSED_INPUTS))
def test_every_refusal_is_the_dagster_failure_and_the_last_words(dagster_home, build_env, monkeypatch, tmp_path, case):
    """For each refused input: the step fails with the landing's own message (no other text), the same
    text is left for `make run` to print last, and the working database is not touched."""
    files, env = REFUSED_INPUTS[case]
    raw = tmp_path / "raw"
    for name, data in files.items():
        (raw / name).parent.mkdir(parents=True, exist_ok=True)
        (raw / name).write_bytes(data)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(RawDataError) as refused:  # what the landing says on its own
        land_raw_data(raw, tmp_path / "scratch.duckdb")
    monkeypatch.setenv("RAW_DATA_DIR", str(raw))
    _, description = land_in_dagster()
    assert description == str(refused.value)
    assert (build_env["duckdb"].parent / "last_refusal.txt").read_text().strip() == str(refused.value)
    assert not build_env["duckdb"].exists()


CONFIG_REFUSALS = {
    # checked before the landing: the database is not even opened
    "churned_not_after_silent": (
        "industry_windows.csv", "food_delivery,7,30,", "food_delivery,7,7,",
        "seeds/industry_windows.csv row 2 (industry=food_delivery): churned_after_days (7) is not greater than "
        "silent_after_days (7). A customer turns silent before churning: make churned_after_days the larger.",
    ),
    # checked against the merchants just landed
    "override_for_unknown_merchant": (
        "merchant_window_overrides.csv", "intervention_lead_days\n", "intervention_lead_days\nm-typo,10,45,,,3\n",
        "seeds/merchant_window_overrides.csv row 2 (merchant_id=m-typo): merchant m-typo is in none of the raw "
        "files. Fix the merchant_id (ids are compared trimmed and lower-cased) or delete the row.",
    ),
}


@pytest.mark.parametrize("case", sorted(CONFIG_REFUSALS))
def test_a_configuration_refusal_fails_the_landing_step(dagster_home, build_env, monkeypatch, tmp_path, case):
    """Seeds that make no sense fail the landing step (upstream of every model), naming the seed row."""
    seed, old, new, message = CONFIG_REFUSALS[case]
    project = tmp_path / "project"
    shutil.copytree(PROJECT_DIR / "seeds", project / "seeds")
    shutil.copy(PROJECT_DIR / "dbt_project.yml", project / "dbt_project.yml")
    text = (project / "seeds" / seed).read_text()
    assert old in text
    (project / "seeds" / seed).write_text(text.replace(old, new, 1))
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "orders.csv").write_bytes(HEADER + ROW)
    monkeypatch.setenv("RAW_DATA_DIR", str(raw))
    monkeypatch.setattr(settings, "PROJECT_DIR", project)  # where the landing step reads seeds and vars
    result, description = land_in_dagster()
    assert description == message
    assert (build_env["duckdb"].parent / "last_refusal.txt").read_text().strip() == message
    assert not result.get_asset_materialization_events()
    if case == "churned_not_after_silent":
        assert not build_env["duckdb"].exists()
