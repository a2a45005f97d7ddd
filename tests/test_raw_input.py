"""Real exports at the input edge: malformed lines, encodings, and the refusals' wording.

Every case writes a small file, lands it with the real landing step into a
private DuckDB file, and checks where each line went (raw.orders or
raw._rejected_lines) or the exact refusal text.
"""

from __future__ import annotations

import gzip

import pytest
from support import query

from orchestration.landing import RawDataError, land_raw_data, parse_encodings

HEADER = "order_id,customer_id,ordered_at,amount\n"
GOOD = ["o1,c1,2024-01-01,5\n", "o2,c2,2024-01-02,6\n"]
TAIL = ["o8,c8,2024-01-08,8\n", "o9,c9,2024-01-09,9\n"]


def land_bytes(tmp_path, data: bytes, name="orders.csv", encodings=None):
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    (raw / name).write_bytes(data)
    db = tmp_path / "db.duckdb"
    meta = land_raw_data(raw, db, encodings=encodings)
    return db, meta


def loaded_ids(db) -> list[str]:
    return [r[0] for r in query(db, "select order_id from raw.orders order by _raw_row_id")]


def rejected(db) -> list[tuple]:
    return query(db, "select line_number, reason, raw_line from raw._rejected_lines order by line_number")


# ------------------------------------------------------------------ malformed lines


@pytest.mark.parametrize(
    ("bad_line", "reason", "shown"),
    [
        ("o3,c3,2024-01-03\n", "malformed_line", "o3,c3,2024-01-03"),  # too few fields
        ("o3,c3,2024-01-03,7,extra\n", "malformed_line", "o3,c3,2024-01-03,7,extra"),  # too many
        ('o3,"c3,2024-01-03,7\n', "malformed_line", 'o3,"c3,2024-01-03,7'),  # unclosed quote
        ("o3,c\x003,2024-01-03,7\n", "nul_byte", "o3,c\\03,2024-01-03,7"),  # NUL byte
    ],
    ids=["too_few_fields", "too_many_fields", "unclosed_quote", "nul_byte"],
)
def test_a_malformed_line_is_rejected_and_every_other_line_loads(tmp_path, bad_line, reason, shown):
    text = HEADER + "".join(GOOD) + bad_line + "".join(TAIL)
    db, meta = land_bytes(tmp_path, text.encode())
    assert loaded_ids(db) == ["o1", "o2", "o8", "o9"]
    assert rejected(db) == [(4, reason, shown)]
    assert meta["orders"]["rows"] == 4 and meta["orders"]["rejected_lines"] == 1
    assert query(db, "select _source_file, _raw_row_id from raw._rejected_lines") == [
        (str((tmp_path / "raw" / "orders.csv").resolve()), -4)]


@pytest.mark.parametrize("line_by_line", [False, True], ids=["duckdb_reader", "line_by_line"])
def test_a_line_over_two_million_bytes_is_rejected_as_too_long(tmp_path, line_by_line):
    """Both readers reject a line over 2,000,000 bytes (keeping its first 10,000 characters) and load a
    long but legal one; a NUL elsewhere in the file sends it down the line-by-line path."""
    first = "o0,c\x000,2024-01-01,5\n" if line_by_line else "o0,c0,2024-01-01,5\n"
    text = (HEADER + first + "o1," + "x" * 200_000 + ",2024-01-01,5\n" + "o2," + "y" * 2_100_000 + ",2024-01-01,5\n"
            + "".join(TAIL))
    db, _ = land_bytes(tmp_path, text.encode())
    assert query(db, "select order_id, length(customer_id) from raw.orders order by _raw_row_id")[-3:] == [
        ("o1", 200_000), ("o8", 2), ("o9", 2)]
    too_long = [(line, reason, len(shown)) for line, reason, shown in rejected(db) if reason != "nul_byte"]
    assert too_long == [(4, "line_too_long", 10_000)]


@pytest.mark.parametrize(
    ("codec", "declared"), [("utf-16", None), ("latin-1", {"orders": "latin-1"}), ("gb18030", {"orders": "gb18030"})])
def test_a_malformed_line_in_another_encoding(tmp_path, codec, declared):
    text = HEADER + "o1,Jos\u00e9,2024-01-01,5\n" + "o2,c2\n" + "o3,M\u00fcller,2024-01-03,7\n"
    db, _ = land_bytes(tmp_path, text.encode(codec), encodings=declared)
    assert query(db, "select order_id, customer_id from raw.orders order by 1") == [
        ("o1", "Jos\u00e9"), ("o3", "M\u00fcller")]
    assert rejected(db) == [(3, "malformed_line", "o2,c2")]


def test_an_invalid_utf8_byte_rejects_only_its_line(tmp_path):
    data = (HEADER + "".join(GOOD)).encode() + b"o3,c\xff3,2024-01-03,7\n" + "o4,Jos\u00e9,2024-01-04,4\n".encode()
    db, _ = land_bytes(tmp_path, data)
    assert loaded_ids(db) == ["o1", "o2", "o4"]
    assert query(db, "select customer_id from raw.orders where order_id = 'o4'") == [("Jos\u00e9",)]
    ((line, reason, _),) = rejected(db)
    assert (line, reason) == (4, "invalid_encoding")


def test_quoted_values_with_delimiters_and_line_breaks_still_load(tmp_path):
    text = HEADER + 'o1,"c,1",2024-01-01,5\n' + 'o2,"c\n2",2024-01-02,6\n' + "o3,c3,2024-01-03,7\n"
    db, _ = land_bytes(tmp_path, text.encode())
    assert query(db, "select order_id, customer_id from raw.orders order by 1") == [
        ("o1", "c,1"), ("o2", "c\n2"), ("o3", "c3")]
    assert rejected(db) == []


def test_gzip_csv_with_a_bad_line(tmp_path):
    text = HEADER + "".join(GOOD) + "o3,c3\n" + "".join(TAIL)
    db, _ = land_bytes(tmp_path, gzip.compress(text.encode()), name="orders.csv.gz")
    assert loaded_ids(db) == ["o1", "o2", "o8", "o9"]
    assert [r[:2] for r in rejected(db)] == [(4, "malformed_line")]


# ------------------------------------------------------------------------ encodings

TEXT = HEADER + "o1,\u5ba2\u6237\u7532,2024-01-01,5\r\no2,Jos\u00e9,2024-01-02,6\r\n"


@pytest.mark.parametrize(
    ("encoded", "declared"),
    [
        (TEXT.encode("utf-8"), None),
        (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), None),  # UTF-8 with BOM
        (TEXT.encode("utf-16"), None),  # UTF-16 with BOM
        (TEXT.encode("utf-16-le"), None),  # UTF-16 without BOM, recognised by its zero bytes
        (TEXT.encode("gb18030"), {"orders": "gb18030"}),
        (TEXT.encode("gb18030"), {"*": "GB18030"}),
    ],
    ids=["utf8", "utf8_bom", "utf16_bom", "utf16le_no_bom", "gb18030_declared", "gb18030_for_all"],
)
def test_unicode_and_declared_encodings_load(tmp_path, encoded, declared):
    db, _ = land_bytes(tmp_path, encoded, encodings=declared)
    assert query(db, "select order_id, customer_id from raw.orders order by 1") == [
        ("o1", "\u5ba2\u6237\u7532"), ("o2", "Jos\u00e9")]
    assert rejected(db) == []


def test_latin1_declared_loads(tmp_path):
    text = HEADER + "o1,Jos\u00e9,2024-01-01,5\no2,M\u00fcller,2024-01-02,6\n"
    db, meta = land_bytes(tmp_path, text.encode("latin-1"), encodings=parse_encodings("orders=latin-1"))
    assert query(db, "select customer_id from raw.orders order by 1") == [("Jos\u00e9",), ("M\u00fcller",)]
    assert meta["orders"]["encodings"] == ["latin-1"]


def test_gbk_file_with_one_undecodable_line(tmp_path):
    data = (HEADER + "o1,\u5ba2\u6237,2024-01-01,5\n").encode("gbk") + b"o2,\x81,2024-01-02,6\n" + b"o3,c3,2024-01-03,7\n"
    db, _ = land_bytes(tmp_path, data, encodings={"orders": "gbk"})
    assert loaded_ids(db) == ["o1", "o3"]
    assert query(db, "select customer_id from raw.orders where order_id = 'o1'") == [("\u5ba2\u6237",)]
    assert [r[:2] for r in rejected(db)] == [(3, "invalid_encoding")]


@pytest.mark.parametrize(
    ("text", "codec", "suggested"),
    [
        ("o1,Jos\u00e9 M\u00fcller,2024-01-01,5\no2,Fran\u00e7ois \u00c5ngstr\u00f6m,2024-01-02,6\n", "latin-1", "latin-1"),
        ("o1,\u5ba2\u6237\u7532\u4e59,2024-01-01,5\no2,\u5317\u4eac\u5e02,2024-01-02,6\n", "gb18030", "gb18030"),
    ],
    ids=["latin1", "gb18030"],
)
def test_undeclared_non_utf8_file_is_refused_naming_the_encoding_to_declare(tmp_path, text, codec, suggested):
    with pytest.raises(RawDataError) as error:
        land_bytes(tmp_path, (HEADER + text).encode(codec))
    path = (tmp_path / "raw" / "orders.csv").resolve()
    assert str(error.value) == (
        f"orders: {path} is not UTF-8 (its bytes look like {suggested}). Declare its encoding, e.g. "
        f"RAW_CSV_ENCODING=orders={suggested}, or export it as UTF-8."
    )


def test_unknown_encoding_setting_is_refused():
    with pytest.raises(RawDataError, match="RAW_CSV_ENCODING: 'klingon' is not an encoding"):
        parse_encodings("orders=klingon")
    with pytest.raises(RawDataError, match="RAW_CSV_ENCODING: 'ordres' is not an entity"):
        parse_encodings("ordres=latin-1")


# ------------------------------------------------------------------------- refusals


def refusal(tmp_path, data: bytes | None, name="orders.csv", extra: dict[str, bytes] | None = None) -> str:
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    if data is not None:
        (raw / name).write_bytes(data)
    for extra_name, extra_data in (extra or {}).items():
        (raw / extra_name).parent.mkdir(parents=True, exist_ok=True)
        (raw / extra_name).write_bytes(extra_data)
    with pytest.raises(RawDataError) as error:
        land_raw_data(raw, tmp_path / "db.duckdb", encodings={})
    assert not (tmp_path / "db.duckdb").exists(), "a refusal must not touch the database"
    return str(error.value)


def test_refusal_empty_file(tmp_path):
    path = (tmp_path / "raw" / "orders.csv").resolve()
    assert refusal(tmp_path, b"") == (
        f"orders: {path} is empty (0 bytes). Export it again with at least its header line, or remove the "
        "file if the entity is optional."
    )


def test_refusal_header_only_orders(tmp_path):
    path = (tmp_path / "raw" / "orders.csv").resolve()
    assert refusal(tmp_path, HEADER.encode()) == (
        f"orders: {path} has a header but no rows. Export the orders again (the export may have been cut "
        "short), or point RAW_DATA_DIR at the folder with the data."
    )


def test_header_only_optional_entity_lands_empty(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "orders.csv").write_text(HEADER + GOOD[0])
    (raw / "merchants.csv").write_text("merchant_id,industry\n")
    meta = land_raw_data(raw, tmp_path / "db.duckdb", encodings={})
    assert meta["merchants"]["rows"] == 0


def test_refusal_corrupt_gzip(tmp_path):
    path = (tmp_path / "raw" / "orders.csv.gz").resolve()
    message = refusal(tmp_path, gzip.compress((HEADER + GOOD[0]).encode())[:-12] + b"garbage!", name="orders.csv.gz")
    assert message.startswith(f"orders: {path} cannot be decompressed (")
    assert message.endswith(
        "it is not a readable gzip file. Export it again, or compress it with gzip (a .csv.gz must be gzip, "
        "not zip or another format)."
    )


def test_refusal_unknown_delimiter(tmp_path):
    path = (tmp_path / "raw" / "orders.csv").resolve()
    data = b"order_id:customer_id:ordered_at:amount\no1:c1:2024-01-01:5\n"
    assert refusal(tmp_path, data) == (
        f"orders: {path} has no recognisable header: its first line 'order_id:customer_id:ordered_at:amount' "
        "names none of the expected columns when split by comma, semicolon, tab or pipe (unknown delimiter, "
        "or no header line). Make the first line a header naming the columns (order_id, customer_id, "
        "ordered_at, amount), separated by one of , ; tab |."
    )


def test_refusal_missing_columns_names_found_and_expected(tmp_path):
    path = (tmp_path / "raw" / "orders.csv").resolve()
    assert refusal(tmp_path, b"Order_ID;customer_id;total\no1;c1;5\n") == (
        f"orders: {path} is missing required column(s) ordered_at, amount: its header (split by semicolon) "
        "has order_id, customer_id, total; expected columns: order_id, customer_id, ordered_at, amount "
        "(optional: merchant_id, currency, status, cost). Rename or add the column(s) in the export."
    )


def test_refusal_two_sources_for_one_entity(tmp_path):
    raw = (tmp_path / "raw").resolve()
    message = refusal(tmp_path, (HEADER + GOOD[0]).encode(), extra={"orders.parquet": b"PAR1"})
    assert message == (
        f"orders: found more than one source ({raw / 'orders.csv'}, {raw / 'orders.parquet'}). Keep exactly "
        f"one of them in {raw} (move the others out), so it is clear which is the orders export."
    )


def test_refusal_unreadable_parquet(tmp_path):
    path = (tmp_path / "raw" / "orders.parquet").resolve()
    message = refusal(tmp_path, b"this is not parquet", name="orders.parquet")
    assert message.startswith(f"orders: {path} cannot be read as Parquet (")
    assert message.endswith("Export it again, or replace it with a CSV export.")


def test_a_sniffer_confusing_file_is_not_reported_as_missing_columns(tmp_path):
    """The issue's case: a quoted comma, then an unclosed quote, made DuckDB's sniffer see one column."""
    text = HEADER + 'o1,"c,1",2024-01-01,5\n' + "o2,c2,2024-01-02,6\n" + 'o4,"c4,2024-01-04,8\n' + "o5,c5,2024-01-05,9\n"
    db, _ = land_bytes(tmp_path, text.encode())
    assert loaded_ids(db) == ["o1", "o2", "o5"]
    assert [r[:2] for r in rejected(db)] == [(4, "malformed_line")]


def test_refusal_gzip_corrupt_after_its_first_block(tmp_path):
    """DuckDB does not check a gzip's checksum (it loaded garbage rows and stopped short): the landing does."""
    import random

    rng = random.Random(7)
    rows = "".join(f"o{i},c{rng.randint(1, 10**9)},2024-01-01,{rng.randint(1, 10**6)}\n" for i in range(40000))
    data = gzip.compress((HEADER + rows).encode())
    broken = data[: len(data) * 3 // 4] + bytes(64) + data[len(data) * 3 // 4 + 64:]
    path = (tmp_path / "raw" / "orders.csv.gz").resolve()
    message = refusal(tmp_path, broken, name="orders.csv.gz")
    assert message.startswith(f"orders: {path} cannot be decompressed (")
    assert "CRC check failed" in message
    assert message.endswith("it is not a readable gzip file. Export it again, or compress it with gzip (a .csv.gz "
                            "must be gzip, not zip or another format).")


def test_refusal_blank_lines_only(tmp_path):
    path = (tmp_path / "raw" / "orders.csv").resolve()
    assert refusal(tmp_path, b"\n\r\n  \n") == (
        f"orders: {path} holds no text (only blank lines). Export it again with its header line, or remove the "
        "file if the entity is optional."
    )


def test_refusal_parquet_missing_columns_names_found_and_expected(tmp_path):
    import duckdb

    raw = tmp_path / "raw"
    raw.mkdir()
    duckdb.connect().execute(
        f"copy (select 'o1' as order_id, 'c1' as Customer_ID, 5 as total) to '{raw}/orders.parquet' (format parquet)")
    path = (raw / "orders.parquet").resolve()
    assert refusal(tmp_path, None) == (
        f"orders: {path} is missing required column(s) ordered_at, amount: it has order_id, customer_id, total; "
        "expected columns: order_id, customer_id, ordered_at, amount (optional: merchant_id, currency, status, "
        "cost). Rename or add the column(s) in the export."
    )


def test_refusal_folder_mixing_csv_and_parquet(tmp_path):
    folder = (tmp_path / "raw" / "orders").resolve()
    message = refusal(tmp_path, None, extra={"orders/2026-11-29.csv": (HEADER + GOOD[0]).encode(),
                                             "orders/2026-11-30.parquet": b"PAR1"})
    assert message == f"orders: folder {folder} mixes CSV and Parquet files. Keep files of one format in it."


def test_refusal_first_line_empty(tmp_path):
    path = (tmp_path / "raw" / "orders.csv").resolve()
    assert refusal(tmp_path, ("\n" + HEADER + GOOD[0]).encode()) == (
        f"orders: {path} starts with an empty line; its first line must be the header naming the columns "
        "(order_id, customer_id, ordered_at, amount)."
    )


def test_refusal_wrong_declared_encoding(tmp_path):
    """latin-1 text declared as UTF-8 fails line after line: the declaration is wrong, not the lines."""
    path = (tmp_path / "raw" / "orders.csv").resolve()
    lines = "".join(f"o{i},Jos\u00e9 M\u00fcller {i},2024-01-01,5\n" for i in range(5))
    message = refusal_declared(tmp_path, (HEADER + lines).encode("latin-1"), {"orders": "utf-8"})
    assert message == (
        f"orders: {path} cannot be decoded as utf-8, the encoding declared for it (5 of the first 5 lines with "
        "non-ASCII text fail; its bytes look like latin-1). Declare the right encoding in RAW_CSV_ENCODING, or "
        "export it as UTF-8."
    )


def refusal_declared(tmp_path, data: bytes, encodings: dict[str, str]) -> str:
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    (raw / "orders.csv").write_bytes(data)
    with pytest.raises(RawDataError) as error:
        land_raw_data(raw, tmp_path / "db.duckdb", encodings=encodings)
    assert not (tmp_path / "db.duckdb").exists()
    return str(error.value)
