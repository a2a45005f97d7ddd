"""The raw data contract: what the landing step accepts, rejects and fills in."""

from __future__ import annotations

import shutil

import duckdb
import pytest
from support import FIXTURES, query

from orchestration.landing import ENTITIES, RawDataError, land_raw_data

ORDERS_HEADER = "order_id,customer_id,ordered_at,amount\n"


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_missing_orders_file_fails_naming_the_entity_and_columns(tmp_path):
    raw = tmp_path / "raw"
    write(raw / "customers.csv", "customer_id,registered_at\nc1,2024-01-01\n")
    with pytest.raises(RawDataError) as error:
        land_raw_data(raw, tmp_path / "db.duckdb")
    message = str(error.value)
    assert "orders" in message
    assert "order_id, customer_id, ordered_at, amount" in message


def test_missing_required_column_fails_naming_file_and_expected_columns(tmp_path):
    raw = tmp_path / "raw"
    orders = write(raw / "orders.csv", "order_id,customer_id,amount\no1,c1,5\n")
    with pytest.raises(RawDataError) as error:
        land_raw_data(raw, tmp_path / "db.duckdb")
    message = str(error.value)
    assert str(orders) in message
    assert "ordered_at" in message
    assert "expected columns: order_id, customer_id, ordered_at, amount" in message


def test_missing_raw_dir_fails_clearly(tmp_path):
    with pytest.raises(RawDataError, match="does not exist"):
        land_raw_data(tmp_path / "nope", tmp_path / "db.duckdb")


def test_only_orders_lands_every_entity_with_full_columns(tmp_path):
    raw = tmp_path / "raw"
    write(raw / "orders.csv", ORDERS_HEADER + "o1,c1,2024-01-01 10:00:00,5\no2,c1,2024-01-02,7.5\n")
    meta = land_raw_data(raw, tmp_path / "db.duckdb")
    assert meta["orders"]["rows"] == 2
    for entity in ENTITIES:
        columns = [r[0] for r in query(tmp_path / "db.duckdb", f"describe raw.{entity.name}")]
        assert columns == ["_raw_row_id", *entity.columns, "_source_file"]
        if entity.name != "orders":
            assert meta[entity.name]["rows"] == 0
    # absent optional columns land as nulls; every value is text
    assert query(tmp_path / "db.duckdb", "select merchant_id, status, amount from raw.orders order by 1 nulls last, 3") == [
        (None, None, "5"), (None, None, "7.5")]


def test_folder_of_parquet_files_and_extra_columns(tmp_path):
    raw = tmp_path / "raw"
    (raw / "orders").mkdir(parents=True)
    con = duckdb.connect()
    for part in (1, 2):
        con.execute(
            f"copy (select 'o{part}' as order_id, 'c1' as customer_id, timestamp '2024-01-0{part} 08:00:00' as ordered_at, "
            f"{part}.5 as amount, 'x' as something_else) to '{raw}/orders/part-{part}.parquet' (format parquet)"
        )
    land_raw_data(raw, tmp_path / "db.duckdb")
    rows = query(tmp_path / "db.duckdb", "select _raw_row_id, order_id, ordered_at, amount from raw.orders order by 1")
    # row ids are stable whatever the scan order: file position x 10^12 + row in file
    assert rows == [(1, "o1", "2024-01-01 08:00:00", "1.5"), (10**12 + 1, "o2", "2024-01-02 08:00:00", "2.5")]


def test_parquet_lands_as_a_view_and_csv_as_a_table(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    duckdb.connect().execute(
        f"copy (select 'o1' as order_id, 'c1' as customer_id, '2024-01-01' as ordered_at, 5.0 as amount) "
        f"to '{raw}/orders.parquet' (format parquet)")
    write(raw / "merchants.csv", "merchant_id,industry\nm1,food_delivery\n")
    land_raw_data(raw, tmp_path / "db.duckdb")
    kinds = dict(query(tmp_path / "db.duckdb",
                       "select table_name, table_type from information_schema.tables where table_schema = 'raw'"))
    assert kinds["orders"] == "VIEW"
    assert kinds["merchants"] == "BASE TABLE"
    assert kinds["customers"] == "BASE TABLE"  # empty optional entity


def test_two_sources_for_one_entity_are_ambiguous(tmp_path):
    raw = tmp_path / "raw"
    write(raw / "orders.csv", ORDERS_HEADER)
    write(raw / "orders" / "part.csv", ORDERS_HEADER)
    with pytest.raises(RawDataError, match="more than one source"):
        land_raw_data(raw, tmp_path / "db.duckdb")


def test_csv_values_stay_text_so_bad_values_reach_quarantine(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(FIXTURES / "raw_messy", raw)
    land_raw_data(raw, tmp_path / "db.duckdb")
    assert query(tmp_path / "db.duckdb", "select count(*) from raw.orders where ordered_at = 'not a date'") == [(1,)]


def test_reload_replaces_previous_raw_tables(tmp_path):
    raw = tmp_path / "raw"
    write(raw / "orders.csv", ORDERS_HEADER + "o1,c1,2024-01-01,5\n")
    land_raw_data(raw, tmp_path / "db.duckdb")
    write(raw / "orders.csv", ORDERS_HEADER + "o1,c1,2024-01-01,5\no2,c2,2024-01-01,6\n")
    land_raw_data(raw, tmp_path / "db.duckdb")
    assert query(tmp_path / "db.duckdb", "select count(*) from raw.orders") == [(2,)]
    assert query(tmp_path / "db.duckdb", "select rows from raw._load_log where entity = 'orders'") == [(2,)]
