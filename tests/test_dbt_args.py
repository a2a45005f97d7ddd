"""The dbt command lines Dagster runs (plain functions, no dbt needed)."""

from __future__ import annotations

import datetime as dt

import pytest

from orchestration.dbt_args import (
    copy_saved_parse,
    dbt_build_args,
    dbt_env,
    dbt_env_defaults,
    dbt_parse_args,
    resolve_as_of_date,
)


def test_build_passes_the_as_of_date_in_the_environment_not_as_vars():
    # a --vars that changes every day would make dbt re-parse the whole project every run
    assert dbt_build_args() == ["build"]
    assert dbt_env(dt.date(2024, 6, 30)) == {"AS_OF_DATE": "2024-06-30"}


def test_full_refresh_rebuilds_the_incremental_models():
    assert dbt_build_args(full_refresh=True) == ["build", "--full-refresh"]


def test_build_args_pad_single_digit_months_and_days():
    assert dbt_env(dt.date(2025, 1, 5)) == {"AS_OF_DATE": "2025-01-05"}


def test_build_args_carry_no_selection_dagster_adds_its_own():
    args = dbt_build_args(full_refresh=True)
    assert not {"--select", "-s", "--exclude", "--target"} & set(args)


def test_parse_args():
    assert dbt_parse_args()[0] == "parse"


def test_run_config_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("AS_OF_DATE", "2023-03-03")
    assert resolve_as_of_date("2024-06-30") == dt.date(2024, 6, 30)
    assert resolve_as_of_date(dt.date(2022, 2, 2)) == dt.date(2022, 2, 2)


def test_environment_is_used_when_run_config_is_empty(monkeypatch):
    monkeypatch.setenv("AS_OF_DATE", "2023-03-03")
    assert resolve_as_of_date("") == dt.date(2023, 3, 3)
    assert resolve_as_of_date(None) == dt.date(2023, 3, 3)
    assert resolve_as_of_date("   ") == dt.date(2023, 3, 3)


def test_default_is_today_in_utc(monkeypatch):
    monkeypatch.delenv("AS_OF_DATE", raising=False)
    before = dt.datetime.now(dt.timezone.utc).date()
    resolved = resolve_as_of_date(None)
    after = dt.datetime.now(dt.timezone.utc).date()
    assert before <= resolved <= after


@pytest.mark.parametrize("bad", ["2024-13-01", "30/06/2024", "2024-6-30", "yesterday", "2024-06-30T00:00"])
def test_malformed_dates_fail_with_the_expected_format(monkeypatch, bad):
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        resolve_as_of_date(bad)
    monkeypatch.setenv("AS_OF_DATE", bad)
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        resolve_as_of_date(None)


def test_partial_runs_only_test_what_they_build():
    assert dbt_env_defaults()["DBT_INDIRECT_SELECTION"] == "cautious"


def test_dbt_writes_the_database_the_python_steps_use(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DUCKDB_PATH", "nested/x.duckdb")
    assert dbt_env_defaults()["DUCKDB_PATH"] == str(tmp_path / "nested" / "x.duckdb")
    monkeypatch.delenv("DUCKDB_PATH")
    assert dbt_env_defaults()["DUCKDB_PATH"].endswith("data/lifecycle.duckdb")


def test_on_spark_the_unit_tests_are_left_out_of_the_build():
    # they run apart on Spark (README, "Past one machine"); on DuckDB the build runs them
    assert dbt_build_args(on_spark=True) == ["build", "--exclude-resource-type", "unit_test"]
    assert dbt_build_args(full_refresh=True, on_spark=True)[:2] == ["build", "--full-refresh"]


def test_an_invocation_folder_starts_with_the_projects_saved_parse(tmp_path, monkeypatch):
    project_target = tmp_path / "target"
    project_target.mkdir()
    monkeypatch.setenv("DBT_TARGET_PATH", str(project_target))
    own = tmp_path / "freshness"
    copy_saved_parse(own)  # nothing saved yet: dbt parses in full, nothing to copy
    assert not (own / "partial_parse.msgpack").exists()
    (project_target / "partial_parse.msgpack").write_bytes(b"saved parse")
    copy_saved_parse(own)
    assert (own / "partial_parse.msgpack").read_bytes() == b"saved parse"
    copy_saved_parse(project_target)  # the project's own folder: left as it is
    assert (project_target / "partial_parse.msgpack").read_bytes() == b"saved parse"
