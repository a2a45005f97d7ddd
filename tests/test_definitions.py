"""The Dagster definitions load and mirror the dbt project: every node an asset, every test a check."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import dagster as dg
import pytest


@pytest.fixture(scope="module")
def manifest(dbt_target_path) -> dict:
    return json.loads((dbt_target_path / "manifest.json").read_text())


@pytest.fixture(scope="module")
def asset_graph(defs):
    return defs.resolve_asset_graph()


def dbt_nodes(manifest: dict, resource_type: str) -> list[dict]:
    return [node for node in manifest["nodes"].values() if node["resource_type"] == resource_type]


def test_every_dbt_model_and_seed_is_an_asset_keyed_by_layer(defs, manifest, asset_graph):
    keys = asset_graph.get_all_asset_keys()
    for node in dbt_nodes(manifest, "model"):
        folder = node["fqn"][1]
        assert dg.AssetKey([folder, node["name"]]) in keys, node["unique_id"]
    for node in dbt_nodes(manifest, "seed"):
        assert dg.AssetKey(["config", node["name"]]) in keys, node["unique_id"]
    assert dg.AssetKey(["staging", "stg_raw__orders"]) in keys


def test_groups_follow_the_folders(asset_graph):
    for key in asset_graph.get_all_asset_keys():
        node = asset_graph.get(key)
        expected = "publish" if key == dg.AssetKey("published_marts") else key.path[0]
        assert node.group_name == expected, key


def test_raw_landing_produces_the_dbt_sources_and_staging_depends_on_them(manifest, asset_graph):
    raw_tables = {source["name"] for source in manifest["sources"].values() if source["source_name"] == "raw"}
    keys = asset_graph.get_all_asset_keys()
    for table in raw_tables:
        key = dg.AssetKey(["raw", table])
        assert key in keys and asset_graph.get(key).is_materializable, key
    parents = asset_graph.get(dg.AssetKey(["staging", "stg_raw__orders_checked"])).parent_keys
    assert dg.AssetKey(["raw", "orders"]) in parents


def test_every_dbt_test_is_an_asset_check_and_error_severity_blocks(manifest, asset_graph):
    check_keys = asset_graph.asset_check_keys
    names = {key.name for key in check_keys}
    tests = dbt_nodes(manifest, "test")
    assert tests, "the project has dbt tests"
    missing = [test["name"] for test in tests if test["name"] not in names]
    assert not missing
    by_name = {key.name: asset_graph.get_check_spec(key) for key in check_keys}
    for test in tests:
        severity = (test["config"].get("severity") or "error").lower()
        assert by_name[test["name"]].blocking == (severity == "error"), test["name"]


def test_published_marts_depends_on_every_mart_and_audit_model(manifest, asset_graph):
    expected = {
        dg.AssetKey([node["fqn"][1], node["name"]])
        for node in dbt_nodes(manifest, "model")
        if node["fqn"][1] in ("marts", "audit")
    }
    assert expected, "the project has audit models"
    assert asset_graph.get(dg.AssetKey("published_marts")).parent_keys == expected


def test_build_everything_selects_every_asset_and_check_in_process(defs, asset_graph):
    job = defs.resolve_job_def("build_everything")
    assert job.executor_def is dg.in_process_executor
    assert set(job.asset_layer.executable_asset_keys) == set(asset_graph.materializable_asset_keys)
    assert set(job.asset_layer.asset_graph.asset_check_keys) == set(asset_graph.asset_check_keys)


def test_daily_schedule_runs_the_build(defs):
    schedule = defs.resolve_schedule_def("daily_build")
    assert schedule.job_name == "build_everything"
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.execution_timezone == "UTC"


def test_raw_files_sensor_requests_a_build_when_the_files_change(defs, tmp_path, monkeypatch):
    sensor = defs.resolve_sensor_def("raw_files_sensor")
    assert sensor.job_name == "build_everything"
    assert sensor.minimum_interval_seconds == 60
    monkeypatch.setenv("RAW_DATA_DIR", str(tmp_path))

    with dg.DagsterInstance.ephemeral() as instance:
        def tick(cursor=None):
            return sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))

        empty = tick()
        assert not empty.run_requests and "no files" in empty.skip_message

        (tmp_path / "orders.csv").write_text("order_id,customer_id,ordered_at,amount\n1,a,2024-01-01,5\n")
        first = tick()
        assert len(first.run_requests) == 1
        assert first.run_requests[0].run_key == first.cursor

        assert not tick(first.cursor).run_requests, "unchanged files request nothing"
        # A file being written under a hidden temporary name is not a change yet.
        (tmp_path / ".customers.parquet.tmp").write_text("partial")
        assert not tick(first.cursor).run_requests

        (tmp_path / "orders.csv").write_text("order_id,customer_id,ordered_at,amount\n1,a,2024-01-01,7\n")
        os.utime(tmp_path / "orders.csv", ns=(1, 1))
        second = tick(first.cursor)
        assert len(second.run_requests) == 1
        assert second.run_requests[0].run_key not in (None, first.run_requests[0].run_key)

        # Files that the last landing already read do not start another build (e.g. after a
        # restart with no cursor, or right after the landing step generated demo data).
        instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key=["raw", "orders"], metadata={"raw_fingerprint": second.cursor})
        )
        restarted = tick()
        assert not restarted.run_requests and "last landed" in restarted.skip_message


IMPORT_PROBE = """
import json, os, sys
before = dict(os.environ)
import orchestration.definitions, orchestration.project, orchestration.assets.dbt, orchestration.sensors
import orchestration.alerts, orchestration.assets.raw, orchestration.assets.demo, orchestration.assets.published
changed = sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k))
print(json.dumps({"changed_env": changed, "dbt_imported": "dbt.cli.main" in sys.modules}))
"""


def test_importing_the_dagster_modules_does_nothing(tmp_path):
    """No manifest read, no dbt parse, no environment edits (PATH, PYTENSOR_FLAGS ...) at import."""
    env = {key: value for key, value in os.environ.items() if key != "DAGSTER_IS_DEV_CLI"}
    env["DBT_TARGET_PATH"] = str(tmp_path / "no_manifest_here")
    completed = subprocess.run([sys.executable, "-c", IMPORT_PROBE], env=env, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-3000:]
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    assert outcome == {"changed_env": [], "dbt_imported": False}
    assert not (tmp_path / "no_manifest_here").exists(), "nothing was parsed"


def test_building_without_a_manifest_fails_with_the_command_to_run(tmp_path, monkeypatch):
    from orchestration.definitions import build_definitions
    from orchestration.project import ManifestMissingError

    monkeypatch.delenv("DAGSTER_IS_DEV_CLI", raising=False)
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "empty_target"))
    with pytest.raises(ManifestMissingError) as error:
        build_definitions()
    assert "dbt manifest not found" in str(error.value)
    assert "dbt parse --profiles-dir . --project-dir ." in str(error.value)


def test_demo_data_is_its_own_step_upstream_of_the_landing_only_without_raw_data_dir(
    defs, asset_graph, dbt_target_path, monkeypatch, tmp_path
):
    from orchestration.assets.demo import DEMO_KEY
    from orchestration.definitions import build_definitions

    assert DEMO_KEY in asset_graph.get_all_asset_keys()
    assert asset_graph.get(dg.AssetKey(["raw", "orders"])).parent_keys == {DEMO_KEY}
    assert DEMO_KEY in defs.resolve_job_def("build_everything").asset_layer.executable_asset_keys

    monkeypatch.delenv("DAGSTER_IS_DEV_CLI", raising=False)
    monkeypatch.setenv("RAW_DATA_DIR", str(tmp_path))
    user_graph = build_definitions().resolve_asset_graph()
    assert DEMO_KEY not in user_graph.get_all_asset_keys(), "a folder the user set is never written to"
    assert not user_graph.get(dg.AssetKey(["raw", "orders"])).parent_keys


def test_every_step_that_touches_the_database_is_in_the_single_writer_pool(defs, asset_graph):
    from orchestration.assets.config import DUCKDB_POOL

    pools = {node.key: node.pools for node in asset_graph.asset_nodes if node.is_materializable}
    for key, node_pools in pools.items():
        expected = set() if key.path[0] == "demo" else {DUCKDB_POOL}
        assert set(node_pools or ()) == expected, key

    home = dg.DagsterInstance.get()
    config = home.event_log_storage.get_pool_config()
    assert config.default_pool_limit == 1


def test_marts_and_the_raw_landing_have_a_freshness_policy(asset_graph):
    with_policy = {key for key in asset_graph.get_all_asset_keys() if asset_graph.get(key).freshness_policy}
    marts = {key for key in asset_graph.get_all_asset_keys() if key.path[0] == "marts"}
    raw = {key for key in asset_graph.get_all_asset_keys() if key.path[0] == "raw"}
    assert marts and raw and marts | raw == with_policy


def test_singular_tests_on_several_models_are_attached_to_one_of_them():
    from orchestration.project import attach_multi_parent_tests

    def model(name, parents=()):
        return {"resource_type": "model", "name": name, "unique_id": f"model.p.{name}"}, list(parents)

    def test(name, refs, meta=None):
        return {
            "resource_type": "test",
            "name": name,
            "config": {"meta": meta or {}},
            "depends_on": {"nodes": [f"model.p.{ref}" for ref in refs]},
            "refs": [{"name": ref} for ref in refs],
        }

    models = dict(a=model("a"), b=model("b", ["model.p.a"]), c=model("c"))
    tests = {
        "test.p.downstream": test("downstream", ["b", "a"]),
        "test.p.siblings": test("siblings", ["c", "a"]),
        "test.p.explicit": test("explicit", ["b", "a"], {"dagster": {"ref": {"name": "a"}}}),
        "test.p.single": test("single", ["c"]),
    }
    manifest = {
        "nodes": {f"model.p.{name}": node for name, (node, _) in models.items()} | tests,
        "parent_map": {f"model.p.{name}": parents for name, (_, parents) in models.items()},
    }

    attached = attach_multi_parent_tests(manifest)

    def ref_of(unique_id):
        return attached["nodes"][unique_id]["config"]["meta"].get("dagster", {}).get("ref", {}).get("name")

    assert ref_of("test.p.downstream") == "b", "the most downstream parent"
    assert ref_of("test.p.siblings") == "c", "unrelated parents: the first one the test refs"
    assert ref_of("test.p.explicit") == "a", "an explicit meta.dagster.ref wins"
    assert ref_of("test.p.single") is None, "one parent: dagster-dbt attaches it already"
    assert manifest["nodes"]["test.p.downstream"]["config"]["meta"] == {}, "the input is not modified"
