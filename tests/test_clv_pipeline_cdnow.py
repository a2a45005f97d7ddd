"""The CDNOW sample fed through the whole pipeline as raw orders reproduces the
published fits: the SQL summary equals the reference summary for every
customer, and marts.clv_model_fits holds Fader, Hardie and Lee's BG/NBD and
Fader and Hardie's Gamma-Gamma parameters (weeks, 39-week calibration to
1997-09-30), each within 1%."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
from clv_cdnow import CALIBRATION_END, cdnow_sample_transactions
from support import PROJECT_DIR, query, run_dbt

from orchestration import clv
from orchestration.landing import land_raw_data

PUBLISHED = {
    "bg_nbd": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
    "gamma_gamma": {"p": 6.25, "q": 3.74, "gamma": 15.44},
}
REL_TOL = 0.01
# No customers file and no merchant_id: every customer is in the default
# industry and the default merchant.
SEGMENT = "default/default"


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    return cdnow_sample_transactions()


@pytest.fixture(scope="module")
def database(tmp_path_factory, transactions) -> str:
    tmp = tmp_path_factory.mktemp("clv_cdnow_pipeline")
    raw = tmp / "raw"
    raw.mkdir()
    pd.DataFrame({
        "order_id": [f"cdnow-{i}" for i in range(len(transactions))],
        "customer_id": transactions["customer_id"].astype(str),
        "ordered_at": transactions["order_date"].dt.strftime("%Y-%m-%d"),
        "amount": transactions["amount"].map("{:.2f}".format),
    }).to_csv(raw / "orders.csv", index=False)
    db = tmp / "cdnow.duckdb"
    land_raw_data(raw, db)
    # the dbt Python models import this checkout's orchestration package
    pythonpath = os.pathsep.join(p for p in (str(PROJECT_DIR), os.environ.get("PYTHONPATH", "")) if p)
    # CDNOW's orders are from 1997-98: lower the plausible-date floor (default 2000-01-01) for them
    variables = {"as_of_date": CALIBRATION_END, "min_plausible_date": "1990-01-01", "clv_refit_every": "day"}
    run_dbt(["build", "--vars", json.dumps(variables)], db, tmp / "target", extra_env={"PYTHONPATH": pythonpath})
    return db


def frame(db, sql: str, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(query(db, sql), columns=columns)


@pytest.fixture(scope="module")
def fits(database) -> pd.DataFrame:
    return frame(database, """
        select segment, model, parameter, value, time_unit, n_customers, status, fitted_as_of
        from marts.clv_model_fits""",
        ["segment", "model", "parameter", "value", "time_unit", "n_customers", "status", "fitted_as_of"])


def test_sql_summary_equals_the_reference_summary(database, transactions):
    sql = frame(database, """
        select customer_id, industry, merchant_id, frequency, recency_days, t_days, monetary_value
        from intermediate.int_customers_clv_summary""",
        ["customer_id", "industry", "merchant_id", "frequency", "recency_days", "t_days", "monetary_value"])
    reference = clv.rfm_summary(transactions, calibration_end=CALIBRATION_END, time_unit="days")
    reference["customer_id"] = reference["customer_id"].astype(str)
    assert len(sql) == len(reference) == 2357
    assert (sql["industry"] == "default").all() and (sql["merchant_id"] == "default").all()
    merged = sql.merge(reference, on="customer_id", suffixes=("_sql", "_ref"), validate="1:1")
    assert len(merged) == 2357
    np.testing.assert_array_equal(merged["frequency_sql"].to_numpy(dtype=float),
                                  merged["frequency_ref"].to_numpy(dtype=float))
    np.testing.assert_array_equal(merged["recency_days"].to_numpy(dtype=float), merged["recency"].to_numpy())
    np.testing.assert_array_equal(merged["t_days"].to_numpy(dtype=float), merged["T"].to_numpy())
    sql_money = merged["monetary_value_sql"].to_numpy(dtype=float)
    ref_money = merged["monetary_value_ref"].to_numpy(dtype=float)
    assert np.array_equal(np.isnan(sql_money), np.isnan(ref_money))
    np.testing.assert_allclose(sql_money[~np.isnan(sql_money)], ref_money[~np.isnan(ref_money)], rtol=1e-9)
    assert int((merged["frequency_sql"] > 0).sum()) == 946


@pytest.mark.parametrize("model", sorted(PUBLISHED))
def test_fits_reproduce_the_published_parameters(fits, model):
    mine = fits[(fits["segment"] == SEGMENT) & (fits["model"] == model)].set_index("parameter")
    assert set(mine.index) == set(PUBLISHED[model])
    assert (mine["status"] == "ok").all(), mine
    assert (mine["time_unit"] == "weeks").all()
    assert str(mine["fitted_as_of"].iloc[0]) == CALIBRATION_END
    assert (mine["n_customers"] == (2357 if model == "bg_nbd" else 946)).all()
    for name, published in PUBLISHED[model].items():
        assert mine.loc[name, "value"] == pytest.approx(published, rel=REL_TOL), name


def test_predictions_use_the_segment_fit_at_its_parameters(database, fits):
    predictions = frame(database, """
        select p.customer_id, s.frequency, s.recency_days, s.t_days, p.p_alive, p.expected_purchases,
               p.horizon_months, p.bg_nbd_segment, p.gamma_gamma_segment, p.prediction_status, p.predicted_clv
        from intermediate.int_clv_predictions as p
        inner join intermediate.int_customers_clv_summary as s using (merchant_id, customer_id)""",
        ["customer_id", "frequency", "recency_days", "t_days", "p_alive", "expected_purchases",
         "horizon_months", "bg_nbd_segment", "gamma_gamma_segment", "prediction_status", "predicted_clv"])
    assert len(predictions) == 2357
    assert (predictions["prediction_status"] == "ok").all()
    assert (predictions["bg_nbd_segment"] == SEGMENT).all() and (predictions["gamma_gamma_segment"] == SEGMENT).all()
    assert (predictions["predicted_clv"] > 0).all()
    bg = fits[(fits["segment"] == SEGMENT) & (fits["model"] == "bg_nbd")].set_index("parameter")["value"]
    weeks = dict(frequency=predictions["frequency"].to_numpy(dtype=float),
                 recency=predictions["recency_days"].to_numpy(dtype=float) / 7,
                 T=predictions["t_days"].to_numpy(dtype=float) / 7)
    params = {k: float(bg[k]) for k in ("r", "alpha", "a", "b")}
    np.testing.assert_allclose(predictions["p_alive"], clv.p_alive_from_params(**params, **weeks), rtol=1e-9)
    horizon_weeks = int(predictions["horizon_months"].iloc[0]) * clv.DAYS_PER_MONTH / 7
    np.testing.assert_allclose(predictions["expected_purchases"],
                               clv.expected_purchases_periods(**params, **weeks, horizon_periods=horizon_weeks),
                               rtol=1e-9)


def test_customers_mart_carries_the_predictions(database):
    """marts.customers publishes each buyer's prediction (rounded for BI), net CLV
    without costs in the data equals predicted CLV, and the tier mart's predicted
    value adds up to the customers'."""
    rows = frame(database, """
        select c.customer_id, c.p_alive, p.p_alive, c.expected_purchases, p.expected_purchases,
               c.predicted_clv, p.predicted_clv, c.net_clv, c.clv_prediction_status,
               c.clv_horizon_months, c.tier
        from marts.customers as c
        inner join intermediate.int_clv_predictions as p using (merchant_id, customer_id)""",
        ["customer_id", "p_alive_mart", "p_alive", "expected_purchases_mart", "expected_purchases",
         "predicted_clv_mart", "predicted_clv", "net_clv", "status", "horizon_months", "tier"])
    assert len(rows) == 2357
    assert (rows["status"] == "ok").all() and (rows["horizon_months"] == 12).all()
    np.testing.assert_allclose(rows["p_alive_mart"].astype(float), rows["p_alive"], atol=5e-7)
    np.testing.assert_allclose(rows["expected_purchases_mart"].astype(float), rows["expected_purchases"], atol=5e-5)
    np.testing.assert_allclose(rows["predicted_clv_mart"].astype(float), rows["predicted_clv"], atol=0.005)
    # no acquisition spend file and a zero default retention cost: net = predicted
    np.testing.assert_allclose(rows["net_clv"].astype(float), rows["predicted_clv_mart"].astype(float), atol=0.01)
    assert rows["tier"].notna().all()
    tiers = dict(query(database, "select tier, predicted_value from marts.clv_tiers"))
    for tier, group in rows.groupby("tier"):
        assert float(tiers[tier]) == pytest.approx(float(group["predicted_clv_mart"].astype(float).sum()), abs=0.01 * len(group))
