"""Run configuration shared by the assets that judge "as of" a date."""

from __future__ import annotations

import dagster as dg
from pydantic import Field


class AsOfConfig(dg.Config):
    as_of_date: str = Field(
        default="",
        description="YYYY-MM-DD the models judge as of. Empty: AS_OF_DATE, else today in UTC.",
    )
    full_refresh: bool = Field(
        default=False,
        description=(
            "Land and stage every raw file again and rebuild every incremental model, instead of the "
            "incremental path (FULL_REFRESH=1 in the environment does the same)."
        ),
    )


# DuckDB has one writer per file: every step that writes the working database
# (or must read it whole) claims a slot of this pool, and dagster_home/dagster.yaml
# gives it one slot, so UI, schedule, sensor and `make run` runs take turns.
DUCKDB_POOL = "duckdb_writer"
