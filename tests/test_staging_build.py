"""dbt build (models, data tests, unit tests) on the hand-made messy fixture,
and the facts a reader can check by hand against tests/fixtures/raw_messy."""

from __future__ import annotations

from decimal import Decimal

import pytest
from support import FIXTURES, query, run_dbt

from orchestration.landing import land_raw_data

AS_OF = "2024-06-30"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("messy")
    db = root / "messy.duckdb"
    land_raw_data(FIXTURES / "raw_messy", db)
    run_dbt(["build"], db, root / "target", as_of=AS_OF)
    return db


def test_every_raw_row_is_clean_or_quarantined(built):
    rows = query(built, "select entity, raw_rows, clean_rows, quarantined_rows from audit.row_reconciliation order by 1")
    assert rows == [
        ("acquisition_costs", 6, 3, 3),
        ("customers", 9, 7, 2),
        ("interactions", 9, 4, 5),
        ("merchants", 4, 3, 1),
        ("orders", 20, 10, 10),
    ]
    # one file per entity: the per-file reconciliation is the same, naming the file
    per_file = query(built, "select entity, parse_filename(source_file), raw_rows, clean_rows, quarantined_rows "
                            "from audit.row_reconciliation_per_file order by 1")
    assert per_file == [(entity, f"{entity}.csv", *counts) for entity, *counts in rows]


def test_each_messy_order_gets_its_reason(built):
    rows = dict(query(built, "select raw_row_id, quarantine_reason from staging.stg_raw__orders_quarantine"))
    assert rows == {
        3: "exact_duplicate",         # O2 repeated verbatim
        4: "duplicate_order_id",      # O2 re-used with another amount
        5: "missing_customer_id",
        6: "negative_amount",
        7: "absurd_amount",
        8: "unparseable_ordered_at",
        9: "unknown_status",
        10: "unknown_currency",
        17: "missing_order_id",
        19: "invalid_cost",
    }


def test_ids_are_normalised_and_odd_case_status_is_valid(built):
    # " c2 " / "m1 " / "usd" / "Completed" are good data after normalisation
    assert query(built, "select customer_id, merchant_id, currency_code, order_status, amount "
                        "from staging.stg_raw__orders where order_id = 'o9'") == [("c2", "m1", "USD", "completed", 0)]


def test_timestamps_with_an_offset_are_converted_to_utc(built):
    assert query(built, "select cast(ordered_at as varchar), cast(ordered_date as varchar) "
                        "from staging.stg_raw__orders where order_id = 'o17'") == [("2024-03-07 04:30:00", "2024-03-07")]


def test_orders_without_merchant_belong_to_the_default_merchant(built):
    assert query(built, "select merchant_id from staging.stg_raw__orders where order_id = 'o15'") == [("default",)]


def test_currency_converted_to_reporting(built):
    # 70.00 EUR at the seed's 1.08 -> 75.60 in the reporting currency
    assert query(built, "select amount, amount_reporting from staging.stg_raw__orders where order_id = 'o10'") == [
        (Decimal("70.00"), Decimal("75.60"))]


def test_future_dated_rows_are_kept_and_flagged(built):
    assert query(built, "select entity, row_key from audit.future_dated_rows order by 1") == [
        ("customers", "c8"), ("orders", "o14")]
    assert query(built, "select is_after_as_of_date from staging.stg_raw__orders where order_id = 'o14'") == [(True,)]
    # a customer registered after the as-of date does not exist yet
    assert query(built, "select count(*) from intermediate.int_customers_unioned where customer_id = 'c8'") == [(0,)]


def test_orders_of_unknown_customers_are_kept_and_listed(built):
    assert query(built, "select order_id from audit.orphan_orders order by 1") == [("o12",), ("o13",)]
    assert query(built, "select is_derived_from_orders, registered_at from intermediate.int_customers_unioned "
                        "where customer_id = 'c9'")[0][0] is True


def test_industry_resolution_and_unknown_industries(built):
    rows = dict(query(built, "select customer_id, industry from intermediate.int_customers_unioned"))
    assert rows["c1"] == "food_delivery"          # from merchant m1
    assert rows["c3"] == "apparel_ecommerce"      # merchant industry given in odd case
    assert rows["c4"] == "education_services"     # no merchant: the customer row's industry
    assert rows["c7"] == "default"                # 'pet_supplies' is not configured
    assert query(built, "select customer_id, issue from audit.unknown_industries") == [("c7", "not_in_industry_windows")]


def test_no_raw_personal_data_beyond_staging(built):
    columns = query(built, "select table_schema, table_name, column_name from information_schema.columns "
                           "where table_schema not in ('raw') and (column_name ilike '%email%' or column_name ilike '%phone%')")
    assert {c[2] for c in columns} <= {"email_hash", "phone_hash"}
    assert query(built, "select count(*) from staging.stg_raw__customers where email_hash ilike '%@%'") == [(0,)]


def test_malformed_as_of_date_fails_with_a_message(tmp_path):
    db = tmp_path / "x.duckdb"
    land_raw_data(FIXTURES / "raw_messy", db)
    completed = run_dbt(["run", "--select", "stg_raw__orders_checked", "stg_raw__orders"], db, tmp_path / "target",
                        as_of="30/06/2024", check=False)
    assert completed.returncode != 0
    assert "AS_OF_DATE must be YYYY-MM-DD" in completed.stdout


def test_orders_only_build(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "orders.csv").write_text(
        "order_id,customer_id,ordered_at,amount\n"
        "a1,x,2024-01-01 10:00:00,10\na2,x,2024-02-01 10:00:00,12\na3,y,2024-03-01 10:00:00,0\n"
    )
    db = tmp_path / "only.duckdb"
    land_raw_data(raw, db)
    run_dbt(["build"], db, tmp_path / "target", as_of=AS_OF)
    assert query(
        db, "select customer_id, is_derived_from_orders, industry from intermediate.int_customers_unioned order by 1"
    ) == [("x", True, "default"), ("y", True, "default")]
    # no customers file: deriving customers is by design, so nothing is an orphan
    assert query(db, "select count(*) from audit.orphan_orders") == [(0,)]


def test_docs_generate_documents_every_mart(built, tmp_path):
    """`dbt docs generate` works and every mart column carries a description."""
    import json

    run_dbt(["docs", "generate"], built, tmp_path / "target", as_of=AS_OF)
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    catalog = json.loads((tmp_path / "target" / "catalog.json").read_text())
    marts = [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["schema"] == "marts"]
    assert marts
    for node in marts:
        assert node["description"].strip(), node["name"]
        assert node["config"]["contract"]["enforced"], node["name"]
        built_columns = set(catalog["nodes"][node["unique_id"]]["columns"])
        undocumented = [c for c in built_columns if not node["columns"].get(c, {}).get("description", "").strip()]
        assert not undocumented, (node["name"], undocumented)
