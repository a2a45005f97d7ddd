"""The landing's half of incremental builds: which files are new, and when a full refresh is due.

No dbt here: these tests land folders of daily CSV and Parquet files
(orchestration.landing.land_for_build), mark builds successful as the dbt
step does (orchestration.incremental.record_success) and check the plan's
path and reasons, and that an incremental landing leaves raw tables equal to
a full one.
"""

from __future__ import annotations

import datetime as dt
import os

import duckdb
from support import query

from orchestration import incremental
from orchestration.landing import land_for_build

AS_OF = dt.date(2026, 6, 30)
HEADER = "order_id,customer_id,ordered_at,amount\n"


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def land(raw, db, as_of=AS_OF, full_refresh=False):
    plan, meta = land_for_build(raw, db, as_of, full_refresh=full_refresh, encodings={})
    incremental.record_success(db, as_of, raw)  # as the dbt step does after a successful build
    return plan, meta


def raw_tables(db) -> dict[str, list[tuple]]:
    return {
        "orders": query(db, "select * from raw.orders order by _raw_row_id"),
        "rejected": query(db, "select * exclude (detail) from raw._rejected_lines order by _raw_row_id"),
    }


def test_first_build_is_full_then_only_new_files_are_landed(tmp_path):
    raw, db = tmp_path / "raw", tmp_path / "db.duckdb"
    write(raw / "orders" / "2026-06-28.csv", HEADER + "o1,c1,2026-06-28 10:00:00,5\no2,c2,2026-06-28,7\n")
    plan, meta = land(raw, db)
    assert plan.path == "full_refresh"
    assert plan.reasons == ["no earlier successful build in this database"]
    assert meta["orders"]["rows"] == 2

    write(raw / "orders" / "2026-06-29.csv", HEADER + 'o3,c1,2026-06-29,4\n"broken,c3\no4,c4,2026-06-29,1\n')
    plan, meta = land(raw, db)
    assert plan.path == "incremental", plan.describe()
    assert plan.new_files == {"orders": [str((raw / "orders" / "2026-06-29.csv").resolve())]}
    assert meta["orders"]["new_files"] == 1
    assert meta["orders"]["rows"] == 4
    assert meta["orders"]["rejected_lines"] == 1

    # the same folder landed in full gives the same raw rows, ids and rejected lines
    full_db = tmp_path / "full.duckdb"
    land(raw, full_db, full_refresh=True)
    assert raw_tables(db) == raw_tables(full_db)

    # nothing new: incremental, no new file
    plan, _ = land(raw, db)
    assert plan.path == "incremental"
    assert plan.new_files == {}


def test_new_files_wait_for_a_successful_build(tmp_path):
    raw, db = tmp_path / "raw", tmp_path / "db.duckdb"
    write(raw / "orders" / "2026-06-28.csv", HEADER + "o1,c1,2026-06-28,5\n")
    land(raw, db)
    write(raw / "orders" / "2026-06-29.csv", HEADER + "o2,c1,2026-06-29,4\n")
    # the dbt build of this landing fails: no record_success
    land_for_build(raw, db, AS_OF, encodings={})
    plan, meta = land_for_build(raw, db, AS_OF, encodings={})
    assert plan.path == "incremental"
    assert list(plan.new_files) == ["orders"] and len(plan.new_files["orders"]) == 1
    assert meta["orders"]["rows"] == 2  # landed again, not twice
    assert query(db, "select count(*) from raw._landed_files where not is_staged") == [(1,)]


def test_changed_vanished_or_reordered_files_force_a_full_refresh(tmp_path):
    raw, db = tmp_path / "raw", tmp_path / "db.duckdb"
    first = write(raw / "orders" / "2026-06-28.csv", HEADER + "o1,c1,2026-06-28,5\n")
    second = write(raw / "orders" / "2026-06-29.csv", HEADER + "o2,c1,2026-06-29,4\n")
    land(raw, db)

    write(first, HEADER + "o1,c1,2026-06-28,6\n")  # corrected in place
    plan, _ = land(raw, db)
    assert plan.path == "full_refresh"
    size = first.stat().st_size
    assert plan.reasons == [
        f"orders: {first.resolve()}, already staged, changed (size {size} -> {size} bytes, content differs)"]

    # touched without a change: still incremental (the hash decides, not the mtime)
    os.utime(second, ns=(second.stat().st_atime_ns, second.stat().st_mtime_ns + 10**9))
    assert land(raw, db)[0].path == "incremental"

    early = write(raw / "orders" / "2026-06-27.csv", HEADER + "o0,c1,2026-06-27,1\n")
    plan, _ = land(raw, db)
    assert plan.path == "full_refresh"
    assert any("moved from position 0 to 1" in reason for reason in plan.reasons)

    early.unlink()
    plan, _ = land(raw, db)
    assert plan.path == "full_refresh"
    assert plan.reasons[0] == f"orders: {early.resolve()}, already staged, is gone"


def test_date_backwards_project_change_and_request_force_a_full_refresh(tmp_path, monkeypatch):
    raw, db = tmp_path / "raw", tmp_path / "db.duckdb"
    write(raw / "orders.csv", HEADER + "o1,c1,2026-06-28,5\n")
    land(raw, db)
    assert land(raw, db, as_of=AS_OF + dt.timedelta(days=1))[0].path == "incremental"

    plan, _ = land(raw, db, as_of=AS_OF)
    assert plan.reasons == ["AS_OF_DATE moved backwards (2026-07-01 -> 2026-06-30)"]

    plan, _ = land(raw, db, full_refresh=True)
    assert plan.reasons == ["a full refresh was requested (FULL_REFRESH=1 or the run config full_refresh)"]

    monkeypatch.setenv("RAW_CSV_ENCODING", "latin-1")
    plan, _ = land_for_build(raw, db, AS_OF, encodings={})
    assert plan.path == "full_refresh"
    assert "the project changed" in plan.reasons[0]


def test_parquet_folder_stays_a_view_over_every_file(tmp_path):
    raw, db = tmp_path / "raw", tmp_path / "db.duckdb"
    (raw / "orders").mkdir(parents=True)
    con = duckdb.connect()
    for n, name in enumerate(["2026-06-28", "2026-06-29"]):
        con.execute(
            f"copy (select 'o{n}' as order_id, 'c1' as customer_id, '{name}' as ordered_at, 5.0 as amount) "
            f"to '{raw / 'orders' / (name + '.parquet')}' (format parquet)"
        )
        plan, meta = land(raw, db)
        assert plan.path == ("full_refresh" if n == 0 else "incremental")
        assert meta["orders"]["rows"] == n + 1
    con.close()
    assert query(db, "select _raw_row_id, order_id from raw.orders order by 1") == [
        (1, "o0"), (10**12 + 1, "o1")]
