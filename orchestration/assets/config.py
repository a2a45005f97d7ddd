"""Run configuration shared by the assets that judge "as of" a date."""

from __future__ import annotations

import dagster as dg
from pydantic import Field


class AsOfConfig(dg.Config):
    as_of_date: str = Field(
        default="",
        description="YYYY-MM-DD the models judge as of. Empty: AS_OF_DATE, else today in UTC.",
    )
