"""Raw landing: copy the files in RAW_DATA_DIR into the `raw` schema of DuckDB.

This is the contract between a user's exports and the dbt sources:

* one Parquet or CSV file, or a folder of them, per entity
  (``orders.parquet``, ``orders.csv``, ``orders/part-*.parquet`` ...);
* ``orders`` is required, every other entity is optional: a missing optional
  file lands as an empty table with the full column set;
* each entity has required columns (a file missing one fails fast, naming the
  file and the expected columns) and optional columns (absent ones land as
  nulls); other columns are ignored;
* every value lands as text. Parsing happens in dbt staging, where a value
  that does not parse sends its row to quarantine with a reason instead of
  failing the load. Each row gets ``_raw_row_id`` (unique per entity, in file
  order; 1..n for a single file) and ``_source_file``, so any quarantined row
  can be traced to its origin;
* Parquet lands as a view over the files (no copy); CSV is parsed once into a
  table. See DECISIONLOG.md.

The load replaces all raw relations in one transaction, so dbt never sees a
mix of old and new definitions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import duckdb

from orchestration import settings


@dataclasses.dataclass(frozen=True)
class Entity:
    name: str
    required_columns: tuple[str, ...]
    optional_columns: tuple[str, ...] = ()
    required: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required_columns + self.optional_columns

    def describe(self) -> str:
        text = "expected columns: " + ", ".join(self.required_columns)
        if self.optional_columns:
            text += " (optional: " + ", ".join(self.optional_columns) + ")"
        return text


ENTITIES: tuple[Entity, ...] = (
    Entity(
        "orders",
        required_columns=("order_id", "customer_id", "ordered_at", "amount"),
        optional_columns=("merchant_id", "currency", "status", "cost"),
        required=True,
    ),
    Entity(
        "customers",
        required_columns=("customer_id", "registered_at"),
        optional_columns=("merchant_id", "acquisition_channel", "industry", "email", "phone"),
    ),
    Entity("merchants", required_columns=("merchant_id", "industry"), optional_columns=("name",)),
    Entity(
        "interactions",
        required_columns=("customer_id", "occurred_at", "interaction_type"),
        optional_columns=("interaction_id", "merchant_id", "rating", "reason"),
    ),
    Entity("acquisition_costs", required_columns=("acquisition_channel", "month", "spend")),
)
ENTITY_BY_NAME = {entity.name: entity for entity in ENTITIES}

_SUFFIXES = {".parquet": "parquet", ".csv": "csv", ".csv.gz": "csv", ".tsv": "csv"}


class RawDataError(ValueError):
    """The raw landing folder does not meet the data contract."""


def _format_of(path: Path) -> str | None:
    name = path.name.lower()
    for suffix, fmt in _SUFFIXES.items():
        if name.endswith(suffix):
            return fmt
    return None


def find_entity_files(raw_dir: Path, entity: Entity) -> tuple[str, list[Path]] | None:
    """Return (format, files) for an entity, or None when it has no file.

    Accepts ``<entity>.<ext>`` or a folder ``<entity>/`` holding files of one
    format. Two candidates for one entity (say orders.csv and orders.parquet)
    are ambiguous and rejected rather than silently picking one.
    """
    candidates: list[Path] = [
        path
        for path in sorted(raw_dir.glob(f"{entity.name}.*"))
        if path.is_file() and _format_of(path) is not None
    ]
    folder = raw_dir / entity.name
    if folder.is_dir():
        candidates.append(folder)
    if not candidates:
        return None
    if len(candidates) > 1:
        names = ", ".join(str(c) for c in candidates)
        raise RawDataError(f"{entity.name}: found more than one source ({names}); keep exactly one.")
    source = candidates[0]
    if source.is_file():
        return _format_of(source), [source]
    files = sorted(p for p in source.rglob("*") if p.is_file() and _format_of(p) is not None)
    formats = {_format_of(p) for p in files}
    if not files:
        return None
    if len(formats) > 1:
        raise RawDataError(f"{entity.name}: folder {source} mixes CSV and Parquet files; use one format.")
    return formats.pop(), files


def _quoted_list(files: list[Path]) -> str:
    return "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"


def _reader_sql(fmt: str, files: list[Path]) -> str:
    if fmt == "parquet":
        return (
            f"read_parquet({_quoted_list(files)}, union_by_name = true, filename = '_source_file', "
            "file_row_number = true)"
        )
    # all_varchar: a CSV's values stay text, so a bad timestamp is quarantined in
    # staging instead of failing (or being guessed at) during the load.
    return (
        f"read_csv({_quoted_list(files)}, header = true, all_varchar = true, union_by_name = true, "
        "filename = '_source_file')"
    )


def _row_id_sql(fmt: str, files: list[Path]) -> str:
    """A stable, unique row id in file order.

    Parquet: the reader's own row number, offset by 10^12 per file for a folder
    of files, so it does not depend on scan order. CSV has no such number; its
    rows are numbered once while the landing step copies it into a table.
    """
    if fmt == "parquet":
        if len(files) == 1:
            return "file_row_number + 1"
        return f"(list_position({_quoted_list(files)}, _source_file) - 1) * 1000000000000 + file_row_number + 1"
    return "row_number() over ()"


def _select_for(entity: Entity, fmt: str, files: list[Path], con: duckdb.DuckDBPyConnection) -> str:
    reader = _reader_sql(fmt, files)
    present = {row[0].lower(): row[0] for row in con.execute(f"describe select * from {reader}").fetchall()}
    missing = [c for c in entity.required_columns if c not in present]
    if missing:
        shown = files[0] if len(files) == 1 else files[0].parent
        raise RawDataError(
            f"{entity.name}: {shown} is missing required column(s) {', '.join(missing)}; "
            f"{entity.describe()}."
        )
    columns = []
    for column in entity.columns:
        if column in present:
            columns.append(f'cast("{present[column]}" as varchar) as {column}')
        else:
            columns.append(f"cast(null as varchar) as {column}")
    return (
        f"select cast({_row_id_sql(fmt, files)} as bigint) as _raw_row_id, "
        + ", ".join(columns)
        + ", cast(_source_file as varchar) as _source_file"
        + f" from {reader}"
    )


def _empty_select(entity: Entity) -> str:
    columns = ", ".join(f"cast(null as varchar) as {c}" for c in entity.columns)
    return f"select cast(null as bigint) as _raw_row_id, {columns}, cast(null as varchar) as _source_file limit 0"


def connect(duckdb_path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the project database, explaining DuckDB's single-writer lock."""
    duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    config = {} if read_only else {"storage_compatibility_version": settings.STORAGE_COMPATIBILITY_VERSION}
    try:
        con = duckdb.connect(str(duckdb_path), read_only=read_only, config=config)
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise RuntimeError(
                f"{duckdb_path} is open in another process (DuckDB allows one writer or many "
                "readers). Close notebooks/BI connections to it, or point them at the published "
                f"copy, and wait for any running build to finish. DuckDB said: {error}"
            ) from error
        raise
    con.execute("set TimeZone = 'UTC'")
    return con


def land_raw_data(raw_dir: Path, duckdb_path: Path) -> dict[str, dict]:
    """Load every entity of raw_dir into raw.<entity>; return per-entity metadata."""
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise RawDataError(f"RAW_DATA_DIR {raw_dir} does not exist or is not a folder.")

    con = connect(Path(duckdb_path))
    try:
        selects: dict[str, tuple[str, dict]] = {}
        for entity in ENTITIES:
            found = find_entity_files(raw_dir, entity)
            if found is None:
                if entity.required:
                    raise RawDataError(
                        f"{entity.name}: no {entity.name}.parquet, {entity.name}.csv or "
                        f"{entity.name}/ folder in {raw_dir}; {entity.describe()}."
                    )
                selects[entity.name] = (_empty_select(entity), {"files": [], "format": None})
                continue
            fmt, files = found
            selects[entity.name] = (
                _select_for(entity, fmt, [f.resolve() for f in files], con),
                {"files": [str(f.resolve()) for f in files], "format": fmt},
            )

        loaded_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        con.execute("begin transaction")
        con.execute("create schema if not exists raw")
        for name, (sql, meta) in selects.items():
            # Parquet is already typed and columnar: a view reads it in place (no
            # copy of millions of rows). CSV is parsed once, as text, into a table.
            kind = "view" if meta["format"] == "parquet" else "table"
            existing = con.execute(
                "select table_type from information_schema.tables where table_schema = 'raw' and table_name = ?",
                [name],
            ).fetchone()
            if existing is not None:
                con.execute(f"drop {'view' if existing[0] == 'VIEW' else 'table'} raw.{name}")
            con.execute(f"create {kind} raw.{name} as {sql}")
            meta["rows"] = con.execute(f"select count(*) from raw.{name}").fetchone()[0]
        con.execute(
            "create or replace table raw._load_log (entity varchar, source_format varchar, "
            "source_files varchar, rows bigint, loaded_at timestamp)"
        )
        con.executemany(
            "insert into raw._load_log values (?, ?, ?, ?, ?)",
            [
                (name, meta["format"], "; ".join(meta["files"]), meta["rows"], loaded_at)
                for name, (_, meta) in selects.items()
            ],
        )
        con.execute("commit")
        return {name: meta for name, (_, meta) in selects.items()}
    except Exception:
        try:
            con.execute("rollback")
        except duckdb.Error:
            pass
        raise
    finally:
        con.close()


def raw_dir_has_orders(raw_dir: Path) -> bool:
    try:
        return find_entity_files(Path(raw_dir), ENTITY_BY_NAME["orders"]) is not None
    except RawDataError:
        return True  # something is there; let the load report the problem
