"""A small real build of the pipeline, published, for the semantic-layer and Superset tests.

Demo data (few orders) -> landing -> `dbt run` -> publish, in a private
folder. No dbt tests run here (the other test modules run them); what the BI
tests need is the published marts file.
"""

from __future__ import annotations

from pathlib import Path

from orchestration.demo_data import generate
from orchestration.landing import land_raw_data
from orchestration.publish import publish
from tests.support import run_dbt

AS_OF = "2026-06-30"


def build_paths(root: Path) -> dict[str, Path]:
    """Where build_published(root) puts the raw files, databases and dbt target."""
    return {
        "raw": root / "raw",
        "duckdb": root / "lifecycle.duckdb",
        "publish": root / "lifecycle_marts.duckdb",
        "target": root / "target",
    }


def build_published(root: Path, orders: int = 3_000, seed: int = 42, as_of: str = AS_OF) -> dict[str, Path]:
    """Generate `orders` demo orders ending on `as_of`, build every model and publish; return the paths."""
    paths = build_paths(root)
    generate(paths["raw"], n_orders=orders, end_date=as_of, seed=seed)
    land_raw_data(paths["raw"], paths["duckdb"])
    run_dbt(["seed"], paths["duckdb"], paths["target"], as_of=as_of)
    run_dbt(["run"], paths["duckdb"], paths["target"], as_of=as_of)
    publish(paths["duckdb"], paths["publish"])
    return paths
