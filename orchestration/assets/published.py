"""The published copy of the marts and audit tables that BI tools read."""

from collections.abc import Sequence

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


def published_marts(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    source, target = settings.duckdb_path(), settings.publish_path()
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
