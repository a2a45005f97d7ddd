"""Compare the marts and audit tables of two DuckDB files, row for row.

    .venv/bin/python tests/compare_databases.py BEFORE.duckdb AFTER.duckdb [--schemas marts,audit]
        [--rename before_column=after_column ...] [--allow-additions]

For every table of the schemas in either file: the same row count, and
EXCEPT ALL empty in both directions (duplicates count). Columns are matched
by name; --rename maps a column renamed on purpose. A table missing on one
side, or a column without a counterpart, is a difference; with
--allow-additions a table or column only AFTER is listed as added (a change
that adds outputs), and the table is compared on the columns it had before.
Exits 1 and prints what differs, else prints one line per table and exits 0.
"""

from __future__ import annotations

import argparse
import sys

import duckdb


def _tables(con, alias: str, schemas: list[str]) -> set[tuple[str, str]]:
    rows = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = ? and schema_name in "
        f"({', '.join('?' for _ in schemas)})",
        [alias, *schemas],
    ).fetchall()
    return set(rows)


def _columns(con, alias: str, schema: str, table: str) -> list[str]:
    return [row[0] for row in con.execute(
        "select column_name from duckdb_columns() where database_name = ? and schema_name = ? and table_name = ? "
        "order by column_index", [alias, schema, table]).fetchall()]


def compare(before: str, after: str, schemas: list[str], renames: dict[str, str],
            allow_additions: bool = False) -> list[str]:
    """The differences between the two files, as sentences (empty: identical)."""
    con = duckdb.connect()
    con.execute(f"attach '{before}' as before_db (read_only)")
    con.execute(f"attach '{after}' as after_db (read_only)")
    before_tables = _tables(con, "before_db", schemas)
    after_tables = _tables(con, "after_db", schemas)
    problems = [f"{s}.{t}: only in {before}" for s, t in sorted(before_tables - after_tables)]
    for s, t in sorted(after_tables - before_tables):
        if allow_additions:
            print(f"added     {s}.{t}")
        else:
            problems.append(f"{s}.{t}: only in {after}")
    for schema, table in sorted(before_tables & after_tables):
        name = f"{schema}.{table}"
        before_columns = _columns(con, "before_db", schema, table)
        after_columns = set(_columns(con, "after_db", schema, table))
        pairs = [(column, renames.get(column, column)) for column in before_columns]
        missing = [b for b, a in pairs if a not in after_columns]
        extra = sorted(after_columns - {a for _, a in pairs})
        if extra and allow_additions and not missing:
            print(f"added     {name} columns {extra}")
            extra = []
        if missing or extra:
            problems.append(f"{name}: columns only before {missing}, only after {extra}")
            continue
        before_select = ", ".join(f'"{b}"' for b, _ in pairs)
        after_select = ", ".join(f'"{a}"' for _, a in pairs)
        counts = [con.execute(f"select count(*) from {db}.{schema}.{table}").fetchone()[0]
                  for db in ("before_db", "after_db")]
        only_before = con.execute(
            f"select count(*) from (select {before_select} from before_db.{schema}.{table} "
            f"except all select {after_select} from after_db.{schema}.{table})").fetchone()[0]
        only_after = con.execute(
            f"select count(*) from (select {after_select} from after_db.{schema}.{table} "
            f"except all select {before_select} from before_db.{schema}.{table})").fetchone()[0]
        verdict = "identical" if counts[0] == counts[1] and only_before == only_after == 0 else "DIFFERENT"
        print(f"{verdict:9} {name}: rows {counts[0]} / {counts[1]}, only before {only_before}, only after {only_after}")
        if verdict != "identical":
            problems.append(f"{name}: rows {counts[0]} vs {counts[1]}, {only_before} rows only before, "
                            f"{only_after} only after")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--schemas", default="marts,audit")
    parser.add_argument("--rename", action="append", default=[], metavar="BEFORE=AFTER")
    parser.add_argument("--allow-additions", action="store_true",
                        help="tables and columns only in AFTER are additions, not differences")
    args = parser.parse_args(argv)
    renames = dict(item.split("=", 1) for item in args.rename)
    problems = compare(args.before, args.after, args.schemas.split(","), renames, args.allow_additions)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} difference(s) between {args.before} and {args.after}: see above.")
        return 1
    print(f"no differences in schemas {args.schemas}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
