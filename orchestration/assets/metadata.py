"""What a dbt materialization tells its reader, read from the built database.

dbt holds DuckDB's single write lock for the whole `dbt build`, so nothing can
read the database while it runs (dagster-dbt's own ``fetch_row_counts`` would
query it from a second connection mid-build). The build's events are
therefore held until dbt exits, then each seed and model materialization gets,
from one read-only connection:

* ``as_of_date``: the date the build judged as of;
* ``dagster/row_count``: the relation's rows (views counted too: staging's
  clean and quarantine models are views);
* ``dagster/column_schema``: its columns as built, typed, with the
  descriptions from the model's YAML;
* staging models of an entity: the reconciliation figures (raw rows, clean
  rows, quarantined rows, whether they add up) and quarantined rows per
  reason;
* ``marts/clv_model_fits`` and ``intermediate/int_clv_fits``: the fit status
  per model and segment;
* ``intermediate/int_customers_to_recompute``: how many customers the
  per-customer lifecycle models recomputed (all of them in a full build), and why;
* ``intermediate/int_periods_to_recompute``: the day from which the period
  models recomputed their periods (every period in a full build).

The events keep dbt's order; only their timing moves (to the end of the
build). If the database cannot be read, the events go out without the
extra metadata and a warning says why: metadata never fails a build.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

STAGING_PREFIX = "stg_raw__"
CLV_FIT_MODELS = ("clv_model_fits", "int_clv_fits")
RECOMPUTE_MODEL = "int_customers_to_recompute"
PERIODS_MODEL = "int_periods_to_recompute"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def relation_of(node: Mapping[str, Any]) -> tuple[str, str]:
    """(schema, name) of the relation a seed or model builds."""
    return node["schema"], node.get("alias") or node["name"]


def staging_entity(model_name: str) -> str | None:
    """The raw entity a staging model belongs to (`stg_raw__orders_checked` -> `orders`)."""
    if not model_name.startswith(STAGING_PREFIX):
        return None
    entity = model_name[len(STAGING_PREFIX):]
    for suffix in ("_checked", "_quarantine"):
        if entity.endswith(suffix):
            return entity[: -len(suffix)]
    return entity


def column_schema(con: duckdb.DuckDBPyConnection, node: Mapping[str, Any]) -> dg.TableSchema | None:
    schema, name = relation_of(node)
    rows = con.execute(
        "select column_name, data_type, is_nullable from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, name],
    ).fetchall()
    if not rows:
        return None
    documented = {column.lower(): props.get("description") or None for column, props in node.get("columns", {}).items()}
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=column,
                type=data_type,
                description=documented.get(column.lower()),
                constraints=dg.TableColumnConstraints(nullable=nullable == "YES"),
            )
            for column, data_type, nullable in rows
        ]
    )


def row_count(con: duckdb.DuckDBPyConnection, node: Mapping[str, Any]) -> int:
    schema, name = relation_of(node)
    return con.execute(f"select count(*) from {_ident(schema)}.{_ident(name)}").fetchone()[0]


def reconciliation(con: duckdb.DuckDBPyConnection, entity: str, staging_schema: str) -> dict[str, Any]:
    """Raw = clean + quarantined for one entity, and its quarantined rows per reason."""
    raw = con.execute(f"select count(*) from raw.{_ident(entity)}").fetchone()[0]
    checked = f"{_ident(staging_schema)}.{_ident(STAGING_PREFIX + entity + '_checked')}"
    clean, quarantined = con.execute(
        f"select count(*) filter (where quarantine_reason is null), "
        f"count(*) filter (where quarantine_reason is not null) from {checked}"
    ).fetchone()
    reasons = con.execute(
        f"select quarantine_reason, count(*) from {checked} where quarantine_reason is not null "
        "group by 1 order by 2 desc, 1"
    ).fetchall()
    return {
        "raw_rows": raw,
        "clean_rows": clean,
        "quarantined_rows": quarantined,
        "reconciles": raw == clean + quarantined,
        "quarantine_reasons": dg.MetadataValue.json({reason: rows for reason, rows in reasons}),
    }


def clv_fit_status(con: duckdb.DuckDBPyConnection, node: Mapping[str, Any]) -> dict[str, Any]:
    """The status of every CLV fit (model x segment), and how many came out `ok`."""
    schema, name = relation_of(node)
    columns = {row[0] for row in con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?", [schema, name]
    ).fetchall()}
    scored = "max(customers_scored)" if "customers_scored" in columns else "null"
    rows = con.execute(
        f"select model, segment_level, segment, any_value(status), {scored} "
        f"from {_ident(schema)}.{_ident(name)} group by all order by 1, 2, 3"
    ).fetchall()
    lines = ["| model | level | segment | status | customers scored |", "|---|---|---|---|---|"]
    lines += [f"| {m} | {lvl} | {seg} | {status} | {'' if n is None else n} |" for m, lvl, seg, status, n in rows]
    return {
        "clv_fits_ok": sum(1 for row in rows if row[3] == "ok"),
        "clv_fits_not_ok": sum(1 for row in rows if row[3] != "ok"),
        "clv_fit_status": dg.MetadataValue.md("\n".join(lines)),
    }


def recompute_counts(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> dict[str, Any]:
    """Counts of a built int_customers_to_recompute: customers listed, per reason, and whether all were."""
    rows, new_rows, dated_since, due, full = con.execute(
        "select count(*), count(*) filter (has_new_rows), count(*) filter (has_rows_dated_since_previous_build), "
        f"count(*) filter (is_stage_change_due), coalesce(bool_or(is_full_recompute), false) "
        f"from {_ident(schema)}.{_ident(name)}"
    ).fetchone()
    return {"rows": rows, "new_rows": new_rows, "dated_since": dated_since, "due": due, "full": full}


def customers_recomputed(con: duckdb.DuckDBPyConnection, node: Mapping[str, Any]) -> dict[str, Any]:
    """How many customers the per-customer lifecycle models recomputed, of how many, and why."""
    counts = recompute_counts(con, *relation_of(node))
    return {
        "customers_recomputed": counts["rows"],
        "customers_recomputed_why": dg.MetadataValue.json({
            "every customer (no incremental plan as of this date)": counts["rows"] if counts["full"] else 0,
            "new rows": counts["new_rows"], "rows dated since the last build": counts["dated_since"],
            "stage change due": counts["due"],
        }),
    }


def periods_recomputed(con: duckdb.DuckDBPyConnection, node: Mapping[str, Any]) -> dict[str, Any]:
    """From which day the period models recomputed their periods (every period when null)."""
    schema, name = relation_of(node)
    row = con.execute(f"select recompute_from_date from {_ident(schema)}.{_ident(name)}").fetchone()
    first_day = row[0] if row else None
    return {"periods_recomputed_from": first_day.isoformat() if first_day is not None else "every period"}


def node_metadata(
    con: duckdb.DuckDBPyConnection, node: Mapping[str, Any], staging_schema: str
) -> dict[str, Any]:
    """Everything the database says about one built seed or model."""
    metadata: dict[str, Any] = {"dagster/row_count": row_count(con, node)}
    schema = column_schema(con, node)
    if schema is not None:
        metadata["dagster/column_schema"] = schema
    entity = staging_entity(node["name"]) if node["resource_type"] == "model" else None
    extras = []
    if entity is not None:
        extras.append(("reconciliation", lambda: reconciliation(con, entity, staging_schema)))
    if node["name"] in CLV_FIT_MODELS and node["resource_type"] == "model":
        extras.append(("CLV fit status", lambda: clv_fit_status(con, node)))
    if node["name"] == RECOMPUTE_MODEL and node["resource_type"] == "model":
        extras.append(("customers recomputed", lambda: customers_recomputed(con, node)))
    if node["name"] == PERIODS_MODEL and node["resource_type"] == "model":
        extras.append(("periods recomputed", lambda: periods_recomputed(con, node)))
    for label, compute in extras:
        try:
            metadata.update(compute())
        except duckdb.Error as error:  # a model whose shape changed: the basics still go out
            metadata[f"{label} unavailable"] = str(error).splitlines()[0]
    return metadata


def _staging_schema(manifest: Mapping[str, Any]) -> str:
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and staging_entity(node["name"]):
            return node["schema"]
    return "staging"


def _unique_id_of(event: Any) -> str | None:
    if isinstance(event, (dg.Output, dg.AssetMaterialization)):
        value = event.metadata.get("unique_id")
        return getattr(value, "value", value)
    return None


def spark_warehouse_reader(warehouse: Path | None = None) -> Callable[[], duckdb.DuckDBPyConnection]:
    """A connection factory over a local Spark warehouse: an in-memory DuckDB with a view per Parquet table.

    What the metadata reads on the Spark target (`method: session`): each table
    folder `<schema>.db/<table>/` holding Parquet files becomes the view
    `<schema>.<table>`. Spark views and empty tables (no Parquet file) are not
    there; their materializations go out with the as-of date only.
    """

    def connect() -> duckdb.DuckDBPyConnection:
        from orchestration.spark import warehouse_dir, warehouse_tables

        con = duckdb.connect()
        for schema, name, parquet in warehouse_tables(Path(warehouse) if warehouse is not None else warehouse_dir()):
            con.execute(f"create schema if not exists {_ident(schema)}")
            if parquet is not None:
                pattern = parquet.replace("'", "''")
                con.execute(f"create view {_ident(schema)}.{_ident(name)} as select * from read_parquet('{pattern}')")
        return con

    return connect


def _enrich(events: list[Any], manifest: Mapping[str, Any], source: Path | Callable[[], duckdb.DuckDBPyConnection],
            as_of: dt.date, log) -> Iterator[Any]:
    built = [uid for uid in map(_unique_id_of, events) if uid in manifest["nodes"]]
    extra: dict[str, dict[str, Any]] = {}
    if built:
        try:
            con = source() if callable(source) else duckdb.connect(str(source), read_only=True)
        except duckdb.Error as error:
            log.warning(f"materialization metadata left out: cannot read {source}: {error}")
            con = None
        if con is not None:
            try:
                staging_schema = _staging_schema(manifest)
                if callable(source):  # the Spark warehouse: only its Parquet tables can be read
                    present = set(con.execute("select table_schema, table_name from information_schema.tables")
                                  .fetchall())
                    built = [uid for uid in built if relation_of(manifest["nodes"][uid]) in present]
                for uid in built:
                    try:
                        extra[uid] = node_metadata(con, manifest["nodes"][uid], staging_schema)
                    except duckdb.Error as error:
                        log.warning(f"metadata of {uid} left out: {error}")
            finally:
                con.close()
    for event in events:
        uid = _unique_id_of(event)
        if uid is None:
            yield event
            continue
        yield event.with_metadata({**event.metadata, "as_of_date": as_of.isoformat(), **extra.get(uid, {})})


def with_build_metadata(
    stream: Iterable[Any], manifest: Mapping[str, Any], duckdb_path: Path | Callable[[], duckdb.DuckDBPyConnection],
    as_of: dt.date, log,
) -> Iterator[Any]:
    """dbt's events, held until dbt exits, then yielded in order with the database's metadata.

    duckdb_path: the built DuckDB file, or a function that opens a connection to
    read instead (on Spark, spark_warehouse_reader()).

    When dbt fails, the events it produced are still yielded (their assets
    were built) before the failure is raised again.
    """
    events: list[Any] = []
    try:
        for event in stream:
            events.append(event)
    except Exception:
        yield from _enrich(events, manifest, duckdb_path, as_of, log)
        raise
    yield from _enrich(events, manifest, duckdb_path, as_of, log)
