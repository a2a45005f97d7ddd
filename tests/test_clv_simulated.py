"""CLV fits on simulated data: parameter recovery, and fits that must fail softly."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2

from orchestration import clv

TRUE_BG = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}   # weeks, CDNOW-like
TRUE_GG = {"p": 6.0, "q": 4.0, "gamma": 15.0}


@pytest.fixture(scope="module")
def simulated():
    rng = np.random.default_rng(0)
    n = 20_000
    T = rng.integers(26 * 7, 52 * 7 + 1, n) / 7.0        # whole days since first purchase, in weeks
    summary = clv.simulate_bgnbd(n, **TRUE_BG, T=T, rng=rng)
    summary["monetary_value"] = clv.simulate_gamma_gamma_spend(summary["frequency"], **TRUE_GG, rng=rng)
    return summary


@pytest.fixture(scope="module")
def bg_fit(simulated):
    return clv.fit_bgnbd(simulated["frequency"], simulated["recency"], simulated["T"], time_unit="weeks")


def test_bgnbd_parameter_recovery(simulated, bg_fit):
    s, fit = simulated, bg_fit
    assert fit.status == "ok", fit
    assert fit.n_customers == 20_000
    for name, tol in (("r", 0.10), ("alpha", 0.10), ("a", 0.15), ("b", 0.15)):
        assert getattr(fit, name) == pytest.approx(TRUE_BG[name], rel=tol), name
    # the MLE beats the truth, by no more than chance allows (LR ~ chi2 with 4 df)
    ll_true = clv.bgnbd_log_likelihood(**TRUE_BG, frequency=s["frequency"], recency=s["recency"],
                                       T=s["T"]).sum()
    lr = 2 * (fit.log_likelihood - ll_true)
    assert 0 <= lr < chi2.ppf(0.999, 4)


def test_gamma_gamma_parameter_recovery(simulated):
    s = simulated
    fit = clv.fit_gamma_gamma(s["frequency"], s["monetary_value"])
    assert fit.status == "ok", fit
    assert fit.n_customers == int((s["frequency"] > 0).sum())
    for name in ("p", "q", "gamma"):
        assert getattr(fit, name) == pytest.approx(TRUE_GG[name], rel=0.15), name
    ll_true = clv.gamma_gamma_log_likelihood(**TRUE_GG, frequency=s["frequency"][s["frequency"] > 0],
                                             monetary_value=s["monetary_value"][s["frequency"] > 0]).sum()
    assert 0 <= 2 * (fit.log_likelihood - ll_true) < chi2.ppf(0.999, 3)


def test_predictions_are_well_formed(simulated, bg_fit):
    s, fit = simulated, bg_fit
    alive = clv.p_alive(fit, s["frequency"], s["recency"], s["T"])
    assert np.all(alive[s["frequency"] == 0] == 1.0)        # BG/NBD: no repeat purchase, no dropout yet
    assert np.all((alive > 0) & (alive <= 1))
    horizons = [clv.expected_purchases(fit, s["frequency"], s["recency"], s["T"], horizon_days=d)
                for d in (0, 30, 365, 3650)]
    assert np.all(horizons[0] == 0)
    assert all(np.all(np.diff(np.stack(horizons), axis=0)[i] >= 0) for i in range(3))
    assert np.all(np.isfinite(horizons[-1]))


def test_no_repeat_buyers_is_a_status_not_an_exception():
    n = 300
    fit = clv.fit_bgnbd(np.zeros(n), np.zeros(n), np.full(n, 20.0), time_unit="weeks")
    assert fit.status == "too_few_repeat_buyers"
    assert np.isnan(fit.r) and np.isnan(fit.log_likelihood) and fit.n_customers == n
    spend = clv.fit_gamma_gamma(np.zeros(n), np.full(n, np.nan))
    assert spend.status == "too_few_repeat_buyers" and spend.n_customers == 0
    with pytest.raises(ValueError, match="too_few_repeat_buyers"):
        clv.p_alive(fit, [0], [0], [20])


def test_tiny_and_empty_segments():
    assert clv.fit_bgnbd([1, 2, 0], [3.0, 5.0, 0.0], [10.0, 10.0, 10.0],
                         time_unit="weeks").status == "too_few_repeat_buyers"
    assert clv.fit_bgnbd([], [], [], time_unit="weeks").status == "too_few_customers"
    assert clv.fit_gamma_gamma([], []).status == "too_few_repeat_buyers"


def test_invalid_input_fails_softly():
    bad = clv.fit_bgnbd([1, 2], [3.0, 40.0], [30.0, 30.0], time_unit="weeks")
    assert bad.status.startswith("failed: invalid input")
    unit = clv.fit_bgnbd([1, 2], [3.0, 4.0], [30.0, 30.0], time_unit="fortnights")
    assert unit.status.startswith("failed: ValueError")
    lengths = clv.fit_bgnbd([1, 2], [3.0], [30.0, 30.0], time_unit="weeks")
    assert lengths.status.startswith("failed:")


def test_degenerate_fits_are_flagged():
    rng = np.random.default_rng(1)
    n = 500
    # everyone bought right up to the end of the period: nobody ever drops out
    x = rng.poisson(8, n)
    T = np.full(n, 40.0)
    fit = clv.fit_bgnbd(x, np.where(x > 0, T, 0.0), T, time_unit="weeks")
    assert fit.status == "degenerate", fit
    # identical spend for everyone: no heterogeneity to estimate
    spend = clv.fit_gamma_gamma(rng.integers(1, 5, 400), np.full(400, 20.0))
    assert spend.status == "degenerate", spend


def test_optimiser_budget_gives_not_converged(simulated):
    s = simulated.iloc[:2000]
    fit = clv.fit_bgnbd(s["frequency"], s["recency"], s["T"], time_unit="weeks", max_evaluations=3)
    assert fit.status == "not_converged"


def test_fits_in_threads_equal_fits_in_turn(simulated, bg_fit):
    """dbt runs the live and the backtest fits in threads of one process, and the
    compiled fitter is shared: fits started together on different data must give
    exactly what each gives alone (the fitter's lock), never a mix of the two."""
    from concurrent.futures import ThreadPoolExecutor

    s = simulated
    half = {name: np.asarray(s[name])[::2] for name in ("frequency", "recency", "T")}
    alone_half = clv.fit_bgnbd(half["frequency"], half["recency"], half["T"], time_unit="weeks")
    jobs = [(s["frequency"], s["recency"], s["T"]), (half["frequency"], half["recency"], half["T"])] * 2
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda job: clv.fit_bgnbd(*job, time_unit="weeks"), jobs))
    for fit, alone in zip(together, [bg_fit, alone_half] * 2, strict=True):
        assert fit.status == alone.status == "ok"
        assert (fit.r, fit.alpha, fit.a, fit.b) == (alone.r, alone.alpha, alone.a, alone.b)
