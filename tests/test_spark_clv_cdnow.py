"""CDNOW through the Spark path: the int_clv_fits model file, run on Spark by
orchestration.spark_clv over a Spark table of the CDNOW summary, gives Fader,
Hardie and Lee's published BG/NBD and Fader and Hardie's Gamma-Gamma
parameters (as tests/test_clv_pipeline_cdnow.py checks on DuckDB), and the
same fits as the DuckDB path's fit function on the same rows.

Marked `spark`: it opens a local Spark session (Java 17, `make install-spark`)
in this process, on a warehouse and metastore of its own.
"""

from __future__ import annotations

import json
import os

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from clv_cdnow import CALIBRATION_END, cdnow_sample_transactions
from support import PROJECT_DIR, run_dbt

from orchestration import clv
from orchestration.clv.dbt_fits import fit_summary

pytestmark = pytest.mark.spark

PUBLISHED = {
    "bg_nbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "gamma_gamma": {"p": 6.25, "q": 3.74, "gamma": 15.44},
}
REL_TOL = 0.01


def cdnow_fit_summary() -> pa.Table:
    """int_clv_fit_summary's columns and types on Spark, for the CDNOW sample as of the calibration end."""
    daily = clv.rfm_summary(cdnow_sample_transactions(), calibration_end=CALIBRATION_END, time_unit="days")
    frame = pd.DataFrame({
        "merchant_id": "default",
        "customer_id": daily["customer_id"].astype(str),
        "industry": "default",
        "frequency": daily["frequency"].astype("int64"),
        "recency_days": daily["recency"].round().astype("int64"),
        "t_days": daily["T"].round().astype("int64"),
        "monetary_value": daily["monetary_value"].astype(float),
        "fit_date": pd.Timestamp(CALIBRATION_END).date(),
    })
    return pa.Table.from_pandas(frame, preserve_index=False)


@pytest.fixture(scope="module")
def fits(tmp_path_factory):
    pytest.importorskip("pyspark", reason="the spark dependency group is not installed (make install-spark)")
    from orchestration.spark import session
    from orchestration.spark_clv import load_manifest, run_python_models

    root = tmp_path_factory.mktemp("spark_cdnow")
    spark_env = {"DBT_TARGET": "spark", "SPARK_WAREHOUSE_DIR": str(root / "warehouse"),
                 "SPARK_METASTORE_DIR": str(root / "metastore")}
    # the model's settings come from the manifest of a Spark parse, as in a Spark build
    run_dbt(["parse", "--vars", json.dumps({"as_of_date": CALIBRATION_END, "clv_refit_every": "day"})],
            root / "unused.duckdb", root / "target", extra_env=spark_env)
    manifest = load_manifest(root / "target" / "manifest.json")
    summary = cdnow_fit_summary()
    saved = {name: os.environ.get(name) for name in spark_env}
    os.environ.update(spark_env)
    spark = session(PROJECT_DIR)
    try:
        spark.sql("create database if not exists intermediate")
        spark.createDataFrame(summary).write.mode("overwrite").format("parquet") \
            .saveAsTable("intermediate.int_clv_fit_summary")
        rows = run_python_models(spark, manifest, select=["int_clv_fits"], log=lambda line: None)
        on_spark = spark.table("intermediate.int_clv_fits").toPandas()
    finally:
        spark.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    assert rows == {"int_clv_fits": len(on_spark)}
    node = next(n for n in manifest["nodes"].values() if n["name"] == "int_clv_fits")
    con = duckdb.connect()
    con.register("summary", summary)
    on_duckdb = fit_summary(
        con.table("summary"), as_of_column="fit_date",
        **{key: node["config"][name] for key, name in (
            ("fit_time_unit", "fit_time_unit"), ("min_customers", "min_customers"),
            ("min_repeat_buyers", "min_repeat_buyers"), ("flat_priors", "flat_priors"),
            ("max_customers", "fit_max_customers"))})
    return on_spark, on_duckdb


def test_spark_path_fits_cdnow_to_the_published_parameters(fits):
    on_spark, _ = fits
    segment = on_spark[on_spark["segment"] == "default/default"]
    assert set(segment["status"]) == {"ok"}
    assert set(segment["time_unit"]) == {"weeks"}
    # BG/NBD on every customer, Gamma-Gamma on the 946 who bought again
    assert segment.groupby("model")["n_customers"].max().to_dict() == {"bg_nbd": 2357, "gamma_gamma": 946}
    values = segment.set_index(["model", "parameter"])["value"]
    for model, parameters in PUBLISHED.items():
        for name, published in parameters.items():
            assert values[(model, name)] == pytest.approx(published, rel=REL_TOL), (model, name)


def test_spark_path_equals_the_duckdb_fit_function(fits):
    on_spark, on_duckdb = fits
    key = ["segment", "model", "parameter"]
    spark_rows = on_spark.sort_values(key).reset_index(drop=True)
    duckdb_rows = on_duckdb.sort_values(key).reset_index(drop=True)
    assert spark_rows[key + ["status", "time_unit"]].astype(str).equals(duckdb_rows[key + ["status", "time_unit"]]
                                                                        .astype(str))
    assert spark_rows["n_customers"].tolist() == duckdb_rows["n_customers"].tolist()
    for left, right in zip(spark_rows["value"], duckdb_rows["value"], strict=True):
        assert (pd.isna(left) and pd.isna(right)) or left == pytest.approx(right, rel=1e-9)
