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
time: land first (`python -m orchestration.spark land`), then run dbt, never
both at once. Nothing here runs at import; pyspark is imported only when a
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
        return metas
    finally:
        if own_session and spark is not None:
            spark.stop()
        shutil.rmtree(export_dir, ignore_errors=True)


def warehouse_dir(project_dir: Path = settings.PROJECT_DIR) -> Path:
    """The local session's warehouse folder (spark.sql.warehouse.dir), absolute."""
    path = Path(spark_conf(project_dir)["spark.sql.warehouse.dir"].removeprefix("file:"))
    return path if path.is_absolute() else Path.cwd() / path


def copy_to_duckdb(warehouse: Path, duckdb_path: Path, schemas: tuple[str, ...] = ("marts", "audit")) -> list[str]:
    """Copy the Spark tables of `schemas` (Parquet folders <schema>.db/<table>/) into a DuckDB file.

    What a BI tool or `duckdb` does with the Spark marts: they are plain
    Parquet, `read_parquet('<warehouse>/marts.db/customers/*.parquet')`.
    Returns the tables copied, as schema.table.
    """
    copied = []
    con = duckdb.connect(str(duckdb_path))
    try:
        for schema in schemas:
            folder = Path(warehouse) / f"{schema}.db"
            if not folder.is_dir():
                continue
            con.execute(f"create schema if not exists {schema}")
            for table in sorted(p for p in folder.iterdir() if p.is_dir()):
                files = [f for f in table.glob("*.parquet") if not f.name.startswith((".", "_"))]
                if files:
                    source = f"read_parquet('{table}/*.parquet')"
                else:  # an empty table: Spark writes no data file, only the schema in the metastore
                    continue
                con.execute(f"create or replace table {schema}.{table.name} as select * from {source}")
                copied.append(f"{schema}.{table.name}")
    finally:
        con.close()
    return copied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    land_command = commands.add_parser("land", help="land RAW_DATA_DIR into Spark's raw schema")
    land_command.add_argument("--raw-dir", type=Path, default=None, help="default: RAW_DATA_DIR")
    land_command.add_argument("--duckdb-path", type=Path, default=None,
                              help="the DuckDB file the landing writes first (default: DUCKDB_PATH)")
    export_command = commands.add_parser("export", help="copy the Spark marts and audit tables into a DuckDB file")
    export_command.add_argument("duckdb_file", type=Path)
    export_command.add_argument("--schemas", default="marts,audit")
    args = parser.parse_args(argv)
    if args.command == "export":
        for name in copy_to_duckdb(warehouse_dir(), args.duckdb_file, tuple(args.schemas.split(","))):
            print(name)
        return 0
    try:
        metas = land(args.raw_dir or settings.raw_data_dir(), args.duckdb_path or settings.duckdb_path())
    except landing.RawDataError as error:
        print(str(error), file=sys.stderr)
        return 2
    for name, meta in metas.items():
        print(f"raw.{name}: {meta['rows']} rows, {meta['rejected_lines']} rejected lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
