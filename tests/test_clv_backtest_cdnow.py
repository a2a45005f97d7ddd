"""The CLV backtest reproduces Fader, Hardie and Lee's (2005) CDNOW validation.

Calibration to 1997-09-30 (39 weeks), holdout to 1998-06-30 (the next 39
weeks, 273 days), weeks as the time unit. Everything the pipeline publishes is
checked against values this file computes on its own from the raw CDNOW
sample and the *published* parameters, with its own closed forms (no
orchestration.clv formula): the conditional expectations per calibration
purchase group (eq. 10) within 1%, the actual means exactly, the tracking
plot's actual cumulative purchases exactly and its expectation (eq. 9) within
1%, and the parameters' standard errors against the ones lifetimes documents
for the same fit.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
from clv_cdnow import CALIBRATION_END, cdnow_sample_transactions, pandas_rfm_summary
from scipy.special import hyp2f1
from support import PROJECT_DIR, run_dbt

from orchestration.clv import backtest, scoring, uncertainty
from orchestration.landing import land_raw_data

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}       # FHL 2005, weeks
HOLDOUT_END = "1998-06-30"
HOLDOUT_DAYS = 273                                                       # 39 weeks
REL_TOL = 0.01


# ---------------------------------------------------------------------------
# independent reference computations (plain pandas / SciPy, no pipeline code)
# ---------------------------------------------------------------------------

def conditional_expectation(r, alpha, a, b, x, t_x, T, t):
    """FHL 2005 eq. 10, as printed (no Euler transformation)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    z = t / (alpha + T + t)
    head = (a + b + x - 1) / (a - 1) * (
        1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
    bracket = 1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    return head / bracket


def unconditional_expectation(r, alpha, a, b, t):
    """FHL 2005 eq. 9, as printed."""
    t = np.asarray(t, dtype=float)
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    return cdnow_sample_transactions()


@pytest.fixture(scope="module")
def reference(transactions) -> pd.DataFrame:
    """Per customer: calibration summary in weeks, actual holdout purchase days,
    the published-parameter conditional expectation, the group 0..6, 7+."""
    summary = pandas_rfm_summary(transactions, CALIBRATION_END, 7.0).set_index("customer_id")
    days = transactions.drop_duplicates(["customer_id", "order_date"])
    holdout = days[(days["order_date"] > pd.Timestamp(CALIBRATION_END))
                   & (days["order_date"] <= pd.Timestamp(HOLDOUT_END))]
    summary["holdout_purchases"] = holdout.groupby("customer_id").size().reindex(summary.index, fill_value=0)
    summary["expected"] = conditional_expectation(**PUBLISHED, x=summary["frequency"], t_x=summary["recency"],
                                                  T=summary["T"], t=HOLDOUT_DAYS / 7)
    summary["group"] = summary["frequency"].clip(upper=7).astype(int)
    return summary


# ---------------------------------------------------------------------------
# the Python core
# ---------------------------------------------------------------------------

def test_reference_is_the_papers_setting(reference):
    assert len(reference) == 2357 and int((reference["frequency"] > 0).sum()) == 946
    assert int(reference["frequency"].sum()) == 2457          # calibration repeat purchase days
    # FHL 2005 section 5: x = 2, t_x = 30.43, T = 38.86 -> 1.226 in the next 39 weeks
    assert float(conditional_expectation(**PUBLISHED, x=2, t_x=30.43, T=38.86, t=39)) == pytest.approx(1.226, abs=1e-3)


def test_unconditional_expectation_equals_eq_9():
    ages = np.array([0.0, 0.5, 1, 5, 13, 39, 78, 200])
    mine = backtest.expected_cumulative_purchases(*PUBLISHED.values(), ages)
    np.testing.assert_allclose(mine, unconditional_expectation(*PUBLISHED.values(), ages), rtol=1e-9, atol=1e-12)
    assert (backtest.expected_cumulative_purchases(*PUBLISHED.values(), [-3.0, 0.0]) == 0).all()


def test_holdout_purchase_probability():
    r, alpha, a, b = PUBLISHED.values()
    # a new customer (x = t_x = T = 0) buys within t unless the NBD count is zero: 1 - (alpha/(alpha+t))^r
    t = np.array([1.0, 10, 39])
    np.testing.assert_allclose(backtest.holdout_purchase_probability(r, alpha, a, b, 0, 0, 0, t),
                               1 - (alpha / (alpha + t)) ** r, rtol=1e-12)
    # never above P(alive); grows with the holdout; a long-silent frequent buyer is unlikely to buy
    x, t_x, T = np.array([1, 5, 10]), np.array([2.0, 10, 5]), np.array([38.0, 38, 38])
    p_short = backtest.holdout_purchase_probability(r, alpha, a, b, x, t_x, T, 4.0)
    p_long = backtest.holdout_purchase_probability(r, alpha, a, b, x, t_x, T, 39.0)
    alive = 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))
    assert (p_short < p_long).all() and (p_long < alive).all()
    assert p_long[2] < 0.05


def test_backtest_scoring_segments():
    """The backtest scores with the live path's segment choice: the finest ok segment, else None."""
    ok = {"all", "food", "food/m1"}
    groups = [("food", "m1"), ("food", "m2"), ("apparel", "m3"), (None, "m4"), ("food", float("nan"))]
    chosen = scoring.finest_ok_segments(ok, groups)
    assert chosen.tolist() == ["food/m1", "food", "all", "all", "food"]
    assert scoring.finest_ok_segments({"food"}, [("apparel", "m3")]).tolist() == [None]


def test_standard_errors_match_the_documented_fit(reference):
    """lifetimes documents, for this CDNOW fit, se(r, alpha, a, b) = 0.0126,
    0.3782, 0.1857, 0.7053 (its BetaGeoFitter summary); the MLE here is the
    published one, so its observed information must give the same errors."""
    weeks = reference
    mle = {"r": 0.242594, "alpha": 4.413602, "a": 0.792922, "b": 2.425907}   # the exact optimum
    cov = uncertainty.bgnbd_covariance(**mle, frequency=weeks["frequency"], recency=weeks["recency"],
                                       T=weeks["T"])
    se = uncertainty.standard_errors(cov, uncertainty.BG_NBD_PARAMETERS)
    documented = {"r": 0.012557, "alpha": 0.378221, "a": 0.185719, "b": 0.705345}
    for name, value in documented.items():
        assert se[name] == pytest.approx(value, rel=REL_TOL), name
    # away from the optimum the curvature is no covariance: refused, not invented
    assert uncertainty.bgnbd_covariance(5.0, 0.01, 50.0, 0.01, frequency=weeks["frequency"],
                                        recency=weeks["recency"], T=weeks["T"]) is None


# ---------------------------------------------------------------------------
# the pipeline: raw CDNOW orders -> dbt build as of the holdout end -> marts
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def database(tmp_path_factory, transactions) -> str:
    tmp = tmp_path_factory.mktemp("clv_backtest_cdnow")
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
    pythonpath = os.pathsep.join(p for p in (str(PROJECT_DIR), os.environ.get("PYTHONPATH", "")) if p)
    # CDNOW's orders are from 1997-98: below the default plausible-date floor (2000-01-01).
    # The published split ends on HOLDOUT_END: fit (and backtest) as of that day, not its week's Monday.
    variables = {"as_of_date": HOLDOUT_END, "clv_backtest_holdout_days": HOLDOUT_DAYS,
                 "min_plausible_date": "1990-01-01", "clv_refit_every": "day"}
    run_dbt(["build", "--select", "+marts.clv_backtest", "+marts.clv_backtest_errors",
             "+marts.clv_backtest_p_alive_deciles", "+marts.clv_backtest_weekly", "+marts.clv_model_fits",
             "+marts.clv_segment_intervals", "--indirect-selection", "cautious",
             "--vars", json.dumps(variables)], db, tmp / "target", extra_env={"PYTHONPATH": pythonpath})
    return db


def frame(db, sql: str) -> pd.DataFrame:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def test_backtest_fit_is_the_published_calibration_fit(database):
    fits = frame(database, """
        select parameter, value, status, cast(fitted_as_of as date) as fitted_as_of
        from intermediate.int_clv_backtest_fits
        where segment = 'default/default' and model = 'bg_nbd'""").set_index("parameter")
    assert (fits["status"] == "ok").all()
    assert {str(pd.Timestamp(d).date()) for d in fits["fitted_as_of"]} == {CALIBRATION_END}
    for name, published in PUBLISHED.items():
        assert fits.loc[name, "value"] == pytest.approx(published, rel=REL_TOL), name


def test_clv_backtest_matches_the_papers_conditional_expectations(database, reference):
    mart = frame(database, """
        select * from marts.clv_backtest where segment = 'all' order by calibration_repeat_purchases
    """).set_index("calibration_repeat_purchases")
    expected = reference.groupby("group").agg(customers=("expected", "size"), predicted=("expected", "mean"),
                                              actual=("holdout_purchases", "mean"))
    assert mart.index.tolist() == list(range(8)) == expected.index.tolist()
    assert (mart["segment_level"] == "all").all()
    assert mart["customers"].tolist() == mart["customers_scored"].tolist() == expected["customers"].tolist()
    # actual means: exact counts from the data (ratios of the same integers)
    np.testing.assert_allclose(mart["actual_holdout_purchases"], expected["actual"], rtol=1e-12)
    # predicted means: the closed form at the published parameters, within 1%
    np.testing.assert_allclose(mart["predicted_holdout_purchases"], expected["predicted"], rtol=REL_TOL)
    assert (mart["bg_nbd_fit_segments"] == "default/default").all()
    assert {str(pd.Timestamp(d).date()) for d in mart["calibration_end_date"]} == {CALIBRATION_END}
    assert (mart["holdout_days"] == HOLDOUT_DAYS).all()


def test_spend_columns_are_holdout_buyers_means(database, transactions, reference):
    mart = frame(database, "select * from marts.clv_backtest where segment = 'all'").set_index(
        "calibration_repeat_purchases")
    days = transactions.groupby(["customer_id", "order_date"], as_index=False)["amount"].sum()
    holdout = days[(days["order_date"] > pd.Timestamp(CALIBRATION_END))
                   & (days["order_date"] <= pd.Timestamp(HOLDOUT_END))]
    per_customer = holdout.groupby("customer_id")["amount"].mean().rename("spend").to_frame()
    per_customer["group"] = reference["group"].reindex(per_customer.index)
    actual = per_customer.groupby("group")["spend"].mean()
    np.testing.assert_allclose(mart.loc[actual.index, "actual_holdout_spend"], actual, rtol=1e-9)
    assert mart.loc[actual.index, "holdout_buyers_scored"].tolist() == \
        per_customer.groupby("group").size().tolist()
    assert (mart["predicted_holdout_spend"] > 0).all()


def test_tracking_plot(database, transactions, reference):
    weekly = frame(database, """
        select * from marts.clv_backtest_weekly where segment = 'all' order by week_number""")
    assert weekly["week_number"].max() == HOLDOUT_DAYS // 7
    assert (weekly.loc[weekly["week_number"] <= 0, "period"] == "calibration").all()
    end = pd.Timestamp(CALIBRATION_END)
    assert [pd.Timestamp(d) for d in weekly["week_end_date"]] == \
        [end + pd.Timedelta(days=7 * k) for k in weekly["week_number"]]
    days = transactions.drop_duplicates(["customer_id", "order_date"])
    first = days.groupby("customer_id")["order_date"].transform("min")
    repeats = days.loc[days["order_date"] > first, "order_date"]
    first_purchases = days.groupby("customer_id")["order_date"].min()
    for _, row in weekly.iterrows():
        week_end = pd.Timestamp(row["week_end_date"])
        assert row["actual_cumulative_repeat_purchases"] == int((repeats <= week_end).sum())
        assert row["customers"] == int((first_purchases <= week_end).sum())
        ages = ((week_end - first_purchases).dt.days / 7.0).clip(lower=0)
        reference_expected = float(unconditional_expectation(*PUBLISHED.values(), ages).sum())
        assert row["expected_cumulative_repeat_purchases"] == pytest.approx(reference_expected, rel=REL_TOL, abs=0.5)
    holdout_end = weekly.iloc[-1]
    assert holdout_end["actual_cumulative_repeat_purchases"] == \
        int(reference["frequency"].sum() + reference["holdout_purchases"].sum())


def test_error_figures_and_p_alive_deciles(database, reference):
    errors = frame(database, "select * from marts.clv_backtest_errors where segment = 'all'").iloc[0]
    actual_total = int(reference["holdout_purchases"].sum())
    predicted_total = float(reference["expected"].sum())
    assert errors["customers_scored"] == 2357 and errors["actual_holdout_purchases"] == actual_total
    assert errors["predicted_holdout_purchases"] == pytest.approx(predicted_total, rel=REL_TOL)
    assert errors["percent_error_holdout_purchases"] == pytest.approx(
        100 * (errors["predicted_holdout_purchases"] - actual_total) / actual_total, rel=1e-9)
    mae = float((reference["expected"] - reference["holdout_purchases"]).abs().mean())
    assert errors["mean_absolute_error_per_customer"] == pytest.approx(mae, rel=REL_TOL)
    assert errors["actual_holdout_buyers"] == int((reference["holdout_purchases"] > 0).sum())
    deciles = frame(database, "select * from marts.clv_backtest_p_alive_deciles where segment = 'all'")
    assert int(deciles["customers_scored"].sum()) == 2357
    assert deciles["p_alive_decile"].between(1, 10).all()
    # the one-time buyers (p_alive = 1) are decile 10
    assert int(deciles.loc[deciles["p_alive_decile"] == 10, "customers_scored"].iloc[0]) >= 1411
    assert (deciles["predicted_share_buying"] <= deciles["mean_p_alive"] + 1e-12).all()


# ---------------------------------------------------------------------------
# uncertainty of the live fit (as of the holdout end: 78 weeks of CDNOW)
# ---------------------------------------------------------------------------

def live_inputs(database):
    fits = frame(database, """
        select model, parameter, value, standard_error, status from marts.clv_model_fits
        where segment = 'default/default'""")
    summary = frame(database, """
        select s.frequency, s.recency_days / 7.0 as recency, s.t_days / 7.0 as T, s.monetary_value,
               p.margin_rate, p.predicted_clv, p.horizon_months, p.annual_discount_rate
        from intermediate.int_customers_clv_summary as s
        inner join intermediate.int_clv_predictions as p using (merchant_id, customer_id)""")
    return fits, summary


def test_clv_model_fits_carry_standard_errors(database):
    fits, summary = live_inputs(database)
    assert (fits["status"] == "ok").all() and fits["standard_error"].notna().all()
    bg = fits[fits["model"] == "bg_nbd"].set_index("parameter")
    cov = uncertainty.bgnbd_covariance(*(bg.loc[n, "value"] for n in uncertainty.BG_NBD_PARAMETERS),
                                       frequency=summary["frequency"], recency=summary["recency"], T=summary["T"])
    for i, name in enumerate(uncertainty.BG_NBD_PARAMETERS):
        assert bg.loc[name, "standard_error"] == pytest.approx(np.sqrt(cov[i, i]), rel=1e-6)
    # 78 weeks of data pin the parameters down better than the paper's 39 (same customers)
    calibration = {"r": 0.012557, "alpha": 0.378221, "a": 0.185719, "b": 0.705345}
    assert all(bg.loc[n, "standard_error"] / bg.loc[n, "value"] < calibration[n] / PUBLISHED[n] for n in ("r", "b"))


def test_segment_interval_is_the_delta_method_on_the_clv_formula(database):
    """The mart's standard error of the mean predicted CLV equals sqrt(g' cov g)
    with g taken here by central differences of the package's CLV formula."""
    from orchestration import clv

    fits, summary = live_inputs(database)
    interval = frame(database, "select * from marts.clv_segment_intervals where segment = 'all'").iloc[0]
    assert interval["customers_scored"] == 2357 and interval["fits_used"] == 2
    assert interval["mean_predicted_clv"] == pytest.approx(summary["predicted_clv"].mean(), rel=1e-9)
    values = fits.set_index("parameter")["value"].to_dict()
    rate = clv.to_monthly_discount_rate(annual_discount_rate=float(summary["annual_discount_rate"].iloc[0]))
    names = list(uncertainty.BG_NBD_PARAMETERS + uncertainty.GAMMA_GAMMA_PARAMETERS)

    def mean_clv(point):
        bg = {n: point[n] for n in uncertainty.BG_NBD_PARAMETERS}
        gg = {n: point[n] for n in uncertainty.GAMMA_GAMMA_PARAMETERS}
        return float(np.mean(clv.clv_from_params(
            bg, gg, summary["frequency"], summary["recency"], summary["T"], summary["monetary_value"],
            time_unit="weeks", horizon_months=int(summary["horizon_months"].iloc[0]),
            margin_rate=summary["margin_rate"].to_numpy(), monthly_rate=rate)))

    gradient = []
    for name in names:
        step = 1e-4 * values[name]
        up, down = dict(values), dict(values)
        up[name] += step
        down[name] -= step
        gradient.append((mean_clv(up) - mean_clv(down)) / (2 * step))
    gradient = np.array(gradient)
    covariances = frame(database, """
        select model, parameter, other_parameter, covariance from intermediate.int_clv_fit_covariances
        where segment = 'default/default'""")
    matrix = covariances.pivot_table(index="parameter", columns="other_parameter", values="covariance")
    bg_names, gg_names = list(uncertainty.BG_NBD_PARAMETERS), list(uncertainty.GAMMA_GAMMA_PARAMETERS)
    variance = (gradient[:4] @ matrix.loc[bg_names, bg_names].to_numpy() @ gradient[:4]
                + gradient[4:] @ matrix.loc[gg_names, gg_names].to_numpy() @ gradient[4:])
    assert interval["standard_error"] == pytest.approx(np.sqrt(variance), rel=0.01)
    assert interval["lower_95"] < interval["mean_predicted_clv"] < interval["upper_95"]
