"""What starts a build: the daily schedule and a change in the raw landing folder.

Both request the same whole-graph job, `build_everything`, one run at a time
(dagster_home/dagster.yaml). Schedule and sensor rather than declarative
automation conditions: see DECISIONLOG.md (Orchestration).
"""

from __future__ import annotations

import dagster as dg

from orchestration import settings
from orchestration.assets.freshness import DAILY_BUILD_CRON
from orchestration.assets.raw import raw_asset_key, raw_dir_fingerprint

BUILD_JOB_NAME = "build_everything"


def daily_build_schedule(job: dg.UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="daily_build",
        job=job,
        cron_schedule=DAILY_BUILD_CRON,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description="Rebuild everything every day at 06:00 UTC, as of that day.",
    )


def _last_landed_fingerprint(instance: dg.DagsterInstance) -> str | None:
    event = instance.get_latest_materialization_event(raw_asset_key("orders"))
    if event is None or event.asset_materialization is None:
        return None
    value = event.asset_materialization.metadata.get("raw_fingerprint")
    return value.value if value is not None else None


@dg.sensor(
    name="raw_files_sensor",
    job_name=BUILD_JOB_NAME,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Watches RAW_DATA_DIR and requests a full build when its files (names, sizes, "
        "modification times) differ from those last landed."
    ),
)
def raw_files_sensor(context: dg.SensorEvaluationContext):
    raw_dir = settings.raw_data_dir()
    fingerprint = raw_dir_fingerprint(raw_dir)
    if fingerprint is None:
        return dg.SkipReason(f"no files in {raw_dir}")
    if fingerprint == context.cursor:
        return dg.SkipReason(f"{raw_dir} unchanged since the last request")
    context.update_cursor(fingerprint)
    if fingerprint == _last_landed_fingerprint(context.instance):
        return dg.SkipReason(f"{raw_dir} unchanged since it was last landed")
    return dg.RunRequest(run_key=fingerprint, tags={"raw_fingerprint": fingerprint})
