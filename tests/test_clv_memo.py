"""A CLV fit model keeps its last result while its input and settings are unchanged
(orchestration.clv.memo), and fits again as soon as either changes."""

from __future__ import annotations

from types import SimpleNamespace

import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration import clv
from orchestration.clv.dbt_fits import fit_summary
from orchestration.clv.memo import previous_result

SETTINGS = {"fit_time_unit": "weeks", "min_customers": 200, "min_repeat_buyers": 50, "flat_priors": "true",
            "max_customers": 0}


@pytest.fixture()
def con():
    rng = np.random.default_rng(5)
    T = rng.integers(8 * 7, 52 * 7 + 1, 800) / 7.0
    summary = clv.simulate_bgnbd(800, r=0.8, alpha=3.0, a=0.6, b=3.0, T=T, rng=rng)
    summary["monetary_value"] = clv.simulate_gamma_gamma_spend(summary["frequency"], p=6.0, q=4.0, gamma=15.0, rng=rng)
    summary["merchant_id"], summary["industry"] = "m1", "food_delivery"
    summary["customer_id"] = [f"c{i}" for i in range(len(summary))]
    summary["recency_days"], summary["t_days"] = summary.pop("recency") * 7, summary.pop("T") * 7
    summary["fit_date"] = pd.Timestamp("2026-06-29")
    connection = duckdb.connect()
    connection.register("summary_frame", summary)
    connection.execute("create table summary as select * from summary_frame")
    connection.unregister("summary_frame")
    return connection


def _build(con, **settings):
    """What dbt does with the model: compute it (the table it replaces still there), then replace the table."""
    model = SimpleNamespace(this="main.int_clv_fits")
    fits = fit_summary(con.table("summary"), as_of_column="fit_date", previous=previous_result(model, con),
                       **{**SETTINGS, **settings})
    con.register("fits_frame", fits)
    con.execute("create or replace table int_clv_fits as select * from fits_frame")
    con.unregister("fits_frame")
    return fits


def _marker(fits):
    return fits.loc[(fits["segment"] == "food_delivery/m1") & (fits["parameter"] == "r"), "value"].iloc[0]


def test_fits_are_reused_while_the_input_is_unchanged_and_refitted_when_it_changes(con):
    first = _build(con)
    assert first["input_fingerprint"].nunique() == 1 and (first["status"] == "ok").any()
    # Tag the stored result: a reused table keeps the tag, a new fit cannot produce it.
    con.execute("update int_clv_fits set value = 42.0 where segment = 'food_delivery/m1' and parameter = 'r'")

    assert _marker(_build(con)) == 42.0                               # same summary, same settings: reused

    con.execute("update int_clv_fits set value = 42.0 where segment = 'food_delivery/m1' and parameter = 'r'")
    assert _marker(_build(con, min_repeat_buyers=51)) != 42.0         # a setting changed: fitted again

    con.execute("update int_clv_fits set value = 42.0 where segment = 'food_delivery/m1' and parameter = 'r'")
    con.execute("update summary set frequency = frequency + 1, recency_days = t_days where customer_id = 'c7'")
    refitted = _build(con, min_repeat_buyers=51)                      # one customer's data changed: fitted again
    assert _marker(refitted) != 42.0
    assert _marker(refitted) == pytest.approx(_marker(first), rel=0.05)


def test_no_previous_table_means_a_fit(con):
    fits = _build(con)
    assert (fits["status"] == "ok").any() and fits["value"].notna().any()
