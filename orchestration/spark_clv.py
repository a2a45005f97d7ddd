"""The CLV dbt Python models on Spark: the same model files, run beside dbt.

dbt-spark runs Python models only on Databricks; its `session` method (and
`thrift`) cannot. The seven CLV nodes (int_clv_fits, int_clv_predictions, ...,
the backtest's three) are dbt Python models written against dbt's Python model
contract: a function ``model(dbt, session)`` that calls ``dbt.ref(name)``,
``dbt.config.get(key)`` and ``dbt.this``, and returns a table. On DuckDB,
dbt-duckdb provides that contract; here this module provides it over Spark
tables, so the one definition of each model stays its file:

* the nodes, their code, their refs and their rendered config (vars such as
  clv_fit_time_unit, clv_horizon_months) come from the dbt manifest that the
  Spark build's own `dbt parse` wrote, so settings have one source;
* ``dbt.ref(name)`` is the Spark table the ref resolves to (the manifest's
  schema and alias), read whole through Arrow and handed to the model as a
  DuckDB relation in an in-memory DuckDB session, the API the model bodies use
  (project, filter, order, to_arrow_table, df);
* ``dbt.this`` is the model's previous Spark table, so the fits' reuse by
  input fingerprint (orchestration.clv.memo) works on Spark as on DuckDB;
* the returned table is written as a Parquet Spark table under the same
  schema and name, which the downstream SQL models then ref as usual.

Spark timestamps (UTC session time zone) reach the models as naive UTC
timestamps, as DuckDB's TIMESTAMP columns do, and naive timestamps the models
return are written back as UTC. Everything is read into the driver: right at
demo scale; at cluster scale the scoring would run as a pandas UDF per segment
(README, "Past one machine").

    python -m orchestration.spark_clv --manifest target/manifest.json

Runs in its own process (a local session's Derby metastore admits one process
at a time); the Dagster job (orchestration.assets.clv_spark) runs it between dbt steps.
Nothing runs at import.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa


class SparkCLVError(RuntimeError):
    """A CLV Python model cannot be run on Spark; the message says why and what to do."""


def python_models(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The manifest's enabled Python models, each after the Python models it refs."""
    nodes = {uid: node for uid, node in manifest["nodes"].items()
             if node.get("resource_type") == "model" and node.get("language") == "python"}
    ordered: list[dict[str, Any]] = []
    done: set[str] = set()

    def visit(uid: str, path: tuple[str, ...] = ()) -> None:
        if uid in done:
            return
        if uid in path:
            raise SparkCLVError(f"the Python models ref each other in a cycle: {' -> '.join(path + (uid,))}")
        for parent in nodes[uid]["depends_on"]["nodes"]:
            if parent in nodes:
                visit(parent, path + (uid,))
        done.add(uid)
        ordered.append(nodes[uid])

    for uid in sorted(nodes):
        visit(uid)
    return ordered


def relation_name(node: Mapping[str, Any]) -> str:
    """schema.alias: the Spark table a ref to this node resolves to (dbt-spark has no database level)."""
    return f"{node['schema']}.{node.get('alias') or node['name']}"


def _ref_targets(node: Mapping[str, Any], manifest: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """ref name -> the node it resolves to, from the node's own depends_on (as dbt resolved it)."""
    parents = [manifest["nodes"].get(uid) for uid in node["depends_on"]["nodes"]]
    by_name = {parent["name"]: parent for parent in parents if parent is not None}
    targets = {}
    for ref in node.get("refs", []):
        name = ref["name"] if isinstance(ref, Mapping) else ref[-1]
        if name not in by_name:
            raise SparkCLVError(f"{node['name']} refs {name!r}, which is not among its parsed dependencies; "
                                "re-parse the project (dbt parse with DBT_TARGET=spark) and run again.")
        targets[name] = by_name[name]
    return targets


def _for_duckdb(table: pa.Table) -> pa.Table:
    """A Spark table as DuckDB-built ones look: UTC timestamps naive (TIMESTAMP, not TIMESTAMPTZ)."""
    fields = []
    for field in table.schema:
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            field = field.with_type(pa.timestamp(field.type.unit))
        fields.append(field)
    return table.cast(pa.schema(fields))


def _for_spark(table: pa.Table) -> pa.Table:
    """A model's result as Spark takes it: naive timestamps are UTC, text is plain string."""
    fields = []
    for field in table.schema:
        if pa.types.is_timestamp(field.type) and field.type.tz is None:
            field = field.with_type(pa.timestamp("us", tz="UTC"))
        elif pa.types.is_large_string(field.type):
            field = field.with_type(pa.string())
        elif pa.types.is_dictionary(field.type):
            field = field.with_type(field.type.value_type)
        fields.append(field)
    return table.cast(pa.schema(fields))


def _as_arrow(result: Any, model_name: str) -> pa.Table:
    """What a Python model returned (pandas, Arrow or a DuckDB relation), as an Arrow table."""
    import pandas as pd

    if isinstance(result, pa.Table):
        return result
    if isinstance(result, pd.DataFrame):
        return pa.Table.from_pandas(result, preserve_index=False)
    if isinstance(result, duckdb.DuckDBPyRelation):
        return result.to_arrow_table()
    raise SparkCLVError(f"{model_name} returned {type(result).__name__}; a dbt Python model here must return "
                        "a pandas DataFrame, an Arrow table or a DuckDB relation.")


class _Config:
    def __init__(self, config: Mapping[str, Any]) -> None:
        self._config = config

    def get(self, key: str, default: Any = None) -> Any:
        return self._config.get(key, default)


class ModelContext:
    """The ``dbt`` object a Python model receives: ref, config.get and this, over Spark tables."""

    def __init__(self, node: Mapping[str, Any], manifest: Mapping[str, Any], tables: SparkTables) -> None:
        self._targets = _ref_targets(node, manifest)
        self._tables = tables
        self.config = _Config(node.get("config", {}))
        # the table this model last built, for its reuse look-up (None in DuckDB: not built yet)
        self.this = tables.register(relation_name(node))

    def ref(self, name: str, *args: Any, **kwargs: Any) -> duckdb.DuckDBPyRelation:
        if args or kwargs:
            raise SparkCLVError(f"ref({name!r}, ...) with a package or version is not supported on Spark yet.")
        if name not in self._targets:
            raise SparkCLVError(f"ref({name!r}) is not among the refs dbt parsed for this model; "
                                "re-parse the project (dbt parse with DBT_TARGET=spark).")
        return self._tables.session.table(self._tables.register(relation_name(self._targets[name])))


class SparkTables:
    """Spark tables copied into one in-memory DuckDB session, each read once and refreshed when written."""

    def __init__(self, spark: Any) -> None:
        self.spark = spark
        self.session = duckdb.connect()
        self.session.execute("set TimeZone = 'UTC'")
        self._loaded: set[str] = set()

    def register(self, name: str) -> str:
        """Load Spark table `name` (schema.table) into DuckDB under the same name, if Spark has it."""
        schema, table = name.split(".")
        if name not in self._loaded and self.spark.catalog.tableExists(name):
            arrow = _for_duckdb(self.spark.table(name).toArrow())
            self.session.execute(f'create schema if not exists "{schema}"')
            self.session.register("__incoming", arrow)
            self.session.execute(f'create or replace table "{schema}"."{table}" as select * from __incoming')
            self.session.unregister("__incoming")
            self._loaded.add(name)
        return f'"{schema}"."{table}"'

    def write(self, name: str, table: pa.Table) -> None:
        """Replace Spark table `name` with `table` (a Parquet table, as dbt-spark's table materialisation)."""
        schema = name.split(".")[0]
        self.spark.sql(f"create database if not exists {schema}")
        frame = self.spark.createDataFrame(_for_spark(table))
        frame.write.mode("overwrite").format("parquet").saveAsTable(name)
        self._loaded.discard(name)


def run_model(node: Mapping[str, Any], manifest: Mapping[str, Any], tables: SparkTables) -> int:
    """Run one Python model's own code against Spark tables and write its result; the row count."""
    context = ModelContext(node, manifest, tables)
    namespace: dict[str, Any] = {"__name__": f"model.{node['name']}"}
    exec(compile(node["raw_code"], node["original_file_path"], "exec"), namespace)  # noqa: S102 - the model file
    if not callable(namespace.get("model")):
        raise SparkCLVError(f"{node['original_file_path']} defines no model(dbt, session) function.")
    result = _as_arrow(namespace["model"](context, tables.session), node["name"])
    tables.write(relation_name(node), result)
    return result.num_rows


def run_python_models(spark: Any, manifest: Mapping[str, Any], select: Iterable[str] | None = None,
                      log=print) -> dict[str, int]:
    """Run the manifest's Python models (or those named in `select`) in dependency order; rows per model."""
    wanted = set(select) if select is not None else None
    tables = SparkTables(spark)
    rows: dict[str, int] = {}
    try:
        for node in python_models(manifest):
            if wanted is not None and node["name"] not in wanted:
                continue
            start = time.perf_counter()
            rows[node["name"]] = run_model(node, manifest, tables)
            log(f"{relation_name(node)}: {rows[node['name']]} rows ({time.perf_counter() - start:.1f} s)")
    finally:
        tables.session.close()
    return rows


def load_manifest(path: Path) -> dict[str, Any]:
    if not Path(path).is_file():
        raise SparkCLVError(f"no dbt manifest at {path}: run `dbt parse` with DBT_TARGET=spark first "
                            "(the Dagster job with DBT_TARGET=spark does).")
    manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    target = manifest.get("metadata", {}).get("adapter_type")
    if target != "spark":
        raise SparkCLVError(f"{path} was parsed for the {target!r} adapter; parse it with DBT_TARGET=spark "
                            "so refs resolve to the Spark schemas.")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, required=True, help="target/manifest.json of a Spark parse")
    parser.add_argument("--select", nargs="*", default=None, help="only these Python models (default: all)")
    args = parser.parse_args(argv)
    from orchestration.spark import session

    try:
        manifest = load_manifest(args.manifest)
    except SparkCLVError as error:
        print(str(error), file=sys.stderr)
        return 2
    spark = session()
    try:
        run_python_models(spark, manifest, args.select)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
