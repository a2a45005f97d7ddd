"""Property: every row or line written to a raw file ends clean or quarantined, never lost, never duplicated.

Hypothesis writes random mixes of valid rows and broken lines (too few or too
many fields, an unclosed quote, an invalid UTF-8 byte, a NUL) in CSV files of
random dialect (delimiter, line ending, BOM, gzip), and random rows with
missing or unparseable values in Parquet. The landing step runs on each
example; then dbt builds staging and the reconciliation audit once on a larger
random example, where every written line must be in exactly one of the clean
model or the quarantine.
"""

from __future__ import annotations

import gzip
import random
import shutil
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import query, run_dbt

from orchestration.landing import RawDataError, land_raw_data

HEADER = ("order_id", "customer_id", "ordered_at", "amount")
BROKEN_KINDS = ("too_few", "too_many", "unclosed_quote", "bad_byte", "nul")

# values a valid row may hold: text with spaces, delimiters and quotes (quoted
# as CSV requires), non-ASCII letters, empty values, odd dates and amounts
value = st.text(alphabet=st.sampled_from(list("abcXYZ019 ,;|'\"-_éü客户")), max_size=8)
line_kind = st.sampled_from(("valid",) * 3 + BROKEN_KINDS)


def quote(field: str, delimiter: str) -> str:
    if any(ch in field for ch in (delimiter, '"')) or field != field.strip():
        return '"' + field.replace('"', '""') + '"'
    return field


def make_line(kind: str, marker: str, fields: list[str], delimiter: str) -> bytes:
    cells = [marker, *fields]
    if kind == "valid":
        return delimiter.join(quote(c, delimiter) for c in cells).encode()
    if kind == "too_few":
        return (marker + delimiter + "c1").encode()
    if kind == "too_many":
        return delimiter.join([marker, "c1", "2024-01-01", "5", "extra"]).encode()
    if kind == "unclosed_quote":
        return (marker + delimiter + '"' + "open" + delimiter + "2024-01-01" + delimiter + "5").encode()
    if kind == "bad_byte":
        return marker.encode() + delimiter.encode() + b"c\xff\xfe" + (delimiter + "2024-01-01" + delimiter + "5").encode()
    return (marker + delimiter + "c\x00x" + delimiter + "2024-01-01" + delimiter + "5").encode()


def write_csv(path: Path, lines: list[tuple[str, list[str]]], delimiter: str, newline: str, bom: bool,
              compress: bool) -> dict[str, tuple[str, int]]:
    """Write the file; return marker -> (kind, line number)."""
    written: dict[str, tuple[str, int]] = {}
    out = [delimiter.join(HEADER).encode()]
    for index, (kind, fields) in enumerate(lines):
        marker = f"id{index}"
        out.append(make_line(kind, marker, fields, delimiter))
        written[marker] = (kind, index + 2)  # the header is line 1
    data = (b"\xef\xbb\xbf" if bom else b"") + newline.encode().join(out) + newline.encode()
    if compress:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)
    return written


csv_examples = st.fixed_dictionaries({
    "lines": st.lists(st.tuples(line_kind, st.lists(value, min_size=3, max_size=3)), min_size=1, max_size=25),
    "delimiter": st.sampled_from([",", ";", "\t", "|"]),
    "newline": st.sampled_from(["\n", "\r\n"]),
    "bom": st.booleans(),
    "compress": st.booleans(),
})


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(example=csv_examples)
def test_every_csv_line_lands_once_as_a_row_or_a_rejected_line(tmp_path_factory, example):
    root = tmp_path_factory.mktemp("prop_csv")
    raw = root / "raw"
    raw.mkdir()
    # a valid row needs at least one line that is valid for the file to be more than a header
    written = write_csv(raw / "orders.csv", example["lines"], example["delimiter"], example["newline"],
                        example["bom"], example["compress"])
    db = root / "db.duckdb"
    try:
        land_raw_data(raw, db, encodings={})
    except RawDataError as refusal:
        # Mostly-invalid UTF-8 with no BOM reads as another encoding: the whole
        # file is refused, saying which encoding to declare (nothing half-loaded).
        # That is the only acceptable refusal here, and only for such a file.
        bad_byte_lines = sum(1 for kind, _ in written.values() if kind == "bad_byte")
        assert "is not UTF-8" in str(refusal) and "RAW_CSV_ENCODING=orders=" in str(refusal)
        assert not example["bom"] and bad_byte_lines >= 2
        return

    loaded = [r[0] for r in query(db, "select order_id from raw.orders")]
    rejected = query(db, "select line_number, reason from raw._rejected_lines")
    valid = {m for m, (kind, _) in written.items() if kind == "valid"}
    broken_lines = {line for kind, line in written.values() if kind != "valid"}

    assert sorted(loaded) == sorted(valid), "every valid row loads exactly once"
    assert sorted(line for line, _ in rejected) == sorted(broken_lines), "every broken line is rejected once"
    assert len(loaded) + len(rejected) == len(written)
    # values survive the trip, quotes and delimiters included
    rows = dict(query(db, "select order_id, customer_id from raw.orders"))
    for marker in valid:
        index = int(marker[2:])
        assert (rows[marker] or "") == example["lines"][index][1][0]  # an empty value lands as null


parquet_value = st.one_of(st.none(), st.text(max_size=6), st.sampled_from(["2024-01-01", "1900-01-01", "x", "-5"]))


@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(parquet_value, parquet_value, parquet_value, parquet_value), min_size=1, max_size=30),
       parts=st.integers(min_value=1, max_value=3))
def test_every_parquet_row_lands_once(tmp_path_factory, rows, parts):
    root = tmp_path_factory.mktemp("prop_parquet")
    folder = root / "raw" / "orders"
    folder.mkdir(parents=True)
    con = duckdb.connect()
    chunks = [rows[i::parts] for i in range(parts)]
    for number, chunk in enumerate(chunks):
        if not chunk:
            continue
        con.execute("create or replace table t (order_id varchar, customer_id varchar, ordered_at varchar, amount varchar)")
        con.executemany("insert into t values (?, ?, ?, ?)", chunk)
        con.execute(f"copy t to '{folder}/part-{number}.parquet' (format parquet)")
    db = root / "db.duckdb"
    land_raw_data(root / "raw", db, encodings={})
    landed = query(db, "select _raw_row_id, order_id, customer_id, ordered_at, amount from raw.orders")
    assert len({r[0] for r in landed}) == len(landed) == len(rows)
    assert sorted(map(repr, (r[1:] for r in landed))) == sorted(map(repr, rows))


def test_staging_reconciles_a_random_mix(tmp_path):
    """One dbt build of staging and the audit on a larger random mix: orders as a folder of three CSV
    files of different dialects, customers as two Parquet files; reconciled in total and file by file."""
    rng = random.Random(20261201)
    raw = tmp_path / "raw"
    (raw / "orders").mkdir(parents=True)
    written_per_file: dict[str, dict[str, tuple[str, int]]] = {}
    for number, (delimiter, newline, bom, compress) in enumerate(
            [(";", "\r\n", True, False), (",", "\n", False, True), ("|", "\n", False, False)]):
        kinds = ["valid"] * 100 + [rng.choice(BROKEN_KINDS) for _ in range(20)]
        rng.shuffle(kinds)
        lines = []
        for kind in kinds:
            date = rng.choice(["2024-01-05 10:00:00", "2024-02-30", "1900-01-01", "1999-05-05", "2024-03-01", "", "x"])
            amount = rng.choice(["5", "12.50", "-3", "", "abc", "100000000"])
            # non-ASCII ids: a file without a BOM and with bad bytes is still recognised as UTF-8
            lines.append((kind, [f"\u5ba2\u6237{rng.randint(1, 40)}", date, amount]))
        path = raw / "orders" / f"part-{number}.csv"
        # markers restart at id0 in every file: the same order ids across files are duplicates
        written = write_csv(path, lines, delimiter, newline, bom=bom, compress=compress)
        written_per_file[path.name + (".gz" if compress else "")] = written
    con = duckdb.connect()
    (raw / "customers").mkdir()
    for part, (low, high) in enumerate([(1, 31), (25, 61)]):  # c25..c30 are in both files
        con.execute(
            "copy (select 'c' || i as customer_id, "
            "case i % 7 when 0 then '1900-01-01' when 1 then 'bad' when 2 then null else '2023-06-01' end as registered_at "
            f"from range({low}, {high}) t(i)) to '{raw}/customers/part-{part}.parquet' (format parquet)"
        )
    db = tmp_path / "db.duckdb"
    land_raw_data(raw, db, encodings={})
    run_dbt(["build", "--select", "+row_reconciliation", "+row_reconciliation_per_file", "+quarantine_reasons",
             "--indirect-selection", "cautious"], db, tmp_path / "target", as_of="2024-06-30")
    counts = dict((e, (raw_rows, clean, quarantined)) for e, raw_rows, clean, quarantined in query(
        db, "select entity, raw_rows, clean_rows, quarantined_rows from audit.row_reconciliation"))
    assert counts["orders"][0] == sum(len(written) for written in written_per_file.values())
    assert counts["customers"][0] == 30 + 36
    for entity, (raw_rows, clean, quarantined) in counts.items():
        assert raw_rows == clean + quarantined, entity
    per_file = {(entity, name): (raw_rows, clean, quarantined) for entity, name, raw_rows, clean, quarantined in query(
        db, "select entity, parse_filename(source_file), raw_rows, clean_rows, quarantined_rows "
            "from audit.row_reconciliation_per_file")}
    assert per_file.keys() == {("orders", name) for name in written_per_file} | {
        ("customers", "part-0.parquet"), ("customers", "part-1.parquet")}
    for (entity, name), (raw_rows, clean, quarantined) in per_file.items():
        assert raw_rows == clean + quarantined, name
        assert raw_rows == (len(written_per_file[name]) if entity == "orders" else 30 if name == "part-0.parquet" else 36)
    # every written order line is in exactly one place, found by its file and its marker or line number
    clean_ids = query(db, "select parse_filename(source_file), order_id from staging.stg_raw__orders")
    quarantined = query(db, "select parse_filename(source_file), order_id, source_line_number "
                            "from staging.stg_raw__orders_quarantine")
    seen = [f"{name}:{order_id}" for name, order_id in clean_ids] + [
        f"{name}:{order_id or f'line{line}'}" for name, order_id, line in quarantined]
    expected = [f"{name}:{m if kind == 'valid' else f'line{line}'}"
                for name, written in written_per_file.items() for m, (kind, line) in written.items()]
    assert sorted(seen) == sorted(expected)
    shutil.rmtree(tmp_path / "target", ignore_errors=True)
