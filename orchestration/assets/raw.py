"""Raw landing: the assets upstream of the dbt source `raw`.

One asset per raw table, keyed exactly as dagster-dbt keys the source tables
(``raw/<table>``), so every staging model hangs off the table it reads. A
single step produces them all because the landing replaces the raw schema in
one transaction.

Demo data is not made here: orchestration.assets.demo generates it, as its
own step upstream of this one, and only into the default landing folder.
"""

import hashlib
from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from orchestration import settings
from orchestration.assets.config import DUCKDB_POOL
from orchestration.assets.freshness import BUILT_TODAY
from orchestration.landing import ENTITIES, RawDataError, land_raw_data

RAW_SOURCE = "raw"
LOAD_LOG = "_load_log"
RAW_TABLES: tuple[str, ...] = (*(entity.name for entity in ENTITIES), LOAD_LOG)


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
        return "One row per raw entity of the last load: files read, row count, load time."
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
    return dg.multi_asset(name="raw_landing", specs=specs, pool=DUCKDB_POOL)(raw_landing)


def raw_landing(context: dg.AssetExecutionContext):
    """Land RAW_DATA_DIR into the `raw` schema."""
    raw_dir = settings.raw_data_dir()
    duckdb_path = settings.duckdb_path()
    fingerprint = raw_dir_fingerprint(raw_dir)

    try:
        loaded = land_raw_data(raw_dir, duckdb_path)
    except RawDataError as error:
        # The data contract message is the whole story: show it as the failure.
        raise dg.Failure(
            description=str(error),
            metadata={"raw_data_dir": dg.MetadataValue.path(str(raw_dir))},
            allow_retries=False,
        ) from error

    common = {
        "raw_data_dir": dg.MetadataValue.path(str(raw_dir)),
        "raw_fingerprint": fingerprint or "",
    }
    for table, meta in loaded.items():
        yield dg.MaterializeResult(
            asset_key=raw_asset_key(table),
            metadata={
                **common,
                "dagster/row_count": meta["rows"],
                "format": meta["format"] or "none (no file: empty table)",
                "files": dg.MetadataValue.json(meta["files"]),
            },
        )
    yield dg.MaterializeResult(
        asset_key=raw_asset_key(LOAD_LOG),
        metadata={**common, "dagster/row_count": len(loaded), "duckdb_path": dg.MetadataValue.path(str(duckdb_path))},
    )
