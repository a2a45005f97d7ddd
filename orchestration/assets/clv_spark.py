"""The CLV dbt Python models as Dagster assets on Spark (DBT_TARGET=spark).

dbt-spark runs dbt Python models only on Databricks, so on the Spark target
the dbt multi-asset leaves the seven CLV Python models out (its selection
is every other node, `spark_dbt_selection`) and this
multi-asset materializes them instead: the same asset keys, specs and asset
checks as dagster-dbt gives them on DuckDB (built by the same translator from
the same manifest), so the graph is one graph with the same keys on both
targets; only the op that materializes these seven keys differs.

A run of it:

1. runs the selected Python models with orchestration.spark_clv (the model
   files themselves, with dbt's ``ref``/``config``/``this`` over Spark
   tables), in a process of its own: a local session's Derby metastore
   admits one process at a time, and its JVM holds it until it exits;
2. runs their dbt data tests (`dbt test`, selected by name) and reports each
   as the result of its asset check; a failing error-severity test fails the
   step, as a blocking check does on DuckDB.

The models interleave with SQL models (int_clv_backtest_tracking reads
int_clv_backtest_scored, a SQL model over int_clv_backtest_predictions), so
both multi-assets are subsettable and Dagster splits each into the steps the
dependencies need (dbt, CLV, dbt, CLV, dbt), the order the standalone driver
(orchestration.spark.build_phases) takes.
"""

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtProject

from orchestration import settings
from orchestration.assets.config import DUCKDB_POOL, AsOfConfig
from orchestration.dbt_args import copy_saved_parse, dbt_env, resolve_as_of_date
from orchestration.spark_clv import python_models

CLV_STEP_NAME = "clv_python_models_on_spark"


def python_model_ids(manifest: Mapping[str, Any]) -> list[str]:
    """unique_ids of the enabled dbt Python models."""
    return sorted(uid for uid, node in manifest["nodes"].items()
                  if node["resource_type"] == "model" and node.get("language") == "python")


def python_model_names(manifest: Mapping[str, Any]) -> list[str]:
    return [manifest["nodes"][uid]["name"] for uid in python_model_ids(manifest)]


def spark_dbt_selection(manifest: Mapping[str, Any]) -> str:
    """What dbt builds on Spark, as a dbt --select: every seed, snapshot and SQL model, by name.

    Their tests come along (dbt's eager indirect selection): every test on at
    least one of them, a test on a SQL model and a Python model included, which
    dagster-dbt then attaches as it does on DuckDB. A test only on Python models
    is not selected: the CLV step runs it. (An --exclude of the Python models
    would also drop the tests on a SQL model and a Python model.)
    """
    names = sorted(node["name"] for node in manifest["nodes"].values()
                   if node["resource_type"] in ("seed", "snapshot", "model") and node.get("language") != "python")
    return " ".join(names)


def _check_specs(manifest: Mapping[str, Any], translator: DagsterDbtTranslator, project: DbtProject,
                 specs: Mapping[str, dg.AssetSpec]) -> list[dg.AssetCheckSpec]:
    """The dbt tests attached to the Python models, as dagster-dbt would make their asset checks."""
    checks = []
    for uid, node in sorted(manifest["nodes"].items()):
        if node["resource_type"] != "test":
            continue
        for spec in specs.values():
            check = translator.get_asset_check_spec(spec, manifest, uid, project)
            if check is not None:
                checks.append(check)
                break
    return checks


def build_clv_on_spark(project: DbtProject, manifest: Mapping[str, Any],
                       translator: DagsterDbtTranslator) -> dg.AssetsDefinition:
    """The multi-asset of the CLV Python models on Spark, keyed and checked as the dbt assets key them."""
    specs = {uid: translator.get_asset_spec(manifest, uid, project).merge_attributes(kinds={"spark"})
             for uid in python_model_ids(manifest)}
    check_specs = _check_specs(manifest, translator, project, specs)
    names_by_key = {spec.key: manifest["nodes"][uid]["name"] for uid, spec in specs.items()}
    ordered_keys = [specs[node["unique_id"]].key for node in python_models(manifest)]
    tests_by_check = {
        dg.AssetCheckKey(check.asset_key, check.name): check.metadata["dagster_dbt/unique_id"]
        for check in check_specs
    }

    @dg.multi_asset(
        name=CLV_STEP_NAME,
        specs=list(specs.values()),
        check_specs=check_specs,
        can_subset=True,
        # one writer at a time, as the dbt steps (a local Spark metastore admits one process)
        pool=DUCKDB_POOL,
        description="The CLV dbt Python models run on Spark beside dbt (orchestration.spark_clv), then their tests.",
    )
    def clv_python_models(context: dg.AssetExecutionContext, config: AsOfConfig):
        # in dependency order: Dagster takes a multi-asset's materializations only in that order
        selected_keys = [key for key in ordered_keys if key in context.selected_asset_keys]
        selected = [names_by_key[key] for key in selected_keys]
        as_of = resolve_as_of_date(config.as_of_date)
        env = dict(os.environ, DBT_TARGET="spark", **dbt_env(as_of))
        context.log.info(f"CLV Python models on Spark: {', '.join(selected)}")
        completed = subprocess.run(
            [sys.executable, "-m", "orchestration.spark_clv", "--manifest", str(project.manifest_path),
             "--select", *selected],
            env=env, cwd=settings.PROJECT_DIR, capture_output=True, text=True)
        sys.stdout.write(completed.stdout)
        sys.stderr.write(completed.stderr[-8000:])
        if completed.returncode != 0:
            raise dg.Failure(description=f"the CLV Python models failed on Spark (exit status "
                                         f"{completed.returncode}): {completed.stderr.strip()[-2000:]}")
        rows = _rows_written(completed.stdout)
        for key in selected_keys:
            name = names_by_key[key]
            metadata = {"as_of_date": as_of.isoformat(), "engine": "spark"}
            if name in rows:
                metadata["dagster/row_count"] = rows[name]
            yield dg.MaterializeResult(asset_key=key, metadata=metadata)

        chosen = {check_key: tests_by_check[check_key] for check_key in context.selected_asset_check_keys}
        if chosen:
            yield from _run_tests(context, project, manifest, chosen, env)

    return clv_python_models


def _rows_written(stdout: str) -> dict[str, int]:
    """model name -> rows, from orchestration.spark_clv's lines `schema.model: N rows (s)`."""
    rows = {}
    for line in stdout.splitlines():
        relation, _, rest = line.partition(": ")
        if rest.endswith(")") and " rows (" in rest and "." in relation:
            count = rest.split(" rows (")[0]
            if count.isdigit():
                rows[relation.split(".")[-1]] = int(count)
    return rows


def _run_tests(context: dg.AssetExecutionContext, project: DbtProject, manifest: Mapping[str, Any],
               chosen: Mapping[dg.AssetCheckKey, str], env: Mapping[str, str]):
    """`dbt test` of the chosen tests by name; one AssetCheckResult each, then fail if a blocking one failed."""
    names = sorted(manifest["nodes"][uid]["name"] for uid in chosen.values())
    target = Path(tempfile.mkdtemp(prefix="clv-tests-", dir=settings.dbt_target_dir()))
    copy_saved_parse(target)
    command = [str(Path(sys.executable).with_name("dbt")), "test", "--select", *names,
               "--indirect-selection", "empty", "--profiles-dir", str(project.profiles_dir),
               "--project-dir", str(project.project_dir), "--target-path", str(target)]
    completed = subprocess.run(command, env=dict(env), cwd=project.project_dir, capture_output=True, text=True)
    sys.stdout.write(completed.stdout)
    results_path = target / "run_results.json"
    if not results_path.exists():
        raise dg.Failure(description=f"dbt test of the CLV models' tests did not run: {completed.stdout[-2000:]}"
                                     f"{completed.stderr[-2000:]}")
    results = {r["unique_id"]: r for r in json.loads(results_path.read_text())["results"]}
    failed_blocking = []
    for check_key, uid in sorted(chosen.items(), key=lambda item: item[1]):
        result = results.get(uid)
        status = result["status"] if result else "not run"
        node = manifest["nodes"][uid]
        severity = (node.get("config", {}).get("severity") or "error").upper()
        passed = status == "pass"
        if not passed and severity == "ERROR":
            failed_blocking.append(node["name"])
        yield dg.AssetCheckResult(
            asset_key=check_key.asset_key,
            check_name=check_key.name,
            passed=passed,
            severity=dg.AssetCheckSeverity.ERROR if severity == "ERROR" else dg.AssetCheckSeverity.WARN,
            metadata={"status": status, "failures": (result or {}).get("failures") or 0,
                      "dagster_dbt/unique_id": uid},
        )
    if failed_blocking:
        raise dg.Failure(description=f"dbt tests of the CLV models failed on Spark: {', '.join(failed_blocking)}")
