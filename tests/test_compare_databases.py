"""tests/compare_databases.py: the before/after proof helper finds what differs, and only that."""

from __future__ import annotations

import duckdb

from tests.compare_databases import compare


def _database(path, rows, column="value"):
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(f"create table marts.t (id integer, {column} varchar)")
    con.executemany("insert into marts.t values (?, ?)", rows)
    con.close()
    return str(path)


def test_identical_tables_and_renamed_columns(tmp_path):
    before = _database(tmp_path / "before.duckdb", [(1, "a"), (2, "b"), (2, "b")])
    after = _database(tmp_path / "after.duckdb", [(2, "b"), (1, "a"), (2, "b")], column="renamed")
    assert compare(before, after, ["marts"], {"value": "renamed"}) == []
    assert compare(before, after, ["marts"], {}) != []          # the rename must be declared


def test_a_changed_or_duplicated_row_is_a_difference(tmp_path):
    before = _database(tmp_path / "before.duckdb", [(1, "a"), (2, "b")])
    changed = _database(tmp_path / "changed.duckdb", [(1, "a"), (2, "c")])
    duplicated = _database(tmp_path / "duplicated.duckdb", [(1, "a"), (2, "b"), (2, "b")])
    assert any("1 rows only before, 1 only after" in p for p in compare(before, changed, ["marts"], {}))
    assert any("rows 2 vs 3" in p for p in compare(before, duplicated, ["marts"], {}))


def test_additions_are_differences_unless_allowed(tmp_path):
    before = _database(tmp_path / "before.duckdb", [(1, "a")])
    after = _database(tmp_path / "after.duckdb", [(1, "a")])
    con = duckdb.connect(after)
    con.execute("alter table marts.t add column extra integer")
    con.execute("create table marts.new_table (id integer)")
    con.close()
    assert len(compare(before, after, ["marts"], {})) == 2
    assert compare(before, after, ["marts"], {}, allow_additions=True) == []
    # an addition never hides a removal: a column only before is still a difference
    assert compare(after, before, ["marts"], {}, allow_additions=True) != []
