"""Publish the mart and audit tables into the file BI tools read.

BI tools (Metabase, Superset, Evidence, Excel via ODBC ...) open a DuckDB file
and may keep it open for hours. They must never see a half-built table, and
their open handle must never block the next build. So they do not read the
working database dbt writes; they read a copy:

1. every table (and view, materialised as a table) of the published schemas
   is copied from the working database, opened read-only, into a temporary
   file beside the target, with table and column comments;
2. the temporary file is written in DuckDB storage format v1.0.0
   (``settings.PUBLISHED_STORAGE_VERSION``), which every DuckDB client since
   1.0 can open, whatever version a BI tool embeds;
3. it is then renamed onto the target path (``os.replace``: atomic on one
   filesystem). A reader that already had the old file open keeps reading the
   old one; the next connection sees the new one.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

import duckdb

from orchestration import settings

PUBLISHED_SCHEMAS: tuple[str, ...] = ("marts", "audit")


@dataclasses.dataclass(frozen=True)
class PublishedTable:
    schema: str
    name: str
    rows: int

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _wal_of(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _remove_quietly(*paths: Path) -> None:
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _relations(con: duckdb.DuckDBPyConnection, schemas: Sequence[str]) -> list[tuple[str, str, str | None]]:
    """(schema, name, comment) of every user table and view of the source's published schemas."""
    placeholders = ", ".join("?" for _ in schemas)
    return con.execute(
        f"""
        select schema_name, table_name, comment from duckdb_tables()
        where database_name = 'src' and schema_name in ({placeholders})
        union all
        select schema_name, view_name, comment from duckdb_views()
        where database_name = 'src' and schema_name in ({placeholders}) and not internal
        order by 1, 2
        """,
        [*schemas, *schemas],
    ).fetchall()


def _copy_comments(con: duckdb.DuckDBPyConnection, schema: str, name: str, comment: str | None) -> None:
    target = f"pub.{_ident(schema)}.{_ident(name)}"
    if comment:
        con.execute(f"comment on table {target} is {_literal(comment)}")
    columns = con.execute(
        "select column_name, comment from duckdb_columns() "
        "where database_name = 'src' and schema_name = ? and table_name = ? and comment is not null",
        [schema, name],
    ).fetchall()
    for column, column_comment in columns:
        if column_comment:
            con.execute(f"comment on column {target}.{_ident(column)} is {_literal(column_comment)}")


def publish(
    source_path: Path,
    target_path: Path,
    schemas: Sequence[str] = PUBLISHED_SCHEMAS,
    storage_version: str = settings.PUBLISHED_STORAGE_VERSION,
) -> list[PublishedTable]:
    """Copy every table of `schemas` from source_path into target_path, atomically.

    A schema the source does not have yet is published empty. Returns the
    tables copied with their row counts. On any error the previous published
    file is left untouched and the temporary file is removed.
    """
    source_path, target_path = Path(source_path), Path(target_path)
    if not source_path.is_file():
        raise FileNotFoundError(f"working database {source_path} does not exist; build the models first.")
    if source_path.resolve() == target_path.resolve():
        raise ValueError(f"PUBLISH_PATH must differ from DUCKDB_PATH (both are {source_path}).")
    if target_path.stem in schemas:
        # DuckDB names the database after the file: in marts.duckdb, "marts.customers"
        # would be ambiguous between the database and the schema.
        raise ValueError(
            f"PUBLISH_PATH {target_path}: a file named after a published schema makes "
            f"'{target_path.stem}.<table>' ambiguous in DuckDB; pick another name (e.g. lifecycle_marts.duckdb)."
        )

    target_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = target_path.with_name(f".{target_path.name}.{uuid.uuid4().hex[:12]}.tmp")
    published: list[PublishedTable] = []
    con = duckdb.connect(":memory:")
    try:
        try:
            con.execute(f"attach {_literal(str(source_path))} as src (read_only)")
        except duckdb.IOException as error:
            if "lock" in str(error).lower():
                raise RuntimeError(
                    f"cannot read {source_path}: another process is writing it (DuckDB allows one "
                    f"writer). Wait for the running build to finish. DuckDB said: {error}"
                ) from error
            raise
        con.execute(f"attach {_literal(str(tmp_path))} as pub (storage_version {_literal(storage_version)})")
        for schema in schemas:
            con.execute(f"create schema pub.{_ident(schema)}")
        for schema, name, comment in _relations(con, schemas):
            con.execute(
                f"create table pub.{_ident(schema)}.{_ident(name)} as "
                f"select * from src.{_ident(schema)}.{_ident(name)}"
            )
            _copy_comments(con, schema, name, comment)
            rows = con.execute(f"select count(*) from pub.{_ident(schema)}.{_ident(name)}").fetchone()[0]
            published.append(PublishedTable(schema, name, rows))
        con.execute("detach pub")
        con.execute("detach src")
        con.close()
        _fsync(tmp_path)
        # A WAL left beside the old file by a crashed writer would be replayed onto
        # the new file: remove it before the new file takes the name.
        _remove_quietly(_wal_of(target_path))
        os.replace(tmp_path, target_path)
    except BaseException:
        con.close()
        _remove_quietly(tmp_path, _wal_of(tmp_path))
        raise
    return published
