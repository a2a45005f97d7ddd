"""The Dagster code location: `dg dev`, `dg launch --job build_everything`, `dg check defs`.

Importing this module does nothing but define functions: the dbt project is
parsed (under the dev CLIs), its manifest read and the asset graph built only
when Dagster calls `defs()`, so tests build definitions by calling
`build_definitions()` instead of reloading modules.
"""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration import settings
from orchestration.alerts import alert_sensors
from orchestration.assets.dbt import build_dbt_assets, model_keys_in_layers
from orchestration.assets.demo import DEMO_KEY, demo_raw_files
from orchestration.assets.published import PUBLISHED_LAYERS, build_published_marts
from orchestration.assets.raw import build_raw_landing
from orchestration.project import build_dbt_project, dbt_executable, load_manifest, prepare_manifest_if_dev
from orchestration.sensors import BUILD_JOB_NAME, daily_build_schedule, raw_files_sensor


def build_definitions() -> dg.Definitions:
    """The whole code location, as the environment configures it now.

    The demo-data step is part of the graph only while RAW_DATA_DIR is unset,
    so a landing folder the user set is never written to.
    """
    project = build_dbt_project()
    prepare_manifest_if_dev(project)
    manifest = load_manifest(project)
    dbt_models = build_dbt_assets(project, manifest)
    published_marts = build_published_marts(model_keys_in_layers(dbt_models, PUBLISHED_LAYERS))

    if settings.raw_data_dir_is_default():
        assets = [demo_raw_files, build_raw_landing(upstream=[DEMO_KEY]), dbt_models, published_marts]
    else:
        assets = [build_raw_landing(), dbt_models, published_marts]

    # demo data -> raw landing -> dbt build (seeds, models, tests) -> published marts,
    # with every asset check. In process: the steps run one after another anyway
    # (DuckDB has a single writer), and a subprocess per step costs ~20 s here.
    build_everything = dg.define_asset_job(
        name=BUILD_JOB_NAME,
        selection=dg.AssetSelection.all(),
        executor_def=dg.in_process_executor,
        description="Land the raw files, build and test every dbt model, publish the marts.",
    )
    return dg.Definitions(
        assets=assets,
        jobs=[build_everything],
        schedules=[daily_build_schedule(build_everything)],
        sensors=[raw_files_sensor, *alert_sensors()],
        resources={"dbt": DbtCliResource(project_dir=project, dbt_executable=dbt_executable())},
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
