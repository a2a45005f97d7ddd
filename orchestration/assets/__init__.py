"""The asset graph: raw landing -> dbt seeds/models (tests as checks) -> published marts."""

from orchestration.assets.dbt import dbt_models
from orchestration.assets.published import published_marts
from orchestration.assets.raw import raw_landing

__all__ = ["raw_landing", "dbt_models", "published_marts"]
