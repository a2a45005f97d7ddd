"""Dagster definitions: `dagster dev -m orchestration.definitions` or
`dagster job execute -m orchestration.definitions -j build_everything`."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.assets import dbt_models, published_marts, raw_landing
from orchestration.project import dbt_executable, dbt_project
from orchestration.sensors import BUILD_JOB_NAME, raw_files_sensor

# raw landing -> dbt build (seeds, models, tests) -> published marts, with every
# asset check. In process: the steps run one after another anyway (DuckDB has a
# single writer), and a subprocess per step costs ~20 s here.
build_everything = dg.define_asset_job(
    name=BUILD_JOB_NAME,
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Land the raw files, build and test every dbt model, publish the marts.",
)

daily_build = dg.ScheduleDefinition(
    name="daily_build",
    job=build_everything,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Rebuild everything every day at 06:00 UTC, as of that day.",
)

defs = dg.Definitions(
    assets=[raw_landing, dbt_models, published_marts],
    jobs=[build_everything],
    schedules=[daily_build],
    sensors=[raw_files_sensor],
    resources={"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())},
)
