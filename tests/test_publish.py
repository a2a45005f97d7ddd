"""Publishing the marts: a real DuckDB file in, a copy in the published storage format swapped in atomically."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration import settings
from orchestration.publish import PublishedTable, publish


def make_working_db(path: Path, customers: int = 3) -> Path:
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts; create schema audit; create schema staging")
        con.execute(
            f"create table marts.customers as "
            f"select range as customer_id, 'active' as stage from range({customers})"
        )
        con.execute("comment on table marts.customers is 'One row per customer.'")
        con.execute("comment on column marts.customers.stage is 'Lifecycle stage as of the as-of date.'")
        con.execute("create table audit.row_reconciliation (entity varchar, raw_rows bigint)")
        con.execute("insert into audit.row_reconciliation values ('orders', 10), ('customers', 4)")
        con.execute("create view marts.active_customers as select * from marts.customers where stage = 'active'")
        con.execute("create table staging.not_published as select 1 as x")
    finally:
        con.close()
    return path


def read_tables(path: Path) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database()"
        ).fetchall()
        return {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in names}
    finally:
        con.close()


def test_publishes_every_table_of_marts_and_audit_only(tmp_path):
    source = make_working_db(tmp_path / "work.duckdb")
    target = tmp_path / "bi" / "published.duckdb"

    published = publish(source, target)

    assert sorted(published, key=lambda t: t.qualified_name) == [
        PublishedTable("audit", "row_reconciliation", 2),
        PublishedTable("marts", "active_customers", 3),
        PublishedTable("marts", "customers", 3),
    ]
    # Views are materialised: the published file stands alone.
    assert read_tables(target) == {
        "audit.row_reconciliation": 2,
        "marts.active_customers": 3,
        "marts.customers": 3,
    }
    assert [p.name for p in target.parent.iterdir()] == ["published.duckdb"], "no temp files left behind"


def count_in_new_process(path: Path, table: str) -> int:
    """Row count seen by a fresh reader (another process: DuckDB shares open files within one)."""
    code = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
        f"print(con.execute('select count(*) from {table}').fetchone()[0])"
    )
    completed = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    return int(completed.stdout)


def test_published_file_is_in_the_published_format_and_keeps_comments(tmp_path):
    target = tmp_path / "published.duckdb"
    publish(make_working_db(tmp_path / "work.duckdb"), target)

    con = duckdb.connect(str(target), read_only=True)
    try:
        tags = con.execute("select tags from duckdb_databases() where database_name = current_database()").fetchone()[0]
        assert tags["storage_version"].startswith(settings.PUBLISHED_STORAGE_VERSION)
        assert con.execute(
            "select comment from duckdb_tables() where table_name = 'customers'"
        ).fetchone()[0] == "One row per customer."
        assert con.execute(
            "select comment from duckdb_columns() where table_name = 'customers' and column_name = 'stage'"
        ).fetchone()[0] == "Lifecycle stage as of the as-of date."
    finally:
        con.close()


def test_no_marts_yet_publishes_empty_schemas(tmp_path):
    source = tmp_path / "work.duckdb"
    duckdb.connect(str(source)).close()
    target = tmp_path / "published.duckdb"

    assert publish(source, target) == []

    con = duckdb.connect(str(target), read_only=True)
    try:
        schemas = {row[0] for row in con.execute("select schema_name from duckdb_schemas()").fetchall()}
    finally:
        con.close()
    assert {"marts", "audit"} <= schemas
    assert read_tables(target) == {}


def test_replaces_the_file_atomically_while_a_reader_holds_the_old_one(tmp_path):
    source = tmp_path / "work.duckdb"
    target = tmp_path / "published.duckdb"
    make_working_db(source, customers=3)
    publish(source, target)
    old_inode = target.stat().st_ino

    reader = duckdb.connect(str(target), read_only=True)  # a BI tool keeping the file open
    try:
        source.unlink()
        make_working_db(source, customers=5)
        publish(source, target)

        # The old reader still sees a complete old snapshot; new readers see the new one.
        assert reader.execute("select count(*) from marts.customers").fetchone()[0] == 3
        assert count_in_new_process(target, "marts.customers") == 5
    finally:
        reader.close()
    assert target.stat().st_ino != old_inode, "the new file was renamed into place, not rewritten"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["published.duckdb", "work.duckdb"]


def test_a_failed_publish_leaves_the_previous_file_untouched(tmp_path):
    source = make_working_db(tmp_path / "work.duckdb")
    target = tmp_path / "published.duckdb"
    publish(source, target)
    before = target.read_bytes()

    with pytest.raises(FileNotFoundError, match="does not exist"):
        publish(tmp_path / "missing.duckdb", target)
    assert target.read_bytes() == before

    # The working database is being written by another process (a running build).
    code = "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(60)"
    writer = subprocess.Popen([sys.executable, "-c", code, str(source)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "ready"
        with pytest.raises(RuntimeError, match="another process is writing it"):
            publish(source, target)
    finally:
        writer.kill()
        writer.wait()
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["published.duckdb", "work.duckdb"]


def test_refuses_to_publish_onto_the_working_database(tmp_path):
    source = make_working_db(tmp_path / "work.duckdb")
    with pytest.raises(ValueError, match="must differ"):
        publish(source, source)


def test_refuses_a_file_name_that_makes_schema_names_ambiguous(tmp_path):
    source = make_working_db(tmp_path / "work.duckdb")
    with pytest.raises(ValueError, match="ambiguous"):
        publish(source, tmp_path / "marts.duckdb")
