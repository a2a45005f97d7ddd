"""Rejected lines and implausible dates through dbt staging: quarantined with a reason, counts reconcile.

One dbt build of the staging layer and the reconciliation audit on a folder
of messy exports (malformed lines, a bad byte, placeholder and pre-floor dates).
"""

from __future__ import annotations

import pytest
from support import query, run_dbt

from orchestration.landing import land_raw_data

AS_OF = "2024-06-30"
SELECT = ["--select", "+row_reconciliation", "+quarantine_reasons", "--indirect-selection", "cautious"]


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
    import json

    run_dbt(["run", "--select", "stg_raw__orders_checked", "--vars",
             json.dumps({"as_of_date": AS_OF, "min_plausible_date": "2024-01-02"})],
            built, tmp_path / "target")
    assert query(built, "select quarantine_reason from staging.stg_raw__orders_checked where order_id = 'o1'") == [
        ("implausible_ordered_at",)]
