"""Read every table of a DuckDB file and print a fingerprint of each, as JSON.

Run by the interpreters of old DuckDB clients (1.0 onwards) as well as by the
project's own, so it imports nothing but the standard library and `duckdb`,
and uses only what DuckDB 1.0's Python API already had.

    python published_file_reader.py FILE [SCHEMA ...]

prints {"duckdb_version": ..., "tables": {"schema.table": {"rows": n,
"columns": [[name, type], ...], "checksum": sha256}}}. The checksum is over
the rows in a canonical text form, sorted, so it does not depend on the order
a scan returns rows in, nor on how a client version formats a value in SQL.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import sys


def canonical(value) -> str:
    """One value as text that every client version produces alike."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(canonical(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{key}:{canonical(item)}" for key, item in sorted(value.items())) + "}"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def fingerprint(con, schema: str, table: str) -> dict:
    name = f'"{schema}"."{table}"'
    columns = con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where database_name = current_database() and schema_name = ? and table_name = ? order by column_index",
        [schema, table],
    ).fetchall()
    rows = sorted("\t".join(canonical(value) for value in row) for row in con.execute(f"select * from {name}").fetchall())
    digest = hashlib.sha256()
    for row in rows:
        digest.update(row.encode("utf-8"))
        digest.update(b"\n")
    return {"rows": len(rows), "columns": [list(column) for column in columns], "checksum": digest.hexdigest()}


def read_file(path: str, schemas: list[str]) -> dict:
    import duckdb

    con = duckdb.connect(path, read_only=True)
    try:
        placeholders = ", ".join("?" for _ in schemas)
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            f"where database_name = current_database() and schema_name in ({placeholders}) order by 1, 2",
            schemas,
        ).fetchall()
        return {
            "duckdb_version": duckdb.__version__,
            "tables": {f"{schema}.{table}": fingerprint(con, schema, table) for schema, table in tables},
        }
    finally:
        con.close()


if __name__ == "__main__":
    print(json.dumps(read_file(sys.argv[1], sys.argv[2:] or ["marts", "audit"])))
