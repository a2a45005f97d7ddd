"""The segment driver: per-industry and per-merchant fits, fallback, per-customer predictions."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from orchestration import clv

AS_OF = dt.date(2026, 6, 30)


def _segment(rng, n, industry, merchant, params, unit="weeks"):
    T = rng.integers(8 * 7, 52 * 7 + 1, n) / 7.0
    s = clv.simulate_bgnbd(n, **params, T=T, rng=rng)
    s["monetary_value"] = clv.simulate_gamma_gamma_spend(s["frequency"], p=6.0, q=4.0, gamma=15.0, rng=rng)
    s["industry"], s["merchant"], s["time_unit"] = industry, merchant, "weeks"
    if unit == "days":
        s["recency"], s["T"], s["time_unit"] = s["recency"] * 7, s["T"] * 7, "days"
    return s


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    cdnow_like = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
    frequent = {"r": 1.5, "alpha": 3.0, "a": 0.5, "b": 4.0}
    parts = [
        _segment(rng, 3000, "food", "m1", frequent),
        _segment(rng, 2500, "food", "m2", cdnow_like),
        _segment(rng, 40, "food", "m3", frequent),                     # too few customers
        _segment(rng, 2000, "apparel", None, cdnow_like, unit="days"),  # no merchant; summary in days
        _segment(rng, 3000, "garden", "g1", cdnow_like),               # the industry's only merchant
    ]
    # education: 300 one-time buyers, no repeat purchases at all
    parts.append(pd.DataFrame({"frequency": 0, "recency": 0.0, "T": rng.integers(1, 30, 300) / 1.0,
                               "monetary_value": np.nan, "industry": "education", "merchant": "e1",
                               "time_unit": "weeks"}))
    # a merchant whose own fit is degenerate: everyone bought up to the last day
    x = rng.poisson(6, 400) + 1
    parts.append(pd.DataFrame({"frequency": x, "recency": 30.0, "T": 30.0,
                               "monetary_value": rng.gamma(5.0, 4.0, 400), "industry": "food",
                               "merchant": "m4", "time_unit": "weeks"}))
    out = pd.concat(parts, ignore_index=True)
    out.loc[5, ["frequency", "recency", "T"]] = [2, 50.0, 10.0]             # recency > T: invalid
    out.insert(0, "customer_id", [f"c{i}" for i in range(len(out))])
    return out


@pytest.fixture(scope="module")
def result(summary) -> clv.SegmentResult:
    return clv.fit_and_predict_segments(summary, min_customers=200, min_repeat_buyers=50,
                                        fitted_as_of=AS_OF, annual_discount_rate=0.10, margin_rate=0.4)


def _status(fits, segment, model):
    rows = fits[(fits["segment"] == segment) & (fits["model"] == model)]
    assert len(rows) == (4 if model == "bg_nbd" else 3), (segment, model)
    assert rows["status"].nunique() == 1
    return rows["status"].iloc[0]


def test_fits_table_shape(result):
    fits = result.fits
    assert list(fits.columns) == clv.FIT_COLUMNS
    assert set(fits.loc[fits["model"] == "bg_nbd", "parameter"]) == {"r", "alpha", "a", "b"}
    assert set(fits.loc[fits["model"] == "gamma_gamma", "parameter"]) == {"p", "q", "gamma"}
    assert (fits["fitted_as_of"] == AS_OF).all()
    assert (fits["time_unit"] == "weeks").all()
    assert not fits.duplicated(["segment", "model", "parameter"]).any()
    ok = fits[fits["status"] == "ok"]
    assert ok["value"].notna().all() and ok["log_likelihood"].notna().all()
    assert fits.loc[fits["status"].str.startswith("too_few"), "value"].isna().all()


def test_statuses_and_fallback(result):
    fits, pred = result.fits, result.predictions
    for segment in ("food", "food/m1", "food/m2", "apparel", "garden", "garden/g1", "all"):
        assert _status(fits, segment, "bg_nbd") == "ok", segment
    assert _status(fits, "food/m3", "bg_nbd") == "too_few_customers"
    assert _status(fits, "education", "bg_nbd") == "too_few_repeat_buyers"
    assert _status(fits, "education", "gamma_gamma") == "too_few_repeat_buyers"
    assert _status(fits, "food/m4", "bg_nbd") == "degenerate"
    level = fits.drop_duplicates("segment").set_index("segment")["segment_level"]
    assert level["all"] == "all" and level["food"] == "industry" and level["food/m1"] == "merchant"

    used = pred.set_index("customer_id")["bg_nbd_segment"]
    by_merchant = pred.assign(seg=used.values).drop(index=5).groupby(["industry", "merchant"], dropna=False)["seg"].unique()
    assert list(by_merchant[("food", "m1")]) == ["food/m1"]
    assert list(by_merchant[("food", "m3")]) == ["food"]            # tiny merchant -> its industry
    assert list(by_merchant[("food", "m4")]) == ["food"]            # degenerate merchant fit -> industry
    assert list(by_merchant[("education", "e1")]) == ["all"]         # industry unusable -> everyone
    assert set(pred.loc[pred["industry"] == "apparel", "bg_nbd_segment"]) == {"apparel"}
    # the industry with a single merchant is fitted once and reused
    garden = fits[fits["segment"].isin(["garden", "garden/g1"])].pivot(
        index=["model", "parameter"], columns="segment", values="value")
    np.testing.assert_array_equal(garden["garden"], garden["garden/g1"])


def test_prediction_rows(summary, result):
    pred = result.predictions
    assert len(pred) == len(summary)
    assert list(pred["customer_id"]) == list(summary["customer_id"])
    assert set(clv.PREDICTION_COLUMNS) <= set(pred.columns)
    assert pred.loc[5, "prediction_status"] == "invalid_summary" and np.isnan(pred.loc[5, "p_alive"])
    good = pred.drop(index=5)
    assert (good["prediction_status"] == "ok").all()
    for col in ("p_alive", "expected_purchases", "expected_avg_order_value", "predicted_clv"):
        assert good[col].notna().all() and (good[col] >= 0).all(), col
    assert (good["p_alive"] <= 1).all()
    assert (pred["horizon_months"] == 12).all() and (pred["time_unit"] == "weeks").all()


def test_predictions_equal_the_model_functions(summary, result):
    """Driver output equals the documented functions with the fit it says it used,
    including for rows whose summary came in days."""
    fits, pred = result.fits, result.predictions
    for segment, industry in (("food/m1", "food"), ("apparel", "apparel")):
        rows = pred["bg_nbd_segment"] == segment
        p = fits[(fits["segment"] == segment)].set_index(["model", "parameter"])["value"]
        bg = clv.BGNBDFit(r=p["bg_nbd", "r"], alpha=p["bg_nbd", "alpha"], a=p["bg_nbd", "a"],
                          b=p["bg_nbd", "b"], log_likelihood=0.0, n_customers=0, n_repeat_buyers=0,
                          status="ok", time_unit="weeks")
        gg = clv.GammaGammaFit(p=p["gamma_gamma", "p"], q=p["gamma_gamma", "q"],
                               gamma=p["gamma_gamma", "gamma"], log_likelihood=0.0, n_customers=0,
                               status="ok")
        s = summary[rows.to_numpy()]
        factor = 1 / 7 if industry == "apparel" else 1.0            # apparel's summary is in days
        assert (s["time_unit"] == ("days" if industry == "apparel" else "weeks")).all()
        args = (s["frequency"], s["recency"] * factor, s["T"] * factor)
        np.testing.assert_allclose(pred.loc[rows, "p_alive"], clv.p_alive(bg, *args), rtol=1e-12)
        np.testing.assert_allclose(pred.loc[rows, "expected_purchases"],
                                   clv.expected_purchases(bg, *args, horizon_days=365.25), rtol=1e-12)
        np.testing.assert_allclose(pred.loc[rows, "predicted_clv"],
                                   clv.predicted_clv(bg, gg, *args, s["monetary_value"], horizon_months=12,
                                                     margin_rate=0.4, annual_discount_rate=0.10),
                                   rtol=1e-12)
    # the apparel fit (summary in days, fitted in weeks) recovers alpha in weeks
    apparel_alpha = fits.query("segment == 'apparel' and parameter == 'alpha'")["value"].iloc[0]
    assert apparel_alpha == pytest.approx(4.0, rel=0.35)


def test_nothing_fittable_still_returns_tables():
    tiny = pd.DataFrame({"customer_id": [1, 2, 3], "industry": "x", "merchant": None,
                         "frequency": [0, 1, 0], "recency": [0.0, 2.0, 0.0], "T": [5.0, 5.0, 5.0],
                         "monetary_value": [None, 10.0, None], "time_unit": "weeks"})
    out = clv.fit_and_predict_segments(tiny)
    assert set(out.fits["status"]) <= {"too_few_customers", "too_few_repeat_buyers"}
    assert set(out.fits["segment"]) == {"x", "all"}
    assert (out.predictions["prediction_status"] == "no_fit").all()
    assert out.predictions["predicted_clv"].isna().all()


def test_coarser_segments_are_fitted_only_when_needed():
    """Two merchants that both fit: their industry and 'all' are listed as not_needed,
    with no values, and every customer is scored with their merchant's fit."""
    rng = np.random.default_rng(11)
    cdnow_like = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
    summary = pd.concat([_segment(rng, 1500, "food", "m1", cdnow_like),
                         _segment(rng, 1500, "food", "m2", cdnow_like)], ignore_index=True)
    summary.insert(0, "customer_id", [f"c{i}" for i in range(len(summary))])
    out = clv.fit_and_predict_segments(summary, min_customers=200, min_repeat_buyers=50)
    for segment in ("food/m1", "food/m2"):
        assert _status(out.fits, segment, "bg_nbd") == "ok"
        assert _status(out.fits, segment, "gamma_gamma") == "ok"
    for segment in ("food", "all"):
        for model in ("bg_nbd", "gamma_gamma"):
            assert _status(out.fits, segment, model) == "not_needed"
    assert out.fits.loc[out.fits["status"] == "not_needed", "value"].isna().all()
    used = out.predictions["merchant"].radd("food/")
    assert (out.predictions["bg_nbd_segment"] == used).all()
    assert (out.predictions["gamma_gamma_segment"] == used).all()
    assert clv.fit_segments(summary, min_customers=200, min_repeat_buyers=50).equals(out.fits)
