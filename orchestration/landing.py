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
* a CSV line that cannot be parsed (wrong field count, unclosed quote, an
  invalid byte, a NUL) does not stop the load: it lands in
  ``raw._rejected_lines`` with its file, line number, text and reason, and
  staging quarantines it (orchestration/raw_csv.py reads CSV files);
* a file that cannot be read at all (empty, header only, corrupt gzip,
  unknown delimiter, missing columns, undeclared non-UTF-8 encoding, two
  sources for one entity) raises RawDataError, whose message names the file,
  the problem and what to do;
* Parquet lands as a view over the files (no copy); CSV is parsed once into a
  table. See DECISIONLOG.md.

The load replaces all raw relations in one transaction, so dbt never sees a
mix of old and new definitions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import tempfile
import zlib
from pathlib import Path

import duckdb

from orchestration import incremental, raw_csv, settings

LOAD_LOG = "_load_log"
REJECTED_LINES = "_rejected_lines"
# Row ids of a folder's n-th file start at n x 10^12, so they never depend on scan order.
FILE_ROW_ID_STRIDE = 1_000_000_000_000


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
    """Input or configuration the pipeline refuses.

    The one exception type for a refusal: its message names the file (or the
    setting), says what is wrong and what to do, in one paragraph, so it can
    be the last thing a user reads (`make run`) and the failure text in the
    Dagster UI.
    """


REFUSAL_FILE = "last_refusal.txt"


def refusal_path(duckdb_path: Path) -> Path:
    """Where a refusal's text is written, beside the working database, for `make run` to print last."""
    return Path(duckdb_path).parent / REFUSAL_FILE


def record_refusal(duckdb_path: Path, message: str) -> None:
    path = refusal_path(duckdb_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(message.rstrip() + "\n", encoding="utf-8")


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
        raise RawDataError(
            f"{entity.name}: found more than one source ({names}). Keep exactly one of them in "
            f"{raw_dir} (move the others out), so it is clear which is the {entity.name} export."
        )
    source = candidates[0]
    if source.is_file():
        return _format_of(source), [source]
    files = sorted(p for p in source.rglob("*") if p.is_file() and _format_of(p) is not None)
    formats = {_format_of(p) for p in files}
    if not files:
        return None
    if len(formats) > 1:
        raise RawDataError(
            f"{entity.name}: folder {source} mixes CSV and Parquet files. Keep files of one format in it."
        )
    return formats.pop(), files


def _quoted_list(files: list[Path]) -> str:
    return "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"


def _parquet_select(entity: Entity, files: list[Path], con: duckdb.DuckDBPyConnection) -> str:
    """A view's select over the Parquet files, every column cast to text.

    The row id is the reader's own row number, offset by 10^12 per file for a
    folder of files, so it does not depend on scan order.
    """
    reader = (
        f"read_parquet({_quoted_list(files)}, union_by_name = true, filename = '_source_file', "
        "file_row_number = true)"
    )
    shown = files[0] if len(files) == 1 else files[0].parent
    try:
        described = con.execute(f"describe select * from {reader}").fetchall()
    except duckdb.Error as error:
        first_line = str(error).splitlines()[0]
        raise RawDataError(
            f"{entity.name}: {shown} cannot be read as Parquet ({first_line}). Export it again, or "
            "replace it with a CSV export."
        ) from error
    present = {row[0].lower(): row[0] for row in described}
    missing = [c for c in entity.required_columns if c not in present]
    if missing:
        found = ", ".join(name for name in present if name not in ("_source_file", "file_row_number"))
        raise RawDataError(
            f"{entity.name}: {shown} is missing required column(s) {', '.join(missing)}: it has {found}; "
            f"{entity.describe()}. Rename or add the column(s) in the export."
        )
    row_id = (
        "file_row_number + 1"
        if len(files) == 1
        else f"(list_position({_quoted_list(files)}, _source_file) - 1) * {FILE_ROW_ID_STRIDE} + file_row_number + 1"
    )
    columns = [
        f'cast("{present[c]}" as varchar) as {c}' if c in present else f"cast(null as varchar) as {c}"
        for c in entity.columns
    ]
    return (
        f"select cast({row_id} as bigint) as _raw_row_id, {', '.join(columns)}, "
        f"cast(_source_file as varchar) as _source_file from {reader}"
    )


def _inspect_csv_files(entity: Entity, files: list[Path], declared: str | None,
                       refuse_header_only: bool = True) -> list[raw_csv.CsvFile]:
    inspected = []
    for path in files:
        try:
            inspected.append(raw_csv.inspect(path, entity.columns, entity.required_columns, declared))
        except raw_csv.CsvRefused as error:
            text = str(error).replace("{entity}", entity.name).replace("{expected}", entity.describe())
            raise RawDataError(f"{entity.name}: {path} {text}") from error
    if refuse_header_only and entity.required and all(f.header_only for f in inspected):
        shown = files[0] if len(files) == 1 else files[0].parent
        raise RawDataError(
            f"{entity.name}: {shown} has a header but no rows. Export the {entity.name} again (the "
            "export may have been cut short), or point RAW_DATA_DIR at the folder with the data."
        )
    return inspected


def _land_csv(con: duckdb.DuckDBPyConnection, entity: Entity, table: str,
              csv_files: list[tuple[int, raw_csv.CsvFile]], work_dir: Path) -> list[tuple]:
    """Insert the files' rows into `table`; return its rejected lines as raw._rejected_lines rows.

    Runs outside the swap transaction, one autocommitted statement at a time,
    so a file DuckDB cannot parse (say, mixed line endings) only costs that
    statement and the file is read line by line instead.

    Row ids: the row's position in its file, plus 10^12 per file position in
    the folder (1..n for a single file); a rejected line's id is minus its
    file offset plus line number, so ids stay unique across both tables.
    csv_files pairs each file with its position among all of the entity's
    files, so an incremental landing numbers rows as a full one does.
    """
    rejected_rows: list[tuple] = []
    for index, csv_file in csv_files:
        offset = index * FILE_ROW_ID_STRIDE
        source = str(csv_file.path).replace("'", "''")
        rejects_table = f"_rejects_{entity.name}_{index}"
        fallback = csv_file.native_encoding is None

        def insert(reader: str, csv_file=csv_file, offset=offset, source=source) -> None:
            present = set(csv_file.columns)
            columns = ", ".join(
                f'"{c}" as {c}' if c in present else f"cast(null as varchar) as {c}" for c in entity.columns
            )
            con.execute(
                f"insert into {table} select cast({offset} + row_number() over () as bigint), "
                f"{columns}, '{source}' from {reader}"
            )

        rejected: list[raw_csv.RejectedLine] = []
        if not fallback:
            try:
                insert(raw_csv.reader_sql(csv_file, rejects=rejects_table))
                rejected, fallback = raw_csv.native_rejects(con, rejects_table)
            except duckdb.Error:
                fallback = True  # nothing was inserted: the statement failed as a whole
            con.execute(f"drop table if exists {rejects_table}")
            con.execute(f"drop table if exists {rejects_table}_scan")
            if not fallback:
                # DuckDB keeps a NUL character as text; such a file is read line by line.
                nul_test = " or ".join(f"contains({c}, chr(0))" for c in entity.columns)
                fallback = con.execute(
                    f"select count(*) > 0 from {table} where _source_file = '{source}' and ({nul_test})"
                ).fetchone()[0]
            if fallback:
                con.execute(f"delete from {table} where _source_file = '{source}'")
        if fallback:
            clean = work_dir / f"{entity.name}_{index}.csv"
            try:
                rejected = raw_csv.rewrite_line_by_line(csv_file, clean)
            except (OSError, EOFError, zlib.error) as error:  # a .gz corrupt past the part inspected
                raise RawDataError(
                    f"{entity.name}: {csv_file.path} cannot be decompressed ({error}); it is not a readable "
                    "gzip file. Export it again, or compress it with gzip."
                ) from error
            cleaned = dataclasses.replace(csv_file, encoding="utf-8", delimiter=",")
            insert(raw_csv.reader_sql(cleaned, path=clean))
            clean.unlink()
        rejected_rows += [
            (entity.name, -(offset + r.line_number), str(csv_file.path), r.line_number, r.raw_line, r.reason, r.detail)
            for r in rejected
        ]
    return rejected_rows


def _create_entity_table(con: duckdb.DuckDBPyConnection, entity: Entity, table: str) -> None:
    columns = ", ".join(f"{c} varchar" for c in entity.columns)
    con.execute(f"create or replace table {table} (_raw_row_id bigint, {columns}, _source_file varchar)")


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


def parse_encodings(value: str) -> dict[str, str]:
    """RAW_CSV_ENCODING: one encoding for every CSV (``latin-1``) or per entity
    (``orders=gb18030,customers=latin-1``); the first form is keyed ``"*"``."""
    value = (value or "").strip()
    if not value:
        return {}
    pairs: dict[str, str] = {}
    for part in (p.strip() for p in value.split(",") if p.strip()):
        entity, sep, name = part.partition("=")
        if not sep:
            entity, name = "*", part
        entity = entity.strip().lower()
        if entity != "*" and entity not in ENTITY_BY_NAME:
            raise RawDataError(
                f"RAW_CSV_ENCODING: {entity!r} is not an entity (expected one of "
                f"{', '.join(ENTITY_BY_NAME)}). Write it as entity=encoding, e.g. orders=gb18030."
            )
        try:
            pairs[entity] = raw_csv.normalise_encoding(name)
        except LookupError:
            raise RawDataError(
                f"RAW_CSV_ENCODING: {name.strip()!r} is not an encoding Python knows. Use a name such "
                "as utf-8, utf-16, latin-1, cp1252, gbk or gb18030."
            ) from None
    return pairs


def land_raw_data(raw_dir: Path, duckdb_path: Path, encodings: dict[str, str] | None = None) -> dict[str, dict]:
    """Load every entity of raw_dir into raw.<entity> in full; return per-entity metadata.

    encodings: declared CSV encodings per entity (``"*"`` for all); by default
    from RAW_CSV_ENCODING. Undeclared files are detected (orchestration.raw_csv).
    Refusals raise RawDataError before the database is changed. The next dbt
    build stages every file again (a full landing; see land_for_build).
    """
    return land_for_build(raw_dir, duckdb_path, settings.as_of_date(), True, encodings)[1]


def land_for_build(
    raw_dir: Path,
    duckdb_path: Path,
    as_of: dt.date,
    full_refresh: bool = False,
    encodings: dict[str, str] | None = None,
) -> tuple[incremental.BuildPlan, dict[str, dict]]:
    """Land raw_dir for a build as of `as_of`: in full, or only the files not staged yet.

    orchestration.incremental.plan_build decides the path (full_refresh asks
    for a full one); the plan is recorded in raw._landed_files and
    raw._build_plan, where the staging models and the dbt step read it.
    Incremental: CSV files already landed keep their rows and only new files
    are parsed; Parquet stays a view over every file. Returns (plan,
    per-entity metadata).
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise RawDataError(
            f"RAW_DATA_DIR {raw_dir} does not exist or is not a folder. Create it and put the exports "
            "there (at least orders.csv or orders.parquet), or set RAW_DATA_DIR to the right folder."
        )
    if encodings is None:
        encodings = parse_encodings(settings.raw_csv_encoding())

    # Everything that can be refused is checked before the database is touched.
    found_files: dict[str, tuple[str | None, list[Path]]] = {}
    for entity in ENTITIES:
        found = find_entity_files(raw_dir, entity)
        if found is None:
            if entity.required:
                raise RawDataError(
                    f"{entity.name}: no {entity.name}.parquet, {entity.name}.csv or {entity.name}/ folder "
                    f"in {raw_dir}; {entity.describe()}. Put the orders export there, or set "
                    "RAW_DATA_DIR to the folder that has it."
                )
            found_files[entity.name] = (None, [])
            continue
        fmt, files = found
        found_files[entity.name] = (fmt, [f.resolve() for f in files])
    state = connect(Path(duckdb_path), read_only=True) if Path(duckdb_path).exists() else None
    try:
        plan = incremental.plan_build(
            state, {name: files for name, (_, files) in found_files.items()}, as_of, raw_dir, full_refresh
        )
    finally:
        if state is not None:
            state.close()
    # The files to parse now: all of them in a full landing, else the new ones.
    plans: dict[str, tuple[str | None, list[Path], list[tuple[int, raw_csv.CsvFile]]]] = {}
    for entity in ENTITIES:
        fmt, files = found_files[entity.name]
        new = set(plan.new_files.get(entity.name, []))
        inspected: list[tuple[int, raw_csv.CsvFile]] = []
        if fmt == "csv":
            declared = encodings.get(entity.name) or encodings.get("*")
            positions = [i for i, f in enumerate(files) if str(f) in new]
            csv_files = _inspect_csv_files(entity, [files[i] for i in positions], declared,
                                           refuse_header_only=plan.full_refresh)
            inspected = list(zip(positions, csv_files, strict=True))
        plans[entity.name] = (fmt, files, inspected)

    with duckdb.connect() as scratch:
        parquet_selects = {
            name: _parquet_select(ENTITY_BY_NAME[name], files, scratch)
            for name, (fmt, files, _) in plans.items()
            if fmt == "parquet"
        }

    con = connect(Path(duckdb_path))
    work_dir = Path(tempfile.mkdtemp(prefix=".landing-", dir=Path(duckdb_path).resolve().parent))
    staged: list[str] = []
    try:
        # CSV (and empty entities) are parsed into raw.__landing_<entity> first,
        # then swapped in (full) or appended (incremental) with everything else
        # in one transaction.
        con.execute("create schema if not exists raw")
        rejected: list[tuple] = []
        for entity in ENTITIES:
            fmt, _, csv_files = plans[entity.name]
            if fmt == "parquet" or (not plan.full_refresh and not csv_files):
                continue
            table = f"raw.__landing_{entity.name}"
            staged.append(table)
            _create_entity_table(con, entity, table)
            rejected += _land_csv(con, entity, table, csv_files, work_dir)

        loaded_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        metas: dict[str, dict] = {}
        con.execute("begin transaction")
        if plan.full_refresh:
            existing = con.execute(
                "select table_name, table_type from information_schema.tables where table_schema = 'raw'"
            ).fetchall()
            for name, kind in existing:
                if name in plans or name in (LOAD_LOG, REJECTED_LINES):
                    con.execute(f"drop {'view' if kind == 'VIEW' else 'table'} raw.{name}")
            con.execute(
                f"create table raw.{REJECTED_LINES} (entity varchar, _raw_row_id bigint, _source_file varchar, "
                "line_number bigint, raw_line varchar, reason varchar, detail varchar)"
            )
        for entity in ENTITIES:
            fmt, files, csv_files = plans[entity.name]
            # Parquet is already typed and columnar: a view reads it in place (no
            # copy of millions of rows). CSV is parsed once, as text, into a table.
            if fmt == "parquet":
                # (an entity that had no file was an empty table)
                if con.execute(
                    "select count(*) from information_schema.tables where table_schema = 'raw' "
                    "and table_name = ? and table_type <> 'VIEW'", [entity.name]
                ).fetchone()[0]:
                    con.execute(f"drop table raw.{entity.name}")
                con.execute(f"create or replace view raw.{entity.name} as {parquet_selects[entity.name]}")
            elif plan.full_refresh:
                con.execute(f"alter table raw.__landing_{entity.name} rename to {entity.name}")
            elif csv_files:
                # new files only: their rows join the rows landed before (a file
                # staged by a failed build is replaced, not doubled)
                sources = _quoted_list([c.path for _, c in csv_files])
                con.execute(f"delete from raw.{entity.name} where _source_file in {sources}")
                con.execute(f"delete from raw.{REJECTED_LINES} where _source_file in {sources}")
                con.execute(f"insert into raw.{entity.name} select * from raw.__landing_{entity.name}")
                con.execute(f"drop table raw.__landing_{entity.name}")
            new_files = plan.new_files.get(entity.name, [])
            rows = con.execute(f"select count(*) from raw.{entity.name}").fetchone()[0]
            metas[entity.name] = {
                "files": [str(f) for f in files],
                "new_files": len(new_files),
                "new_rows": rows if plan.full_refresh else con.execute(
                    f"select count(*) from raw.{entity.name} where _source_file in {_quoted_list(new_files)}"
                ).fetchone()[0] if new_files else 0,
                "format": fmt,
                "rows": rows,
                "rejected_lines": sum(1 for r in rejected if r[0] == entity.name),
                "encodings": sorted({f.encoding for _, f in csv_files}),
            }
        if rejected:
            con.executemany(f"insert into raw.{REJECTED_LINES} values (?, ?, ?, ?, ?, ?, ?)", rejected)
        for name in metas:
            metas[name]["rejected_lines"] = con.execute(
                f"select count(*) from raw.{REJECTED_LINES} where entity = ?", [name]).fetchone()[0]
        con.execute(
            f"create or replace table raw.{LOAD_LOG} (entity varchar, source_format varchar, source_files varchar, "
            "rows bigint, rejected_lines bigint, loaded_at timestamp)"
        )
        con.executemany(
            f"insert into raw.{LOAD_LOG} values (?, ?, ?, ?, ?, ?)",
            [
                (name, meta["format"], "; ".join(meta["files"]), meta["rows"], meta["rejected_lines"], loaded_at)
                for name, meta in metas.items()
            ],
        )
        incremental.write_ledger(con, plan)
        con.execute("commit")
        return plan, metas
    except Exception:
        try:
            con.execute("rollback")
        except duckdb.Error:
            pass
        for table in staged:
            con.execute(f"drop table if exists {table}")
        raise
    finally:
        con.close()
        shutil.rmtree(work_dir, ignore_errors=True)


def raw_dir_has_orders(raw_dir: Path) -> bool:
    try:
        return find_entity_files(Path(raw_dir), ENTITY_BY_NAME["orders"]) is not None
    except RawDataError:
        return True  # something is there; let the load report the problem
