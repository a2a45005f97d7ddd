"""Inputs for the CLV models: the per-customer RFM summary, and simulated data.

:func:`rfm_summary` is the reference implementation, in DuckDB SQL, of the
summary the buy-till-you-die models need. The pipeline's dbt model computes
the same thing in the warehouse; tests compare the two.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb
import numpy as np
import pandas as pd

from orchestration.clv.time_units import DAYS_PER_UNIT, normalize_time_unit


def rfm_summary(transactions: pd.DataFrame, *, calibration_end: dt.date | str, time_unit: str,
                customer_cols: Sequence[str] = ("customer_id",), date_col: str = "order_date",
                amount_col: str = "amount", extra_cols: Sequence[str] = ()) -> pd.DataFrame:
    """Per-customer frequency, recency, T and mean repeat spend, as of ``calibration_end``.

    Conventions (those of the BG/NBD and Gamma-Gamma papers):

    * purchases are whole UTC calendar days (a timestamp with a time zone is
      taken on its UTC date): several orders on one day are one purchase whose
      value is their sum;
    * only days on or before ``calibration_end`` count; customers whose first
      purchase is later are not in the summary;
    * ``frequency`` = number of purchase days - 1 (repeat purchase days);
    * ``recency`` = last purchase day - first purchase day, in ``time_unit``;
    * ``T`` = ``calibration_end`` - first purchase day, in ``time_unit``;
    * ``monetary_value`` = mean value of the repeat purchase days (first day
      excluded), NULL for customers with no repeat purchase.

    ``time_unit`` is "days", "weeks" or "months" (365.25/12 days); durations
    are day counts divided by the unit's length, and the unit is returned in a
    ``time_unit`` column. ``extra_cols`` (e.g. industry, merchant) are carried
    through with their first value per customer.
    """
    unit = normalize_time_unit(time_unit)
    days_per_unit = DAYS_PER_UNIT[unit]
    end = pd.Timestamp(calibration_end).date().isoformat()
    keys = ", ".join(_quote(c) for c in customer_cols)
    carry = "".join(f", any_value({_quote(c)}) as {_quote(c)}" for c in extra_cols)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")      # timestamps with a zone fall on their UTC day
        con.register("transactions_input", transactions)
        return con.execute(f"""
            with purchase_days as (
                select {keys}, cast({_quote(date_col)} as date) as purchase_date,
                       sum({_quote(amount_col)}) as day_value{carry}
                from transactions_input
                where cast({_quote(date_col)} as date) <= date '{end}'
                group by {keys}, purchase_date
            ),
            numbered as (
                select *, min(purchase_date) over (partition by {keys}) as first_purchase_date
                from purchase_days
            )
            select {keys}{carry},
                   count(*) - 1 as frequency,
                   date_diff('day', min(purchase_date), max(purchase_date)) / {days_per_unit!r} as recency,
                   date_diff('day', min(purchase_date), date '{end}') / {days_per_unit!r} as "T",
                   avg(day_value) filter (where purchase_date > first_purchase_date) as monetary_value,
                   '{unit}' as time_unit,
                   min(purchase_date) as first_purchase_date,
                   max(purchase_date) as last_purchase_date
            from numbered
            group by {keys}
            order by {keys}
        """).df()
    finally:
        con.close()


def _quote(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def simulate_bgnbd(n: int, *, r: float, alpha: float, a: float, b: float, T,
                   rng: np.random.Generator) -> pd.DataFrame:
    """Simulate BG/NBD summaries (frequency, recency, T) for ``n`` customers, vectorised.

    Each customer has a purchase rate lambda ~ Gamma(r, rate alpha) and a
    dropout probability p ~ Beta(a, b). From the first purchase at time 0,
    repeat purchases arrive as a Poisson process; after each repeat purchase
    the customer drops out with probability p. So the number of repeat
    purchases before dropout K ~ Geometric(p) on {1, 2, ...}, the count in
    (0, T] is N ~ Poisson(lambda T), x = min(N, K), and the time of the x-th of
    N uniform arrivals on (0, T] is T * Beta(x, N - x + 1).
    ``T`` is a scalar or one value per customer, in the unit of ``alpha``.
    """
    T = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    lam = rng.gamma(shape=r, scale=1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    n_arrivals = rng.poisson(lam * T)
    k_dropout = rng.geometric(np.clip(p, 1e-12, 1.0))
    x = np.minimum(n_arrivals, k_dropout)
    recency = np.zeros(n)
    has = x > 0
    recency[has] = T[has] * rng.beta(x[has], n_arrivals[has] - x[has] + 1)
    return pd.DataFrame({"frequency": x.astype(np.int64), "recency": recency, "T": T})


def simulate_gamma_gamma_spend(frequency, *, p: float, q: float, gamma: float,
                               rng: np.random.Generator) -> np.ndarray:
    """Mean spend of ``frequency`` transactions per customer under Gamma-Gamma:
    nu ~ Gamma(q, rate gamma), each transaction ~ Gamma(p, rate nu), so the
    mean of x of them ~ Gamma(p x, rate nu x). NaN where frequency is 0."""
    x = np.asarray(frequency, dtype=float)
    nu = rng.gamma(shape=q, scale=1.0 / gamma, size=x.shape)
    safe_x = np.where(x > 0, x, 1.0)
    mean = rng.gamma(shape=p * safe_x, scale=1.0 / (nu * safe_x))
    return np.where(x > 0, mean, np.nan)
