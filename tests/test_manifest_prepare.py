"""The dev CLIs parse the dbt project once per change, not once per definitions load
(`dg launch` loads them five times per run): orchestration.project.prepare_manifest_if_dev
skips the parse while nothing dbt reads has changed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import PROJECT_DIR
from dagster_dbt import DbtProject

from orchestration.project import dbt_cli, parse_inputs_fingerprint, prepare_manifest_if_dev


@pytest.fixture
def project_copy(tmp_path) -> Path:
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(PROJECT_DIR / name, copy / name)
    for name in ("models", "macros", "seeds", "tests/dbt"):
        shutil.copytree(PROJECT_DIR / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_the_fingerprint_follows_files_env_vars_the_project_reads_and_the_manifest(project_copy, monkeypatch):
    manifest = project_copy / "target" / "manifest.json"
    monkeypatch.setenv("DUCKDB_PATH", "data/one.duckdb")
    first = parse_inputs_fingerprint(project_copy, manifest)
    assert parse_inputs_fingerprint(project_copy, manifest) == first
    monkeypatch.setenv("SOME_VARIABLE_NO_MODEL_READS", "x")
    assert parse_inputs_fingerprint(project_copy, manifest) == first

    monkeypatch.setenv("DUCKDB_PATH", "data/two.duckdb")       # profiles.yml reads it: the manifest names it
    second = parse_inputs_fingerprint(project_copy, manifest)
    assert second != first

    model = project_copy / "models" / "marts" / "churn_rates.sql"
    model.write_text(model.read_text() + "\n-- edited\n")
    third = parse_inputs_fingerprint(project_copy, manifest)
    assert third != second

    manifest.parent.mkdir()
    manifest.write_text("{}")                                    # another dbt command rewrote it
    assert parse_inputs_fingerprint(project_copy, manifest) != third


def test_the_dev_cli_parses_only_when_something_changed(project_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_IS_DEV_CLI", "1")
    monkeypatch.setenv("DUCKDB_PATH", str(tmp_path / "parse.duckdb"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    project = DbtProject(project_dir=project_copy, profiles_dir=project_copy, target_path=tmp_path / "target")

    prepare_manifest_if_dev(project)
    assert project.manifest_path.exists()
    parsed = project.manifest_path.stat().st_mtime_ns

    prepare_manifest_if_dev(project)                             # nothing changed: no parse
    assert project.manifest_path.stat().st_mtime_ns == parsed

    model = project_copy / "models" / "marts" / "churn_rates.sql"
    model.write_text(model.read_text() + "\n-- edited\n")
    prepare_manifest_if_dev(project)                             # a model changed: parsed again
    assert project.manifest_path.stat().st_mtime_ns != parsed


def test_the_dbt_resource_runs_dbt_without_an_adapter_of_its_own(project_copy, tmp_path, monkeypatch):
    # dagster-dbt would load every macro into an adapter before each command (2-5 s) for queries the
    # project never makes, and start dbt once more to ask its version; the resource the definitions
    # use skips both and dbt still runs.
    monkeypatch.setenv("DUCKDB_PATH", str(tmp_path / "parse.duckdb"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    project = DbtProject(project_dir=project_copy, profiles_dir=project_copy, target_path=tmp_path / "target")
    resource = dbt_cli(project)
    reported = subprocess.run([resource.dbt_executable, "--version"], capture_output=True, text=True, check=True)
    assert f"installed: {resource._cli_version}" in reported.stdout, reported.stdout
    invocation = resource.cli(["parse", "--quiet"], target_path=project.target_path, raise_on_error=True)
    invocation.wait()
    assert invocation.is_successful()
    assert invocation.adapter is None
    assert project.manifest_path.exists()
