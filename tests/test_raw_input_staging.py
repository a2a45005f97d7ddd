"""Rejected lines and implausible dates through dbt staging: quarantined with a reason, counts reconcile.

One dbt build of the staging layer and the reconciliation audit on a folder
of messy exports (malformed lines, a bad byte, placeholder and pre-floor dates);
another on entities given as folders of several files, reconciled file by file.
"""

from __future__ import annotations

import gzip
import json
import shutil

import duckdb
import pytest
from support import query, run_dbt

from orchestration.landing import land_raw_data

AS_OF = "2024-06-30"
SELECT = ["--select", "+row_reconciliation", "+row_reconciliation_per_file", "+quarantine_reasons",
          "--indirect-selection", "cautious"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("raw_input")
    raw = root / "raw"
    raw.mkdir()
    (raw / "orders.csv").write_bytes(
        b"order_id;customer_id;ordered_at;amount\r\n"
        b"o1;c1;2024-01-01 10:00:00;5\r\n"
        b"o2;c2;1900-01-01 00:00:00;6\r\n"  # placeholder for "unknown"
        b"o3;c3;1970-01-01 00:00:00;7\r\n"  # the epoch: another placeholder
        b"o4;c4;1999-12-31 23:59:59;8\r\n"  # before min_plausible_date
        b"o5;c5;9999-12-31;9\r\n"  # placeholder far in the future
        b"o6;c6;2000-01-01 00:00:00;10\r\n"  # on the floor: plausible
        b"o7;c7\r\n"  # too few fields
        b"o8;c\xff8;2024-01-02;11\r\n"  # invalid UTF-8
        b"o9;c9;2024-01-03;12;x\r\n"  # too many fields
        b"o10;c10;2024-01-04;13\r\n"
    )
    (raw / "customers.csv").write_text(
        "customer_id,registered_at\n"
        "c1,2023-12-01\n"
        "c2,1900-01-01\n"
        "c3,1980-05-05\n"
        "c4,2024-01-01\n"
        'c5,"2024-01-01\n'  # unclosed quote
        "c6,2024-01-01\n"
    )
    db = root / "db.duckdb"
    land_raw_data(raw, db, encodings={})
    run_dbt(["build", *SELECT], db, root / "target", as_of=AS_OF)
    return db


def test_reconciliation_counts_rejected_lines_as_raw_and_quarantined(built):
    rows = query(built, "select entity, raw_rows, clean_rows, quarantined_rows, rejected_lines "
                        "from audit.row_reconciliation where raw_rows > 0 order by 1")
    assert rows == [("customers", 6, 3, 3, 1), ("orders", 10, 3, 7, 3)]
    per_file = query(built, "select entity, parse_filename(source_file), raw_rows, clean_rows, quarantined_rows, "
                            "rejected_lines from audit.row_reconciliation_per_file order by 1")
    assert per_file == [("customers", "customers.csv", 6, 3, 3, 1), ("orders", "orders.csv", 10, 3, 7, 3)]


def test_orders_quarantine_reasons(built):
    reasons = dict(query(built, "select coalesce(order_id, raw_line), quarantine_reason "
                                "from staging.stg_raw__orders_quarantine"))
    assert reasons == {
        "o2": "placeholder_ordered_at",
        "o3": "placeholder_ordered_at",
        "o4": "implausible_ordered_at",
        "o5": "placeholder_ordered_at",
        "o7;c7": "malformed_line",
        "o8;c?8;2024-01-02;11": "invalid_encoding",  # the bad byte shown as ?
        "o9;c9;2024-01-03;12;x": "malformed_line",
    }
    assert query(built, "select order_id from staging.stg_raw__orders order by 1") == [("o1",), ("o10",), ("o6",)]


def test_rejected_lines_keep_file_and_line_number(built):
    rows = query(built, "select raw_row_id, source_line_number, source_file like '%orders.csv' "
                        "from staging.stg_raw__orders_quarantine where raw_line is not null order by 2")
    assert rows == [(-8, 8, True), (-9, 9, True), (-10, 10, True)]


def test_registration_dates_get_the_same_rule(built):
    reasons = dict(query(built, "select coalesce(customer_id, raw_line), quarantine_reason "
                                "from staging.stg_raw__customers_quarantine"))
    assert reasons == {
        "c2": "placeholder_registered_at",
        "c3": "implausible_registered_at",
        'c5,"2024-01-01': "malformed_line",
    }


def test_the_floor_is_a_var(built, tmp_path):
    """min_plausible_date moved to 2024-01-02: o1 (2024-01-01) becomes implausible."""
    run_dbt(["run", "--select", "stg_raw__orders_checked", "--vars",
             json.dumps({"as_of_date": AS_OF, "min_plausible_date": "2024-01-02"})],
            built, tmp_path / "target")
    assert query(built, "select quarantine_reason from staging.stg_raw__orders_checked where order_id = 'o1'") == [
        ("implausible_ordered_at",)]


# ------------------------------------------------------------ a folder of files per entity


@pytest.fixture(scope="module")
def built_folders(tmp_path_factory):
    """orders/ holds four CSV files (one gzip, one header only, dialects differ) with malformed
    lines and duplicates across files; customers/ holds two Parquet files."""
    root = tmp_path_factory.mktemp("raw_folders")
    orders = root / "raw" / "orders"
    orders.mkdir(parents=True)
    (orders / "2026-11-29.csv").write_bytes(
        b"order_id,customer_id,ordered_at,amount\n"
        b"o1,c1,2026-11-29 10:00:00,5\n"
        b"o2,c2,2026-11-29 11:00:00,6\n"
        b"o3,c3\n"  # too few fields
        b"o2,c2,2026-11-29 11:00:00,6\n"  # exact duplicate in the same file
    )
    (orders / "2026-11-30.csv").write_bytes(
        b"order_id;customer_id;ordered_at;amount\r\n"
        b"o1;c1;2026-11-29 10:00:00;5\r\n"  # exact duplicate of the first file's o1
        b"o4;c4;2026-11-30 09:00:00;7\r\n"
        b"o2;c2;2026-11-30 12:00:00;9\r\n"  # o2 again, other content: duplicate_order_id
        b"o5;c5;1900-01-01;3\r\n"  # placeholder date
        b'o6;"c6;2026-11-30;1\r\n'  # unclosed quote
        b"o7;c7;2026-11-30;2\r\n"
    )
    (orders / "2026-12-01.csv.gz").write_bytes(gzip.compress(
        b"order_id,customer_id,ordered_at,amount\n"
        b"o8,c8,2026-12-01,4\n"
        b"o9,c\xff9,2026-12-01,4\n"  # invalid UTF-8
        b"o10,c10,2026-12-01,4\n"
        b"o11,c11,2026-12-01,4\n"
    ))
    (orders / "2026-12-02.csv").write_bytes(b"order_id,customer_id,ordered_at,amount\n")  # header only
    customers = root / "raw" / "customers"
    customers.mkdir()
    con = duckdb.connect()
    con.execute(f"""copy (select * from (values ('c1', '2026-01-01'), ('c2', 'not a date'), ('c4', '2026-02-01'))
                       t(customer_id, registered_at)) to '{customers}/part-1.parquet' (format parquet)""")
    con.execute(f"""copy (select * from (values ('c1', '2026-01-01'), ('c5', '2026-03-01'))
                       t(customer_id, registered_at)) to '{customers}/part-2.parquet' (format parquet)""")
    con.close()
    (root / "raw" / "interactions.csv").write_text(
        "customer_id,occurred_at,interaction_type\n"
        "c1,2026-11-01 10:00:00,visit\n"
        "c1,1970-01-01 00:00:00,visit\n"  # placeholder
        "c2,1999-12-31,visit\n"  # before min_plausible_date
    )
    db = root / "db.duckdb"
    land_raw_data(root / "raw", db, encodings={})
    run_dbt(["build", *SELECT], db, root / "target", as_of="2026-12-31")
    return db


def test_a_folder_reconciles_file_by_file(built_folders):
    rows = query(built_folders, "select entity, parse_filename(source_file), raw_rows, clean_rows, quarantined_rows, "
                                "rejected_lines from audit.row_reconciliation_per_file order by 1, 2")
    assert rows == [
        ("customers", "part-1.parquet", 3, 2, 1, 0),  # c2's date does not parse
        ("customers", "part-2.parquet", 2, 1, 1, 0),  # c1 again, same content: exact_duplicate
        ("interactions", "interactions.csv", 3, 1, 2, 0),
        ("orders", "2026-11-29.csv", 4, 2, 2, 1),
        ("orders", "2026-11-30.csv", 6, 2, 4, 1),
        ("orders", "2026-12-01.csv.gz", 4, 3, 1, 1),
        # the header-only 2026-12-02.csv has no row: nothing was read from it
    ]
    totals = query(built_folders, "select entity, raw_rows, clean_rows, quarantined_rows, rejected_lines "
                                  "from audit.row_reconciliation where raw_rows > 0 order by 1")
    assert totals == [("customers", 5, 3, 2, 0), ("interactions", 3, 1, 2, 0), ("orders", 14, 7, 7, 3)]


def test_interaction_dates_get_the_same_rule(built_folders):
    assert query(built_folders, "select raw_occurred_at, quarantine_reason from staging.stg_raw__interactions_quarantine "
                                "order by 1") == [("1970-01-01 00:00:00", "placeholder_occurred_at"),
                                                  ("1999-12-31", "implausible_occurred_at")]


def test_each_quarantined_row_names_its_file(built_folders):
    rows = query(built_folders, "select parse_filename(source_file), coalesce(order_id, raw_line), quarantine_reason "
                                "from staging.stg_raw__orders_quarantine order by 1, 2")
    assert rows == [
        ("2026-11-29.csv", "o2", "exact_duplicate"),
        ("2026-11-29.csv", "o3,c3", "malformed_line"),
        ("2026-11-30.csv", "o1", "exact_duplicate"),  # the first file's o1 came first
        ("2026-11-30.csv", "o2", "duplicate_order_id"),
        ("2026-11-30.csv", "o5", "placeholder_ordered_at"),
        ("2026-11-30.csv", 'o6;"c6;2026-11-30;1', "malformed_line"),
        ("2026-12-01.csv.gz", "o9,c?9,2026-12-01,4", "invalid_encoding"),
    ]
    clean = query(built_folders, "select parse_filename(source_file), order_id from staging.stg_raw__orders "
                                 "order by raw_row_id")
    assert clean == [("2026-11-29.csv", "o1"), ("2026-11-29.csv", "o2"), ("2026-11-30.csv", "o4"),
                     ("2026-11-30.csv", "o7"), ("2026-12-01.csv.gz", "o8"), ("2026-12-01.csv.gz", "o10"),
                     ("2026-12-01.csv.gz", "o11")]


def test_the_per_file_tests_fail_when_a_file_loses_a_row(built_folders, tmp_path):
    """The tests have teeth: a clean row dropped from one file fails that file's row and the totals."""
    db = tmp_path / "broken.duckdb"
    shutil.copy(built_folders, db)
    con = duckdb.connect(str(db))
    con.execute("delete from staging.stg_raw__orders_checked where order_id = 'o4'")
    con.close()
    completed = run_dbt(["build", "--select", "row_reconciliation", "row_reconciliation_per_file",
                         "--indirect-selection", "cautious"], db, tmp_path / "target", as_of="2026-12-31", check=False)
    assert completed.returncode != 0
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    failed = {manifest["nodes"][r["unique_id"]]["attached_node"] for r in results if r["status"] == "fail"}
    assert failed == {"model.customer_lifecycle.row_reconciliation",
                      "model.customer_lifecycle.row_reconciliation_per_file"}
    rows = query(db, "select parse_filename(source_file), raw_rows, clean_rows, quarantined_rows "
                     "from audit.row_reconciliation_per_file where raw_rows <> clean_rows + quarantined_rows")
    assert rows == [("2026-11-30.csv", 6, 1, 4)]


def test_the_run_summary_shows_freshness_and_the_reconciliation_per_file(built_folders, monkeypatch, capsys):
    import datetime as dt

    from orchestration import summary
    from orchestration.freshness import check_orders_freshness

    # the newest order is 2026-12-01: 30 days before this as-of date, a stale export
    verdict = check_orders_freshness(dt.date(2026, 12, 31), built_folders)
    assert verdict.status == "error"
    monkeypatch.setenv("DUCKDB_PATH", str(built_folders))
    monkeypatch.setenv("PUBLISH_PATH", str(built_folders.parent / "no_published_file.duckdb"))
    assert summary.main() == 0
    printed = capsys.readouterr().out
    assert verdict.line() in printed.splitlines()
    start = printed.index("Row reconciliation per source file")
    section = printed[start:printed.index("Quarantined rows by reason", start)]
    for name in ("2026-11-29.csv", "2026-11-30.csv", "2026-12-01.csv.gz", "part-1.parquet", "interactions.csv"):
        assert name in section
    assert section.count("true") == 6 and "false" not in section  # the reconciles column, one per file
