"""The project's own generic tests catch what they promise to: run through dbt
(`dbt show --inline` calling the test's macro) on small tables with one known
defect per entity."""

from __future__ import annotations

import json

from support import run_dbt

# entity: (valid_from, valid_to) intervals and the one failure expected, if any
INTERVALS = {
    "tiles": ([("2024-01-01", "2024-01-05"), ("2024-01-05", "2024-01-09"), ("2024-01-09", None)], None),
    "alone": ([("2024-01-01", None)], None),
    "two_open": ([("2024-01-01", None), ("2024-01-03", None)], "open interval before another interval"),
    "none_open": ([("2024-01-01", "2024-01-02")], "last interval is not open"),
    "gap": ([("2024-01-01", "2024-01-03"), ("2024-01-04", None)], "gap or overlap with previous interval"),
    "overlap": ([("2024-01-01", "2024-01-04"), ("2024-01-03", None)], "gap or overlap with previous interval"),
    "empty": ([("2024-01-01", "2024-01-01"), ("2024-01-01", None)], "empty or reversed interval"),
}


def _literal(value: str | None) -> str:
    return "null::date" if value is None else f"date '{value}'"


def _show(inline: str, tmp_path) -> list[dict]:
    """The rows `dbt show --inline` returns for a Jinja expression."""
    completed = run_dbt(["show", "--inline", inline, "--limit", "100", "--output", "json", "--log-format", "json"],
                        tmp_path / "t.duckdb", tmp_path / "target")
    shown = None
    for line in completed.stdout.splitlines():
        event = json.loads(line)
        if "preview" in event.get("data", {}):
            shown = json.loads(event["data"]["preview"])
    assert shown is not None, completed.stdout[-3000:]
    return shown


def test_contiguous_intervals_flags_each_kind_of_broken_timeline(tmp_path):
    rows = ", ".join(f"('{entity}', {_literal(start)}, {_literal(end)})"
                     for entity, (intervals, _) in INTERVALS.items() for start, end in intervals)
    table = f"(select * from (values {rows}) as t(entity, valid_from, valid_to))"
    shown = _show(f"{{{{ customer_lifecycle.test_contiguous_intervals(model={table!r}, partition_by=['entity']) }}}}",
                  tmp_path)
    failures = {(row["entity"], row["failure"]) for row in shown}
    expected = {(entity, failure) for entity, (_, failure) in INTERVALS.items() if failure}
    assert {entity for entity, _ in failures} == {entity for entity, _ in expected}
    assert expected <= failures


# k repeats as 'a' (3 rows) and 'b' (2); (k, v) repeats as (a, 1), (b, null) and (null, null)
KEYED = ("(select * from (values ('a', 1), ('a', 1), ('a', 2), ('b', null), ('b', null), (null, null), "
         "(null, null), ('c', 3)) as t(k, v))")


def test_the_uniqueness_tests_return_each_repeated_key_with_its_rows(tmp_path):
    # On DuckDB both go through the repeated hashes first (macros/deduplication.sql): the rows must be
    # those of a group by over every key. dbt's `unique` ignores nulls; the grain test groups them.
    unique = _show(f"{{{{ test_unique(model={KEYED!r}, column_name='k') }}}}", tmp_path)
    assert sorted((row["unique_field"], row["n_records"]) for row in unique) == [("a", 3), ("b", 2)]
    grain = _show(f"{{{{ customer_lifecycle.test_unique_combination_of_columns(model={KEYED!r}, "
                  f"combination_of_columns=['k', 'v']) }}}}", tmp_path)
    assert sorted(((row["k"] or ""), row["v"] or 0, row["rows_with_this_key"]) for row in grain) == [
        ("", 0, 2), ("a", 1, 2), ("b", 0, 2)]
