"""The Dagster code location: `dg dev`, `dg launch --job build_everything`, `dg check defs`.

Importing this module does nothing but define functions: the dbt project is
parsed (under the dev CLIs), its manifest read and the asset graph built only
when Dagster calls `defs()`, so tests build definitions by calling
`build_definitions()` instead of reloading modules.
"""

from __future__ import annotations

import dagster as dg

from orchestration import settings
from orchestration.alerts import alert_sensors
from orchestration.assets.clv_spark import build_clv_on_spark, spark_dbt_selection
from orchestration.assets.dbt import build_dbt_assets, model_keys_in_layers, pass_selections_as_arguments, translator
from orchestration.assets.demo import DEMO_KEY, demo_raw_files
from orchestration.assets.published import PUBLISHED_LAYERS, build_published_marts
from orchestration.assets.raw import build_raw_landing
from orchestration.project import build_dbt_project, dbt_cli, load_manifest, prepare_manifest_if_dev
from orchestration.sensors import BUILD_JOB_NAME, daily_build_schedule, raw_files_sensor


def build_definitions() -> dg.Definitions:
    """The whole code location, as the environment configures it now.

    The demo-data step is part of the graph only while RAW_DATA_DIR is unset,
    so a landing folder the user set is never written to.
    """
    project = build_dbt_project()
    prepare_manifest_if_dev(project)
    manifest = load_manifest(project)
    pass_selections_as_arguments(manifest)
    # On Spark, dbt builds every node but the CLV Python models, which a step of
    # their own runs on Spark (orchestration.assets.clv_spark): the same keys and checks.
    on_spark = project.target == "spark"
    dbt_models = build_dbt_assets(project, manifest, select=spark_dbt_selection(manifest) if on_spark else "fqn:*")
    engine_steps = [dbt_models, build_clv_on_spark(project, manifest, translator)] if on_spark else [dbt_models]
    published_marts = build_published_marts(
        sorted({key for step in engine_steps for key in model_keys_in_layers(step, PUBLISHED_LAYERS)},
               key=lambda key: key.to_user_string()))

    if settings.raw_data_dir_is_default():
        assets = [demo_raw_files, build_raw_landing(upstream=[DEMO_KEY]), *engine_steps, published_marts]
    else:
        assets = [build_raw_landing(), *engine_steps, published_marts]

    # demo data -> raw landing -> dbt build (seeds, models, tests) -> published marts,
    # with every asset check. In process: the steps run one after another anyway
    # (DuckDB has a single writer; a local Spark metastore admits one process at a
    # time), and a subprocess per step costs ~20 s here. On Spark, Dagster splits the
    # dbt and CLV multi-assets into the steps their dependencies need.
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
        resources={"dbt": dbt_cli(project)},
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
