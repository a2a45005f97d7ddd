"""CLV models reproduce the published CDNOW results (Fader, Hardie and Lee 2005;
Fader and Hardie's Gamma-Gamma note), and the project's compile-once fitter equals
pymc-marketing's own model classes fitted by PyMC's find_MAP."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from clv_cdnow import CALIBRATION_END, cdnow_sample_transactions, pandas_rfm_summary

from orchestration import clv

PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}   # FHL 2005, weeks
PUBLISHED_BGNBD_LL = -9582.4
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}                   # Fader-Hardie note 025
REL_TOL = 0.01


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    return cdnow_sample_transactions()


@pytest.fixture(scope="module")
def weekly(transactions) -> pd.DataFrame:
    return clv.rfm_summary(transactions, calibration_end=CALIBRATION_END, time_unit="weeks")


@pytest.fixture(scope="module")
def bg_weeks(weekly) -> clv.BGNBDFit:
    return clv.fit_bgnbd(weekly["frequency"], weekly["recency"], weekly["T"], time_unit="weeks")


@pytest.fixture(scope="module")
def gg(weekly) -> clv.GammaGammaFit:
    return clv.fit_gamma_gamma(weekly["frequency"], weekly["monetary_value"], time_unit="weeks")


def test_sample_layout(transactions):
    assert len(transactions) == 6919
    assert transactions["customer_id"].nunique() == 2357
    assert transactions["customer_id"].min() == 1 and transactions["customer_id"].max() == 2357
    # every customer's first purchase is in the first quarter of 1997
    first = transactions.groupby("customer_id")["order_date"].min()
    assert first.max() < pd.Timestamp("1997-04-01")


def test_sql_summary_matches_plain_pandas(transactions, weekly):
    assert len(weekly) == 2357 and (weekly["time_unit"] == "weeks").all()
    assert int((weekly["frequency"] > 0).sum()) == 946          # the note's repeat buyers
    reference = pandas_rfm_summary(transactions, CALIBRATION_END, 7.0)
    merged = weekly.merge(reference, on="customer_id", suffixes=("", "_ref"), validate="1:1")
    assert len(merged) == 2357
    for col in ("frequency", "recency", "T"):
        np.testing.assert_allclose(merged[col], merged[f"{col}_ref"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(merged["monetary_value"], merged["monetary_value_ref"], rtol=1e-12)
    assert merged["monetary_value"].isna().equals(merged["frequency"] == 0)
    # the paper's example customer's T: first purchase 1997-01-01, 272 days to 1997-09-30
    assert weekly["T"].max() == pytest.approx(272 / 7)


def test_bgnbd_reproduces_fader_hardie_lee_2005(bg_weeks):
    assert bg_weeks.status == "ok", bg_weeks
    assert bg_weeks.time_unit == "weeks" and bg_weeks.n_customers == 2357
    for name, published in PUBLISHED_BGNBD.items():
        assert getattr(bg_weeks, name) == pytest.approx(published, rel=REL_TOL), name
    assert bg_weeks.log_likelihood == pytest.approx(PUBLISHED_BGNBD_LL, abs=0.1)


def test_conditional_expectation_published_example(bg_weeks):
    # x = 2, t_x = 30.43, T = 38.86 weeks; next 39 weeks -> 1.226 (FHL 2005, section 5)
    value = clv.expected_purchases(bg_weeks, 2, 30.43, 38.86, horizon_days=39 * 7)
    assert float(value) == pytest.approx(1.226, rel=REL_TOL)
    same = clv.expected_purchases_periods(**bg_weeks.params(), frequency=2, recency=30.43, T=38.86,
                                          horizon_periods=39)
    assert float(same) == pytest.approx(float(value), rel=1e-12)


def test_gamma_gamma_reproduces_published_fit(gg):
    assert gg.status == "ok", gg
    assert gg.n_customers == 946
    for name, published in PUBLISHED_GG.items():
        assert getattr(gg, name) == pytest.approx(published, rel=REL_TOL), name


def test_spend_convention_mean_of_repeat_purchases_only(transactions):
    """Averaging over all purchase days (first included) does not give the published
    p, q, gamma: the note's m_x is the mean of the repeat transactions."""
    with_first = pandas_rfm_summary(transactions, CALIBRATION_END, 7.0, include_first_purchase_in_spend=True)
    fit = clv.fit_gamma_gamma(with_first["frequency"], with_first["monetary_value"])
    assert fit.status == "ok"
    assert any(abs(getattr(fit, k) / v - 1) > REL_TOL for k, v in PUBLISHED_GG.items())


@pytest.mark.parametrize("flat_priors", [True, False], ids=["flat_priors", "default_priors"])
def test_fits_equal_the_library_model_classes(weekly, flat_priors):
    """The compile-once fitter gives the MAP point of pymc-marketing's own
    BetaGeoModel and GammaGammaModel (built by the library, optimised by
    PyMC's find_MAP), with flat priors and with the classes' default priors."""
    import pymc as pm
    from pymc_extras.prior import Prior
    from pymc_marketing.clv import BetaGeoModel, GammaGammaModel

    def library_map(model_class, config, data):
        model = model_class(model_config=config)
        model.build_model(data)
        # the fitter's stopping tolerance, so both stop at the optimum
        return pm.find_MAP(model=model.model, progressbar=False, options={"ftol": 1e-12})

    bg_config = {k: Prior("HalfFlat") for k in ("r", "alpha", "a", "b")} if flat_priors else None
    theirs = library_map(BetaGeoModel, bg_config, weekly[["customer_id", "frequency", "recency", "T"]])
    ours = clv.fit_bgnbd(weekly["frequency"], weekly["recency"], weekly["T"], time_unit="weeks",
                         flat_priors=flat_priors)
    assert ours.status == "ok", ours
    for name in ("r", "alpha", "a", "b"):
        assert getattr(ours, name) == pytest.approx(float(theirs[name]), rel=1e-4), name

    repeat = weekly[weekly["frequency"] > 0][["customer_id", "frequency", "monetary_value"]]
    gg_config = {k: Prior("HalfFlat") for k in ("p", "q", "v")} if flat_priors else None
    theirs = library_map(GammaGammaModel, gg_config, repeat)
    ours = clv.fit_gamma_gamma(repeat["frequency"], repeat["monetary_value"], flat_priors=flat_priors)
    assert ours.status == "ok", ours
    for name, their_name in (("p", "p"), ("q", "q"), ("gamma", "v")):
        assert getattr(ours, name) == pytest.approx(float(theirs[their_name]), rel=1e-4), name


def test_predictions_match_pymc_marketing_at_the_map_point(weekly, bg_weeks, gg):
    """Our closed-form predictions equal the library's own methods at its MAP point."""
    from pymc_extras.prior import Prior
    from pymc_marketing.clv import BetaGeoModel, GammaGammaModel

    data = weekly[["customer_id", "frequency", "recency", "T"]]
    model = BetaGeoModel(model_config={k: Prior("HalfFlat") for k in ("r", "alpha", "a", "b")})
    model.fit(data=data, method="map", progressbar=False, options={"ftol": 1e-12})
    theirs_alive = model.expected_probability_alive(data).mean(("chain", "draw")).values
    theirs_purchases = model.expected_purchases(data, future_t=13).mean(("chain", "draw")).values
    ours_alive = clv.p_alive(bg_weeks, data["frequency"], data["recency"], data["T"])
    ours_purchases = clv.expected_purchases(bg_weeks, data["frequency"], data["recency"], data["T"],
                                            horizon_days=13 * 7)
    np.testing.assert_allclose(ours_alive, theirs_alive, rtol=1e-4)
    np.testing.assert_allclose(ours_purchases, theirs_purchases, rtol=1e-4)

    repeat = weekly[weekly["frequency"] > 0][["customer_id", "frequency", "monetary_value"]]
    gmodel = GammaGammaModel(model_config={k: Prior("HalfFlat") for k in ("p", "q", "v")})
    gmodel.fit(data=repeat, method="map", progressbar=False, options={"ftol": 1e-12})
    theirs_spend = gmodel.expected_customer_spend(repeat).mean(("chain", "draw")).values
    ours_spend = clv.expected_order_value(gg, repeat["frequency"], repeat["monetary_value"])
    np.testing.assert_allclose(ours_spend, theirs_spend, rtol=1e-4)


def test_fit_in_days_is_the_same_model(transactions, weekly, bg_weeks):
    """Fitting on days gives alpha x 7 and the same r, a, b, so a horizon given in days
    yields the same expected purchases whichever unit the model was fitted in."""
    daily = clv.rfm_summary(transactions, calibration_end=CALIBRATION_END, time_unit="days")
    bg_days = clv.fit_bgnbd(daily["frequency"], daily["recency"], daily["T"], time_unit="days")
    assert bg_days.status == "ok" and bg_days.time_unit == "days"
    assert bg_days.alpha == pytest.approx(7 * bg_weeks.alpha, rel=2e-3)
    for name in ("r", "a", "b"):
        assert getattr(bg_days, name) == pytest.approx(getattr(bg_weeks, name), rel=2e-3), name
    for horizon_days in (30, 91, 365):
        in_days = clv.expected_purchases(bg_days, daily["frequency"], daily["recency"], daily["T"],
                                         horizon_days=horizon_days)
        in_weeks = clv.expected_purchases(bg_weeks, weekly["frequency"], weekly["recency"], weekly["T"],
                                          horizon_days=horizon_days)
        np.testing.assert_allclose(in_days, in_weeks, rtol=3e-3)
    # and the horizon really is converted: 91 days on a weekly model is 13 periods
    np.testing.assert_allclose(
        clv.expected_purchases(bg_weeks, 2, 30.43, 38.86, horizon_days=91),
        clv.expected_purchases_periods(**bg_weeks.params(), frequency=2, recency=30.43, T=38.86,
                                       horizon_periods=13), rtol=1e-12)
    assert not np.isclose(
        clv.expected_purchases(bg_weeks, 2, 30.43, 38.86, horizon_days=13),
        clv.expected_purchases(bg_weeks, 2, 30.43, 38.86, horizon_days=91))


def test_predicted_clv_formula(weekly, bg_weeks, gg):
    x, t_x, T, m = (weekly[c].to_numpy() for c in ("frequency", "recency", "T", "monetary_value"))
    spend = clv.expected_order_value(gg, x, m)
    assert np.all(np.isfinite(spend)) and np.all(spend > 0)
    # undiscounted, margin 1: the monthly increments telescope to spend x E[Y(12 months)]
    flat = clv.predicted_clv(bg_weeks, gg, x, t_x, T, m, horizon_months=12)
    year = clv.expected_purchases(bg_weeks, x, t_x, T, horizon_days=365.25)
    np.testing.assert_allclose(flat, spend * year, rtol=1e-10)
    # discounted on margin, against the sum written out for one customer
    i = int(np.argmax(x))
    d = (1.10) ** (1 / 12) - 1
    cumulative = [float(clv.expected_purchases(bg_weeks, x[i], t_x[i], T[i], horizon_days=k * 365.25 / 12))
                  for k in range(0, 13)]
    by_hand = sum(0.3 * spend[i] * (cumulative[k] - cumulative[k - 1]) / (1 + d) ** k for k in range(1, 13))
    value = clv.predicted_clv(bg_weeks, gg, x[i:i + 1], t_x[i:i + 1], T[i:i + 1], m[i:i + 1],
                              horizon_months=12, margin_rate=0.3, annual_discount_rate=0.10)
    assert float(value[0]) == pytest.approx(by_hand, rel=1e-10)
    assert float(value[0]) < 0.3 * flat[i]
    with pytest.raises(ValueError):
        clv.predicted_clv(bg_weeks, gg, x, t_x, T, m, annual_discount_rate=0.1, monthly_discount_rate=0.01)


def test_library_default_priors_are_not_the_mle(weekly, bg_weeks):
    """flat_priors=False fits with pymc-marketing's default priors: it works, but the MAP
    is then a posterior mode (a, b move by >10% on CDNOW), which is why flat is the default."""
    fit = clv.fit_bgnbd(weekly["frequency"], weekly["recency"], weekly["T"], time_unit="weeks",
                        flat_priors=False)
    assert fit.status == "ok"
    assert fit.log_likelihood < bg_weeks.log_likelihood
    assert abs(fit.a / bg_weeks.a - 1) > 0.05


def test_summary_merges_same_day_orders_on_utc_days():
    tx = pd.DataFrame({
        "customer_id": [1, 1, 1, 1, 2],
        "order_date": pd.to_datetime(["2024-01-01 09:00Z", "2024-01-01 20:00Z",
                                      "2024-01-02 03:30+05:00",   # 2024-01-01 22:30 UTC: same day
                                      "2024-01-15 12:00Z", "2024-01-10 08:00Z"], utc=True, format="mixed"),
        "amount": [10.0, 5.0, 1.0, 30.0, 7.0],
    })
    s = clv.rfm_summary(tx, calibration_end="2024-01-29", time_unit="days").set_index("customer_id")
    assert s.loc[1, "frequency"] == 1 and s.loc[1, "recency"] == 14 and s.loc[1, "T"] == 28
    assert s.loc[1, "monetary_value"] == 30.0                  # the repeat day only
    assert s.loc[2, "frequency"] == 0 and pd.isna(s.loc[2, "monetary_value"]) and s.loc[2, "T"] == 19
    weeks = clv.rfm_summary(tx, calibration_end="2024-01-29", time_unit="weeks").set_index("customer_id")
    assert weeks.loc[1, "T"] == 4 and weeks.loc[1, "recency"] == 2
    # orders after the calibration end are not counted
    assert clv.rfm_summary(tx, calibration_end="2024-01-14", time_unit="days").set_index(
        "customer_id").loc[1, "frequency"] == 0


def test_segment_driver_on_cdnow_gives_the_published_fit(transactions):
    """The driver the pipeline runs, fed a summary in days, fits in weeks and lands on
    the published parameters (one segment: everyone)."""
    daily = clv.rfm_summary(transactions, calibration_end=CALIBRATION_END, time_unit="days")
    out = clv.fit_and_predict_segments(daily, segment_cols=(), fit_time_unit="weeks",
                                       fitted_as_of=CALIBRATION_END)
    fits = out.fits.set_index(["model", "parameter"])
    assert set(out.fits["segment"]) == {"all"} and (out.fits["status"] == "ok").all()
    for name, published in PUBLISHED_BGNBD.items():
        assert fits.loc[("bg_nbd", name), "value"] == pytest.approx(published, rel=REL_TOL), name
    for name, published in PUBLISHED_GG.items():
        assert fits.loc[("gamma_gamma", name), "value"] == pytest.approx(published, rel=REL_TOL), name
    assert (out.predictions["prediction_status"] == "ok").all() and len(out.predictions) == 2357
