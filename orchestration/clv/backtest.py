"""Holdout backtest of the CLV models: what the model fitted on a calibration
period predicted for the holdout period that followed, next to what happened.

This is the validation of Fader, Hardie and Lee (2005), section 5: fit BG/NBD
on the calibration period (CDNOW: 39 weeks), then compare, per number of
repeat purchases in the calibration period, the mean conditional expectation
E[Y(t) | x, t_x, T] over the holdout (the next 39 weeks) with the mean number
of repeat purchases customers actually made; and track cumulative repeat
purchases week by week against the model's unconditional expectation E[X(t)]
summed over the customers (the paper's tracking plot).

Pure functions on NumPy arrays; the dbt Python models ``int_clv_backtest_*``
feed them. The model formulas themselves are those of
:mod:`orchestration.clv` (conditional expectation, P(alive)); this module adds
what only a backtest needs; which fit scores whom is the live path's
:func:`orchestration.clv.scoring.finest_ok_segments`.
"""

from __future__ import annotations

import numpy as np

from orchestration.clv import expected_purchases_periods, p_alive_from_params


def expected_cumulative_purchases(r, alpha, a, b, age_periods) -> np.ndarray:
    """Unconditional E[X(t)], the repeat purchases a new customer is expected to
    make in the first t periods after their first purchase (FHL 2005, eq. 9):

        (a+b-1)/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))]

    It is the conditional expectation of a customer seen for no time at all
    (x = 0, t_x = 0, T = 0, hence P(alive) = 1), so it is evaluated with the
    package's :func:`expected_purchases_periods` (and its numerically stable
    form). ``age_periods`` <= 0 gives 0. Parameters and ages broadcast.
    """
    age = np.asarray(age_periods, dtype=float)
    positive = np.maximum(age, 0.0)
    zeros = np.zeros_like(positive)
    value = expected_purchases_periods(r, alpha, a, b, frequency=zeros, recency=zeros, T=zeros,
                                       horizon_periods=positive)
    return np.where(age > 0, value, 0.0)


def holdout_purchase_probability(r, alpha, a, b, frequency, recency, T, holdout_periods) -> np.ndarray:
    """P(at least one purchase in the next t periods | x, t_x, T).

    A customer alive at T keeps buying at their rate lambda ~ Gamma(r + x,
    alpha + T) (the posterior) and can only drop out right after a purchase,
    so P(no purchase in (T, T + t] | alive) = ((alpha + T) / (alpha + T + t))^(r + x),
    and the probability of buying is P(alive) x (1 - that).
    """
    x, T, t = (np.asarray(v, dtype=float) for v in (frequency, T, holdout_periods))
    alive = p_alive_from_params(r, alpha, a, b, x, recency, T)
    return alive * -np.expm1((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))


def percent_error(predicted_total, actual_total):
    """100 x (predicted - actual) / actual; NaN when nothing actually happened."""
    predicted, actual = np.asarray(predicted_total, dtype=float), np.asarray(actual_total, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(actual != 0, 100.0 * (predicted - actual) / actual, np.nan)
