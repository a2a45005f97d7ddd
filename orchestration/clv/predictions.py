"""Closed-form predictions at a fitted point: P(alive), expected purchases, spend, CLV.

Everything here is NumPy/SciPy on parameter values (``*_from_params``) or on
fit objects (units taken from the fit); no PyMC.
"""

from __future__ import annotations

import numpy as np
from scipy.special import hyp2f1

from orchestration.clv.likelihoods import _log_dropout_odds
from orchestration.clv.statuses import BGNBDFit, GammaGammaFit
from orchestration.clv.time_units import DAYS_PER_MONTH, days_to_periods

# --------------------------------------------------------------------------

def p_alive_from_params(r, alpha, a, b, frequency, recency, T) -> np.ndarray:
    """P(alive | x, t_x, T) = 1 / (1 + 1{x>0} a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))
    (Fader, Hardie and Lee 2008, "Computing P(alive) using the BG/NBD model")."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    return np.exp(-np.logaddexp(0.0, _log_dropout_odds(r, alpha, a, b, x, t_x, T)))


def expected_purchases_periods(r, alpha, a, b, frequency, recency, T, horizon_periods) -> np.ndarray:
    """E[Y(t) | x, t_x, T], FHL (2005) eq. 10, with t = ``horizon_periods`` in the
    unit of ``alpha``, ``recency`` and ``T``:

        (a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)]
        / (1 + 1{x>0} a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)),   z = t/(alpha+T+t).

    The hypergeometric term is evaluated after Euler's transformation,
    (1-z)^(r+x) 2F1(r+x, b+x; c; z) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; c; z),
    which stays finite for large x (Fader-Hardie's "#NUM!" note). At a = 1
    exactly the expression is 0/0; a is nudged by 1e-6 there.
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    return purchase_head(r, alpha, a, b, x, T, horizon_periods) * p_alive_from_params(r, alpha, a, b, x, t_x, T)


def purchase_head(r, alpha, a, b, x, T, t) -> np.ndarray:
    """E[Y(t) | x, t_x, T] / P(alive): the part of eq. 10 that does not depend on t_x."""
    x, T, t = (np.asarray(v, dtype=float) for v in (x, T, t))
    a = np.asarray(a, dtype=float)
    a = np.where(np.abs(a - 1.0) < 1e-6, 1.0 + 1e-6, a)
    z = t / (alpha + T + t)
    c = a + b + x - 1.0
    return (c / (a - 1.0)) * (1.0 - (1.0 - z) ** (a - 1.0) * hyp2f1(a + b - 1.0 - r, a - 1.0, c, z))


def expected_order_value_from_params(p, q, gamma, frequency, monetary_value) -> np.ndarray:
    """Gamma-Gamma E[M | p, q, gamma, m_x, x] = p (gamma + x m_x) / (p x + q - 1)
    (Fader-Hardie 2013 eq. 5): a weighted mean of the population mean p gamma/(q-1)
    and the customer's observed mean repeat spend m_x. For x = 0 it is the
    population mean (m_x is ignored, may be NaN)."""
    x = np.asarray(frequency, dtype=float)
    m = np.where(x > 0, np.asarray(monetary_value, dtype=float), 0.0)
    return p * (gamma + x * m) / (p * x + q - 1.0)


def to_monthly_discount_rate(*, annual_discount_rate: float | None = None,
                          monthly_discount_rate: float | None = None) -> float:
    """The monthly rate d from exactly one of an annual or a monthly rate:
    d = (1 + annual)^(1/12) - 1."""
    if (annual_discount_rate is None) == (monthly_discount_rate is None):
        raise ValueError("give exactly one of annual_discount_rate and monthly_discount_rate")
    if monthly_discount_rate is not None:
        return float(monthly_discount_rate)
    return float((1.0 + annual_discount_rate) ** (1.0 / 12.0) - 1.0)


def discounted_purchases_from_params(r, alpha, a, b, frequency, recency, T, *, time_unit: str,
                                     horizon_months: int, monthly_rate: float = 0.0,
                                     groups: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Expected purchases over whole months, each month's discounted:

        sum_{m=1..H} (E[Y(month m)] - E[Y(month m-1)]) / (1 + d)^m

    with E[Y] the BG/NBD conditional expectation (a month = 365.25/12 days,
    converted to ``time_unit``, the unit of ``alpha``, ``recency`` and ``T``),
    H = ``horizon_months`` and d = ``monthly_rate``. Per-purchase values (spend,
    costs) times this give their discounted total over the horizon.

    ``groups`` is :func:`distinct_rows` of the rows' (parameters, x, T), or of
    anything that determines them (a fit's code instead of its parameters),
    when the caller already has it: the (flattened) rows are then not hashed
    again. The values are the same either way.
    """
    months = int(horizon_months)
    if months < 0 or months != horizon_months:
        raise ValueError("horizon_months must be a non-negative whole number")
    x, t_x, T, r, alpha, a, b = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in
                                                      (frequency, recency, T, r, alpha, a, b)))
    # E[Y(t)] = head(t) x P(alive), and only head depends on t: sum the discounted
    # monthly increments of head, once per distinct (parameters, x, T), then scale
    # by each customer's P(alive). Customers share (x, T) a lot (T is whole days),
    # so this evaluates the hypergeometric function a fraction as often.
    if groups is None:
        groups = distinct_rows(np.column_stack([r.ravel(), alpha.ravel(), a.ravel(), b.ravel(),
                                                x.ravel(), T.ravel()]))
    first, inverse = groups
    total = _discounted_head(*(v.ravel()[first] for v in (r, alpha, a, b, x, T)), time_unit=time_unit,
                             months=months, monthly_rate=monthly_rate)
    alive = p_alive_from_params(r, alpha, a, b, x, t_x, T)
    return total[inverse.ravel()].reshape(x.shape) * alive


def _discounted_head(r, alpha, a, b, x, T, *, time_unit: str, months: int, monthly_rate: float) -> np.ndarray:
    """sum_{m=1..months} (head(month m) - head(month m-1)) / (1 + d)^m, element by element."""
    total = np.zeros(len(x))
    previous = 0.0
    for month in range(1, months + 1):
        t = days_to_periods(month * DAYS_PER_MONTH, time_unit)
        cumulative = purchase_head(r, alpha, a, b, x, T, t)
        total = total + (cumulative - previous) / (1.0 + monthly_rate) ** month
        previous = cumulative
    return total


def distinct_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of one row per distinct row of a 2-D array, each row's distinct-row number).

    The columns of ``keys`` are the values to group by (numbers; NaN groups with NaN).

    Whole numbers whose ranges multiply to less than 2^62 (segment codes, day
    counts) are packed into one integer per row and hash-factorised once;
    anything else column by column, folding the codes pairwise, so codes stay
    below rows x distinct values of a column. Much faster than np.unique(axis=0).
    """
    import pandas as pd

    keys = np.asarray(keys)
    packed = _packed_whole_numbers(keys)
    if packed is not None:
        code, _ = pd.factorize(packed)
    else:
        code = np.zeros(len(keys), dtype=np.int64)
        for column in keys.T:
            values, uniques = pd.factorize(column)
            code, _ = pd.factorize(code * len(uniques) + values)
    # factorize numbers values in order of appearance, so a row is the first of its
    # code exactly where the code exceeds every code before it
    if len(code) == 0:
        return np.zeros(0, dtype=np.int64), code
    first = np.flatnonzero(np.r_[True, code[1:] > np.maximum.accumulate(code)[:-1]])
    return first, code


def _packed_whole_numbers(keys: np.ndarray) -> np.ndarray | None:
    """One int64 per row, equal exactly where the rows are, when every value is a
    whole number and the columns' ranges multiply to less than 2^62; else None."""
    if keys.ndim != 2 or len(keys) == 0 or keys.shape[1] == 0 or keys.dtype.kind not in "iuf":
        return None
    if keys.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            if not np.all(np.isfinite(keys)) or not np.all(keys == np.trunc(keys)) or np.abs(keys).max() >= 2.0**52:
                return None
    low, high = keys.min(axis=0), keys.max(axis=0)
    spans = [int(h) - int(lo) + 1 for lo, h in zip(low, high, strict=True)]
    if np.prod([float(span) for span in spans]) >= 2.0**62:
        return None
    packed = np.zeros(len(keys), dtype=np.int64)
    for column, lo, span in zip(keys.T, low, spans, strict=True):
        packed = packed * span + (column.astype(np.int64) - int(lo))
    return packed


def clv_from_params(bg: dict, gg: dict, frequency, recency, T, monetary_value, *, time_unit: str,
                    horizon_months: int, margin_rate=1.0, monthly_rate: float = 0.0) -> np.ndarray:
    """Discounted CLV on margin over whole months, from parameter dicts
    (``bg``: r, alpha, a, b in ``time_unit``; ``gg``: p, q, gamma); see :func:`predicted_clv`."""
    purchases = discounted_purchases_from_params(**bg, frequency=frequency, recency=recency, T=T,
                                                 time_unit=time_unit, horizon_months=horizon_months,
                                                 monthly_rate=monthly_rate)
    spend = expected_order_value_from_params(**gg, frequency=frequency, monetary_value=monetary_value)
    return np.asarray(margin_rate, dtype=float) * spend * purchases


# --- the same, on fit objects: units are taken from the fit -------------------

def _usable(fit, kind) -> None:
    if not isinstance(fit, kind):
        raise TypeError(f"expected a {kind.__name__}, got {type(fit).__name__}")
    if not fit.ok:
        raise ValueError(f"{fit.model} fit has status {fit.status!r}; its parameters cannot be used")


def p_alive(fit: BGNBDFit, frequency, recency, T) -> np.ndarray:
    """Probability each customer is still alive at T. ``recency``, ``T`` in ``fit.time_unit``."""
    _usable(fit, BGNBDFit)
    return p_alive_from_params(**fit.params(), frequency=frequency, recency=recency, T=T)


def expected_purchases(fit: BGNBDFit, frequency, recency, T, *, horizon_days: float) -> np.ndarray:
    """Expected purchases (repeat purchase days) in the next ``horizon_days`` days.

    ``recency`` and ``T`` are in ``fit.time_unit``; the horizon is given in days
    and converted to the fit's unit here.
    """
    _usable(fit, BGNBDFit)
    t = days_to_periods(horizon_days, fit.time_unit)
    return expected_purchases_periods(**fit.params(), frequency=frequency, recency=recency, T=T,
                                      horizon_periods=t)


def expected_order_value(fit: GammaGammaFit, frequency, monetary_value) -> np.ndarray:
    """Expected value of each customer's future purchases (Gamma-Gamma conditional mean)."""
    _usable(fit, GammaGammaFit)
    return expected_order_value_from_params(**fit.params(), frequency=frequency,
                                            monetary_value=monetary_value)


def predicted_clv(bg_fit: BGNBDFit, gg_fit: GammaGammaFit, frequency, recency, T, monetary_value, *,
                  horizon_months: int = 12, margin_rate=1.0,
                  annual_discount_rate: float | None = None,
                  monthly_discount_rate: float | None = None) -> np.ndarray:
    """Predicted CLV, discounted monthly, on margin::

        CLV = sum_{m=1..H} margin_rate * E[spend per purchase]
                           * (E[Y(month m)] - E[Y(month m-1)]) / (1 + d)^m

    where E[Y(month m)] is the BG/NBD conditional expected number of purchases
    by the end of month m (a month = 365.25/12 days, converted to the fit's
    unit), E[spend per purchase] is the Gamma-Gamma conditional mean, H =
    ``horizon_months`` and d the monthly discount rate, from exactly one of
    ``annual_discount_rate`` (d = (1+annual)^(1/12) - 1) or
    ``monthly_discount_rate``; neither given means no discounting.
    ``margin_rate`` may be a scalar or one value per customer; 1.0 gives revenue.
    ``recency`` and ``T`` are in ``bg_fit.time_unit``.
    """
    _usable(bg_fit, BGNBDFit)
    _usable(gg_fit, GammaGammaFit)
    if annual_discount_rate is None and monthly_discount_rate is None:
        rate = 0.0
    else:
        rate = to_monthly_discount_rate(annual_discount_rate=annual_discount_rate,
                                        monthly_discount_rate=monthly_discount_rate)
    return clv_from_params(bg_fit.params(), gg_fit.params(), frequency, recency, T, monetary_value,
                           time_unit=bg_fit.time_unit, horizon_months=horizon_months,
                           margin_rate=margin_rate, monthly_rate=rate)
