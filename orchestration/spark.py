"""The Spark target: its session settings and the raw landing into Spark tables.

The dbt project builds on Apache Spark through dbt-spark (`DBT_TARGET=spark`,
README "Past one machine"). Two things happen outside dbt:

* **the session settings** are the `server_side_parameters` of the `spark`
  output in profiles.yml, the one place they are written; `session()` renders
  them (only `env_var` is available there, as in dbt) so a Python step opens
  the same warehouse and metastore as dbt does;
* **the raw landing** keeps one contract for both targets: RAW_DATA_DIR is
  landed by orchestration.landing into a DuckDB file exactly as for the DuckDB
  build (every value as text, `_raw_row_id`, `_source_file`, rejected CSV
  lines, the load log and the file ledger), and each `raw` relation is then
  written as a Parquet-backed Spark table `raw.<name>`. Refusals are the
  landing's own (RawDataError), raised before Spark is touched.

A local session's warehouse and Derby metastore belong to one process at a
time, and the JVM holds them until it exits: every Spark step (the landing's
copy, each dbt command, the CLV step, the export) is a process of its own.
The Dagster job runs them (orchestration.assets.raw, .clv_spark, .published);
`build_phases` gives the order of dbt selections and CLV runs the Spark bench
(orchestration.bench) takes. Nothing here runs at import; pyspark is imported only when a
session is opened (it is in the `spark` dependency group, not the base one).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import yaml

from orchestration import landing, settings

PROFILE = "customer_lifecycle"
OUTPUT = "spark"
RAW_SCHEMA = "raw"


def spark_conf(project_dir: Path = settings.PROJECT_DIR) -> dict[str, str]:
    """The spark output's server_side_parameters, rendered as dbt renders them (env_var only)."""
    profiles = yaml.safe_load((Path(project_dir) / "profiles.yml").read_text(encoding="utf-8"))
    output = profiles[PROFILE]["outputs"][OUTPUT]
    if output.get("method") != "session":
        raise ValueError(
            f"profiles.yml output {OUTPUT!r} uses method {output.get('method')!r}: the local landing needs "
            "method: session. Against a cluster, land the raw tables with the cluster's own tools."
        )

    def env_var(name: str, default: str | None = None) -> str:
        if name in os.environ:
            return os.environ[name]
        if default is None:
            raise ValueError(f"profiles.yml needs the environment variable {name}; set it and try again.")
        return default

    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return {
        str(key): environment.from_string(str(value)).render(env_var=env_var)
        for key, value in (output.get("server_side_parameters") or {}).items()
    }


def session(project_dir: Path = settings.PROJECT_DIR) -> Any:
    """A SparkSession with the profile's settings (Hive support, as dbt-spark's session method opens it).

    Relative warehouse and metastore paths resolve against the working
    directory, as in dbt: run from the checkout.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise RuntimeError(
            "pyspark is not installed: the Spark target's packages are the `spark` dependency group. "
            "Run `make install DBT_TARGET=spark` (or `make install-spark`)."
        ) from None
    builder = SparkSession.builder.enableHiveSupport().appName("customer_lifecycle")
    for key, value in spark_conf(project_dir).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _raw_relations(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = ? order by table_name",
            [RAW_SCHEMA],
        ).fetchall()
    ]


def land(raw_dir: Path, duckdb_path: Path, spark: Any | None = None) -> dict[str, dict]:
    """Land raw_dir into DuckDB (the one landing), then copy every raw relation into Spark.

    Always a full landing: the Spark staging models are tables rebuilt from
    every raw row (macros/incremental_staging.sql). Returns the landing's
    per-entity metadata. `spark`: an open session to use (it stays open);
    by default one is opened and stopped.
    """
    metas = landing.land_raw_data(Path(raw_dir), Path(duckdb_path))
    copy_raw_to_spark(duckdb_path, spark)
    return metas


def copy_raw_to_spark(duckdb_path: Path, spark: Any | None = None) -> list[str]:
    """Write every relation of the landed DuckDB file's `raw` schema as a Parquet Spark table raw.<name>.

    Tables Spark has in `raw` that the landing does not are dropped. Returns the
    names written. `spark`: an open session to use (it stays open); by default
    one is opened and stopped.
    """
    export_dir = Path(tempfile.mkdtemp(prefix=".spark-raw-", dir=Path(duckdb_path).resolve().parent))
    own_session = spark is None
    try:
        con = landing.connect(Path(duckdb_path), read_only=True)
        try:
            files: dict[str, Path] = {}
            for name in _raw_relations(con):
                path = export_dir / f"table-{name}.parquet"  # Spark skips files named _*
                con.execute(f"copy (select * from {RAW_SCHEMA}.{name}) to '{path}' (format parquet)")
                files[name] = path
        finally:
            con.close()
        spark = session() if own_session else spark
        spark.sql(f"create database if not exists {RAW_SCHEMA}")
        existing = {row.tableName for row in spark.sql(f"show tables in {RAW_SCHEMA}").collect()}
        for name in existing - set(files):
            spark.sql(f"drop table if exists {RAW_SCHEMA}.{name}")
        for name, path in files.items():
            # written in full, then the table is swapped: a reader never sees half a table
            frame = spark.read.parquet(str(path))
            frame.write.mode("overwrite").format("parquet").saveAsTable(f"{RAW_SCHEMA}.{name}")
        return sorted(files)
    finally:
        if own_session and spark is not None:
            spark.stop()
        shutil.rmtree(export_dir, ignore_errors=True)


def warehouse_dir(project_dir: Path = settings.PROJECT_DIR) -> Path:
    """The local session's warehouse folder (spark.sql.warehouse.dir), absolute."""
    path = Path(spark_conf(project_dir)["spark.sql.warehouse.dir"].removeprefix("file:"))
    return path if path.is_absolute() else Path.cwd() / path


def warehouse_tables(warehouse: Path, schemas: tuple[str, ...] | None = None) -> list[tuple[str, str, str | None]]:
    """The tables of a local Spark warehouse as (schema, table, Parquet glob), sorted.

    A table is a folder `<schema>.db/<table>/` of Parquet files (files named
    `.*` or `_*` are Spark's bookkeeping, not data). The glob is None for a
    table Spark wrote no data file for: an empty table, whose columns only the
    metastore knows. `schemas` limits the schemas read (default: all).
    """
    root = Path(warehouse)
    if not root.is_dir():
        return []
    folders = sorted(root.glob("*.db")) if schemas is None else [root / f"{schema}.db" for schema in schemas]
    found = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for table in sorted(p for p in folder.iterdir() if p.is_dir()):
            has_data = any(not f.name.startswith((".", "_")) for f in table.glob("*.parquet"))
            found.append((folder.name.removesuffix(".db"), table.name, str(table / "*.parquet") if has_data else None))
    return found


def copy_to_duckdb(warehouse: Path, duckdb_path: Path, schemas: tuple[str, ...] = ("marts", "audit")) -> list[str]:
    """Copy the Spark tables of `schemas` (Parquet folders <schema>.db/<table>/) into a DuckDB file.

    What a BI tool or `duckdb` does with the Spark marts: they are plain
    Parquet, `read_parquet('<warehouse>/marts.db/customers/*.parquet')`.
    Spark writes no data file for an empty table, only its columns in the
    metastore: those tables are created empty from the columns a Spark
    session reads (empty_tables_from_spark), never skipped. Returns the
    tables copied, as schema.table.
    """
    copied, empty = [], []
    con = duckdb.connect(str(duckdb_path))
    try:
        for schema, name, parquet in warehouse_tables(warehouse, schemas):
            con.execute(f"create schema if not exists {schema}")
            if parquet is None:
                empty.append(f"{schema}.{name}")
                continue
            source = "read_parquet('" + parquet.replace("'", "''") + "')"
            con.execute(f"create or replace table {schema}.{name} as select * from {source}")
            copied.append(f"{schema}.{name}")
        if empty:
            for name, columns in empty_tables_from_spark(empty).items():
                con.register("__empty", columns)
                con.execute(f"create or replace table {name} as select * from __empty")
                con.unregister("__empty")
                copied.append(name)
    finally:
        con.close()
    return sorted(copied)


def empty_tables_from_spark(names: list[str]) -> dict[str, Any]:
    """schema.table -> an empty Arrow table with the Spark table's columns (read through a session).

    Timestamps come as DuckDB's TIMESTAMP (naive UTC), as read_parquet reads
    Spark's Parquet timestamps.
    """
    import pyarrow as pa

    spark = session()
    try:
        tables = {}
        for name in names:
            schema = spark.table(name).limit(0).toArrow().schema
            naive = pa.schema([f.with_type(pa.timestamp(f.type.unit)) if pa.types.is_timestamp(f.type) else f
                               for f in schema])
            tables[name] = naive.empty_table()
        return tables
    finally:
        spark.stop()


BUILT_TYPES = ("model", "seed", "snapshot")


def build_phases(manifest: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The steps of a Spark build: dbt selections alternating with runs of the Python models.

    The Dagster job gets the same order from its asset graph (it splits the dbt
    and CLV multi-assets by their dependencies); the bench times these steps.

    Python models and SQL models interleave (int_clv_backtest_tracking, a
    Python model, reads int_clv_backtest_scored, a SQL model that reads the
    Python int_clv_backtest_predictions), so each node gets a phase: SQL
    nodes even, Python models odd, every node in the first phase of its kind
    not before any of its parents. Returns, in order, ("dbt", names) for a
    `dbt build` of those models, seeds and snapshots, ("python", names) for
    orchestration.spark_clv, and ("tests", names) for the data tests of the
    Python models just run. Each data test runs once, in the step after all
    of its parents are built (it is selected by name, with dbt's indirect
    selection off). dbt unit tests are not in the list.
    """
    nodes = {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] in (*BUILT_TYPES, "test")}
    phase: dict[str, int] = {}

    def is_python(node) -> bool:
        return node["resource_type"] == "model" and node.get("language") == "python"

    def phase_of(uid: str) -> int:
        if uid not in phase:
            node = nodes[uid]
            parents = [phase_of(p) for p in node.get("depends_on", {}).get("nodes", []) if p in nodes]
            start = max(parents, default=0)
            if node["resource_type"] != "test" and (start % 2 == 1) != is_python(node):
                start += 1   # the next phase of this node's kind
            phase[uid] = start
        return phase[uid]

    for uid in nodes:
        phase_of(uid)
    steps: list[tuple[str, list[str]]] = []
    for number in range(max(phase.values(), default=0) + 1):
        here = [nodes[uid] for uid in sorted(nodes) if phase[uid] == number]
        built = sorted(n["name"] for n in here if n["resource_type"] != "test")
        tests = sorted(n["name"] for n in here if n["resource_type"] == "test")
        if number % 2 == 0 and (built or tests):
            steps.append(("dbt", built + tests))
        elif number % 2 == 1:
            steps.append(("python", built))
            if tests:
                steps.append(("tests", tests))
    return steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    land_command = commands.add_parser("land", help="land RAW_DATA_DIR into Spark's raw schema")
    land_command.add_argument("--raw-dir", type=Path, default=None, help="default: RAW_DATA_DIR")
    land_command.add_argument("--duckdb-path", type=Path, default=None,
                              help="the DuckDB file the landing writes first (default: DUCKDB_PATH)")
    raw_command = commands.add_parser("raw-to-spark",
                                      help="copy the raw schema of an already landed DuckDB file into Spark")
    raw_command.add_argument("duckdb_file", type=Path)
    export_command = commands.add_parser("export", help="copy the Spark marts and audit tables into a DuckDB file")
    export_command.add_argument("duckdb_file", type=Path)
    export_command.add_argument("--schemas", default="marts,audit")
    args = parser.parse_args(argv)
    if args.command == "raw-to-spark":
        for name in copy_raw_to_spark(args.duckdb_file):
            print(f"{RAW_SCHEMA}.{name}")
        return 0
    if args.command == "export":
        for name in copy_to_duckdb(warehouse_dir(), args.duckdb_file, tuple(args.schemas.split(","))):
            print(name)
        return 0
    duckdb_path = args.duckdb_path or settings.duckdb_path()
    try:
        metas = land(args.raw_dir or settings.raw_data_dir(), duckdb_path)
    except landing.RawDataError as error:
        landing.record_refusal(duckdb_path, str(error))   # orchestration.run prints it last
        print(str(error), file=sys.stderr)
        return 2
    for name, meta in metas.items():
        print(f"raw.{name}: {meta['rows']} rows, {meta['rejected_lines']} rejected lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
