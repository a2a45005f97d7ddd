"""Freshness of the raw orders: dbt source freshness judged against AS_OF_DATE, kept for the summary."""

from __future__ import annotations

import datetime as dt

import pytest

from orchestration.freshness import check_orders_freshness, read_verdict
from orchestration.landing import land_raw_data


@pytest.fixture(scope="module")
def landed(tmp_path_factory):
    root = tmp_path_factory.mktemp("freshness")
    raw = root / "raw"
    raw.mkdir()
    # the order of 2024-07-25 is after every as-of date below: it does not make the export fresh
    (raw / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,amount\n"
        "o1,c1,2024-06-20 10:00:00,5\no2,c1,2024-06-25 23:00:00,5\no3,c2,2024-07-25 10:00:00,5\n"
    )
    db = root / "db.duckdb"
    land_raw_data(raw, db, encodings={})
    return db


@pytest.mark.parametrize(
    ("as_of", "status", "age"),
    [("2024-06-26", "pass", 1), ("2024-06-29", "warn", 4), ("2024-07-10", "error", 15)],
)
def test_newest_order_against_as_of_date(landed, as_of, status, age):
    verdict = check_orders_freshness(dt.date.fromisoformat(as_of), landed)
    assert verdict.status == status
    assert round(verdict.age_days) == age
    assert (verdict.warn_after_days, verdict.error_after_days) == (2, 7)
    assert read_verdict(landed) == verdict
    line = verdict.line()
    assert line.startswith(f"Raw orders freshness: {status.upper()}, newest order 2024-06-25, {age} day(s) before "
                           f"AS_OF_DATE {as_of} (warn after 2 days, error after 7)")
    assert ("is the export stale?" in line) == (status != "pass")
