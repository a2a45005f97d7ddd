"""Raw landing: the assets upstream of the dbt source `raw`.

One asset per raw table, keyed exactly as dagster-dbt keys the source tables
(``raw/<table>``), so every staging model hangs off the table it reads. A
single step produces them all because the landing replaces the raw schema in
one transaction.

Demo data is not made here: orchestration.assets.demo generates it, as its
own step upstream of this one, and only into the default landing folder.
"""

import hashlib
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from orchestration import settings
from orchestration.assets.config import DUCKDB_POOL, AsOfConfig
from orchestration.assets.freshness import BUILT_TODAY
from orchestration.config_check import check_configuration, raw_merchant_ids
from orchestration.dbt_args import resolve_as_of_date
from orchestration.freshness import check_orders_freshness
from orchestration.incremental import LEDGER, PLAN, full_refresh_requested
from orchestration.landing import (
    ENTITIES,
    LOAD_LOG,
    REJECTED_LINES,
    RawDataError,
    land_for_build,
    record_refusal,
)

RAW_SOURCE = "raw"
RAW_TABLES: tuple[str, ...] = (*(entity.name for entity in ENTITIES), LOAD_LOG, REJECTED_LINES, LEDGER, PLAN)


def raw_asset_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([RAW_SOURCE, table])


def raw_dir_fingerprint(raw_dir: Path) -> str | None:
    """A digest of the landing folder's files (path, size, mtime); None if it has none.

    Hidden files are ignored: writers such as the demo generator build files
    under a hidden temporary name and rename them into place.
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        return None
    entries = []
    for path in sorted(raw_dir.rglob("*")):
        relative = path.relative_to(raw_dir)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        stat = path.stat()
        entries.append(f"{relative.as_posix()}\t{stat.st_size}\t{stat.st_mtime_ns}")
    if not entries:
        return None
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()[:20]


def _description(table: str) -> str:
    if table == LOAD_LOG:
        return "One row per raw entity of the last load: files read, row count, rejected lines, load time."
    if table == REJECTED_LINES:
        return "CSV lines of the last load that could not be parsed: file, line number, text, reason."
    if table == LEDGER:
        return "Every raw file of the last load (path, position, size, mtime, SHA-256) and whether a build staged it."
    if table == PLAN:
        return ("The build's path (incremental or full refresh), why, its as-of date and the last successful "
                "build's; int_customers_to_recompute reads it.")
    entity = next(entity for entity in ENTITIES if entity.name == table)
    need = "required" if entity.required else "optional: an empty table when no file is given"
    return f"raw.{table}, landed from RAW_DATA_DIR ({need}); {entity.describe()}."


def build_raw_landing(upstream: Sequence[dg.AssetKey] = ()) -> dg.AssetsDefinition:
    """The landing step, producing every raw table; `upstream`: what must run before it (the demo step)."""
    specs = [
        dg.AssetSpec(
            key=raw_asset_key(table),
            group_name=RAW_SOURCE,
            description=_description(table),
            kinds={"duckdb"},
            metadata={"dagster/table_name": f"{RAW_SOURCE}.{table}"},
            freshness_policy=BUILT_TODAY,
            deps=list(upstream),
        )
        for table in RAW_TABLES
    ]
    check_specs = [
        dg.AssetCheckSpec(
            "raw_orders_freshness",
            asset=raw_asset_key("orders"),
            description=(
                "dbt source freshness of raw.orders: days between the newest order and AS_OF_DATE, "
                "warn/error after vars freshness_warn_after_days / freshness_error_after_days."
            ),
        )
    ]
    return dg.multi_asset(name="raw_landing", specs=specs, check_specs=check_specs, pool=DUCKDB_POOL)(raw_landing)


def copy_raw_to_spark(context: dg.AssetExecutionContext, duckdb_path: Path) -> None:
    """DBT_TARGET=spark: the landed raw schema written as Parquet Spark tables, in a process of its own
    (a local Spark metastore admits one process at a time; the JVM holds it until it exits)."""
    completed = subprocess.run([sys.executable, "-m", "orchestration.spark", "raw-to-spark", str(duckdb_path)],
                               cwd=settings.PROJECT_DIR, capture_output=True, text=True)
    if completed.returncode != 0:
        raise dg.Failure(description="copying the raw tables into Spark failed: "
                                     + (completed.stderr.strip()[-3000:] or completed.stdout.strip()[-3000:]))
    context.log.info(f"raw tables written to Spark: {' '.join(completed.stdout.split())}")


def raw_landing(context: dg.AssetExecutionContext, config: AsOfConfig):
    """Land RAW_DATA_DIR into the `raw` schema."""
    raw_dir = settings.raw_data_dir()
    duckdb_path = settings.duckdb_path()
    as_of = resolve_as_of_date(config.as_of_date)
    fingerprint = raw_dir_fingerprint(raw_dir)

    try:
        # Nonsense in seeds or vars stops the run before anything is rebuilt;
        # merchant overrides are checked against the merchants just landed.
        check_configuration(settings.PROJECT_DIR)
        # On Spark every build lands and stages in full (its staging tables are rebuilt from every raw row).
        on_spark = settings.dbt_target() == "spark"
        plan, loaded = land_for_build(
            raw_dir, duckdb_path, as_of, full_refresh=on_spark or config.full_refresh or full_refresh_requested()
        )
        check_configuration(settings.PROJECT_DIR, known_merchants=raw_merchant_ids(duckdb_path))
    except RawDataError as error:
        # The data contract message is the whole story: show it as the failure,
        # and leave it where `make run` prints it last (orchestration/run.py).
        record_refusal(duckdb_path, str(error))
        raise dg.Failure(
            description=str(error),
            metadata={"raw_data_dir": dg.MetadataValue.path(str(raw_dir))},
            allow_retries=False,
        ) from error

    # which path this build takes, and why (orchestration.incremental)
    context.log.info(f"Build path: {plan.describe()}")
    if on_spark:
        copy_raw_to_spark(context, duckdb_path)
    common = {
        "raw_data_dir": dg.MetadataValue.path(str(raw_dir)),
        "raw_fingerprint": fingerprint or "",
        "build_path": plan.path,
        "build_path_reasons": dg.MetadataValue.json(plan.reasons),
    }
    for table, meta in loaded.items():
        yield dg.MaterializeResult(
            asset_key=raw_asset_key(table),
            metadata={
                **common,
                "dagster/row_count": meta["rows"],
                "rejected_lines": meta["rejected_lines"],
                "format": meta["format"] or "none (no file: empty table)",
                "files": dg.MetadataValue.json(meta["files"]),
                "new_files": meta["new_files"],
                "new_rows": meta["new_rows"],
            },
        )
    yield dg.MaterializeResult(
        asset_key=raw_asset_key(REJECTED_LINES),
        metadata={**common, "dagster/row_count": sum(meta["rejected_lines"] for meta in loaded.values())},
    )
    yield dg.MaterializeResult(
        asset_key=raw_asset_key(LEDGER),
        metadata={**common, "dagster/row_count": len(plan.files),
                  "new_files": sum(len(paths) for paths in plan.new_files.values())},
    )
    yield dg.MaterializeResult(
        asset_key=raw_asset_key(PLAN),
        metadata={**common, "dagster/row_count": 1},
    )
    yield dg.MaterializeResult(
        asset_key=raw_asset_key(LOAD_LOG),
        metadata={**common, "dagster/row_count": len(loaded), "duckdb_path": dg.MetadataValue.path(str(duckdb_path))},
    )
    freshness = check_orders_freshness(as_of, duckdb_path)
    yield dg.AssetCheckResult(
        check_name="raw_orders_freshness",
        asset_key=raw_asset_key("orders"),
        passed=freshness.status == "pass",
        severity=dg.AssetCheckSeverity.ERROR if freshness.status == "error" else dg.AssetCheckSeverity.WARN,
        description=freshness.line(),
        metadata={"status": freshness.status, "age_days": freshness.age_days or -1.0},
    )
