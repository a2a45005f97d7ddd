"""Demo data as its own step: generated into the default landing folder, upstream of the landing.

The asset exists only when RAW_DATA_DIR is not set (orchestration.definitions
leaves it out otherwise), so a folder the user points the pipeline at is never
written to. In the default folder it generates the demo exports once, when
that folder holds no orders, and keeps them afterwards (a later run records
that the files were already there).
"""

import dagster as dg

from orchestration import settings
from orchestration.assets.config import AsOfConfig
from orchestration.dbt_args import resolve_as_of_date
from orchestration.landing import raw_dir_has_orders

DEMO_KEY = dg.AssetKey(["demo", "raw_files"])


@dg.asset(
    key=DEMO_KEY,
    group_name="demo",
    kinds={"parquet"},
    description=(
        f"Demo raw exports ({settings.DEMO_ORDERS:,} orders, seed {settings.DEMO_SEED}, ending on the "
        "as-of date) written into the default landing folder data/raw when it holds no orders. "
        "Present only while RAW_DATA_DIR is unset: a folder you set is never written to."
    ),
)
def demo_raw_files(context: dg.AssetExecutionContext, config: AsOfConfig) -> dg.MaterializeResult:
    raw_dir = settings.raw_data_dir()
    common = {"raw_data_dir": dg.MetadataValue.path(str(raw_dir))}
    if not settings.raw_data_dir_is_default():
        # Only reachable when the definitions were built before RAW_DATA_DIR was set.
        context.log.info(f"RAW_DATA_DIR is set ({raw_dir}): demo data is never written there.")
        return dg.MaterializeResult(metadata={**common, "generated": False})
    if raw_dir_has_orders(raw_dir):
        context.log.info(f"{raw_dir} already holds orders: no demo data generated.")
        return dg.MaterializeResult(metadata={**common, "generated": False})

    from orchestration import demo_data  # numpy/pyarrow only when demo data is needed

    as_of = resolve_as_of_date(config.as_of_date)
    context.log.info(
        f"{raw_dir} holds no orders: generating {settings.DEMO_ORDERS:,} demo orders "
        f"(seed {settings.DEMO_SEED}, ending {as_of})."
    )
    raw_dir.mkdir(parents=True, exist_ok=True)
    counts = demo_data.generate(raw_dir, n_orders=settings.DEMO_ORDERS, end_date=as_of, seed=settings.DEMO_SEED)
    return dg.MaterializeResult(
        metadata={
            **common,
            "generated": True,
            "end_date": as_of.isoformat(),
            "rows": dg.MetadataValue.json(counts),
            "dagster/row_count": counts.get("orders", 0),
        }
    )
