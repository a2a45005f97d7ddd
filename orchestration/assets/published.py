"""The published copy of the marts and audit tables that BI tools read."""

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from orchestration import settings
from orchestration.assets.config import DUCKDB_POOL
from orchestration.publish import PUBLISHED_SCHEMAS, publish

PUBLISHED_LAYERS = PUBLISHED_SCHEMAS  # dbt folders marts/ and audit/ build schemas of the same name


def build_published_marts(published_models: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    """The copy for BI tools, downstream of every model it copies (the marts and audit models)."""
    return dg.asset(
        name="published_marts",
        group_name="publish",
        deps=list(published_models),
        kinds={"duckdb"},
        pool=DUCKDB_POOL,
        description=(
            "Every table of the marts and audit schemas, copied from the working database into "
            "PUBLISH_PATH (DuckDB storage format v1.0.0, readable by every DuckDB client since 1.0) "
            "and swapped in atomically, so readers never see a half-built file."
        ),
    )(published_marts)


def copy_spark_marts(context: dg.AssetExecutionContext, duckdb_path: Path) -> None:
    """DBT_TARGET=spark: the Spark marts and audit tables copied into the working DuckDB file first
    (orchestration.spark export, a process of its own), so publishing and the summary read them as on DuckDB."""
    completed = subprocess.run([sys.executable, "-m", "orchestration.spark", "export", str(duckdb_path),
                                "--schemas", ",".join(PUBLISHED_SCHEMAS)],
                               cwd=settings.PROJECT_DIR, capture_output=True, text=True)
    if completed.returncode != 0:
        raise dg.Failure(description="copying the Spark marts into DuckDB failed: "
                                     + (completed.stderr.strip()[-3000:] or completed.stdout.strip()[-3000:]))
    context.log.info(f"{len(completed.stdout.split())} Spark tables copied into {duckdb_path}")


def published_marts(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    source, target = settings.duckdb_path(), settings.publish_path()
    if settings.dbt_target() == "spark":
        copy_spark_marts(context, source)
    tables = publish(source, target)
    if not tables:
        context.log.warning(f"no tables in schemas {', '.join(PUBLISHED_SCHEMAS)} yet; published them empty.")
    return dg.MaterializeResult(
        metadata={
            "publish_path": dg.MetadataValue.path(str(target)),
            "source_path": dg.MetadataValue.path(str(source)),
            "storage_version": settings.PUBLISHED_STORAGE_VERSION,
            "tables": len(tables),
            "dagster/row_count": sum(table.rows for table in tables),
            "row_counts": dg.MetadataValue.json({table.qualified_name: table.rows for table in tables}),
        }
    )
