"""Score every customer from a fits table: the one CLV prediction path.

Called by the dbt Python model ``int_clv_predictions`` (on the SQL summary and
``int_clv_fits``) and by :func:`orchestration.clv.segments.fit_and_predict_segments`
(what the Python tests exercise), so the build and the tests run the same code.

For each customer and each model the fit used is the finest segment on the
customer's path whose fit has status ``ok``: the segment columns joined
coarse to fine ("food_delivery/m17"), then each coarser prefix
("food_delivery"), then ``all``. At that fit's parameters (time unit: the
fit's), with recency and T converted from days:

* p_alive: probability the customer has not dropped out (BG/NBD);
* expected_purchases: expected repeat purchase days in the next
  horizon_months months (a month = 365.25 / 12 days, converted to the fit's
  unit, never read as a bare number of periods);
* expected_avg_order_value: Gamma-Gamma conditional mean spend per purchase day;
* discounted_expected_purchases: sum over months m = 1..H of
  (E[purchases by end of month m] - E[by m - 1]) / (1 + d)^m, with the monthly
  discount rate d = (1 + annual)^(1/12) - 1 (what per-purchase costs scale with);
* predicted_revenue: expected_avg_order_value x discounted_expected_purchases;
* predicted_clv: predicted_revenue x the customer's margin_rate (CLV on margin).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.clv.predictions import (
    discounted_purchases_from_params,
    distinct_rows,
    expected_order_value_from_params,
    p_alive_from_params,
    purchase_head,
    to_monthly_discount_rate,
)
from orchestration.clv.statuses import (
    PREDICTION_FIRST_PURCHASE_ON_AS_OF_DATE,
    PREDICTION_INVALID_SUMMARY,
    PREDICTION_NO_FIT,
    PREDICTION_NO_SPEND_FIT,
    PREDICTION_OK,
    STATUS_OK,
)
from orchestration.clv.time_units import DAYS_PER_MONTH, DAYS_PER_UNIT, normalize_time_unit

ROOT_SEGMENT = "all"
BG_PARAMS = ["r", "alpha", "a", "b"]
GG_PARAMS = ["p", "q", "gamma"]
SCORE_SCHEMA = pa.schema([
    ("p_alive", pa.float64()), ("expected_purchases", pa.float64()), ("horizon_months", pa.int64()),
    ("discounted_expected_purchases", pa.float64()), ("expected_avg_order_value", pa.float64()),
    ("predicted_revenue", pa.float64()), ("margin_rate", pa.float64()), ("predicted_clv", pa.float64()),
    ("annual_discount_rate", pa.float64()), ("time_unit", pa.string()), ("bg_nbd_segment", pa.string()),
    ("gamma_gamma_segment", pa.string()), ("prediction_status", pa.string()),
])


def valid_summary_rows(x: np.ndarray, t_x: np.ndarray, t_cal: np.ndarray) -> np.ndarray:
    """Rows whose (frequency, recency, T) a BG/NBD fit or prediction can use."""
    with np.errstate(invalid="ignore"):
        return (np.isfinite(x) & np.isfinite(t_x) & np.isfinite(t_cal) & (x >= 0) & (x == np.round(x))
                & (t_x >= 0) & (t_x <= t_cal + 1e-9) & (t_cal > 0)
                & ((x == 0) == (t_x == 0)))


def segment_candidates(values: Sequence) -> list[str]:
    """A customer's segments, finest first: ("a", "b") -> ["a/b", "a", "all"]; a NULL ends the path."""
    paths, current = [], None
    for value in values:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            break
        current = str(value) if current is None else f"{current}/{value}"
        paths.append(current)
    return [*reversed(paths), ROOT_SEGMENT]


def ok_parameters(fits: pd.DataFrame, model: str, names: list[str]) -> pd.DataFrame:
    """segment -> parameter columns, for the segments whose fit of ``model`` is ok."""
    rows = fits[(fits["model"] == model) & (fits["status"] == STATUS_OK)]
    table = rows.pivot_table(index="segment", columns="parameter", values="value", aggfunc="first")
    return table.reindex(columns=names).dropna()


def finest_ok_segments(ok_segments: Iterable[str], segment_values: Sequence[Sequence]) -> np.ndarray:
    """The fit each group of customers uses: per group, the finest segment on its path whose fit is ok, or None.

    ``segment_values`` holds one entry per group: its segment column values,
    coarse to fine (e.g. industry, merchant_id); the path is
    :func:`segment_candidates` (merchant, else industry, else ``all``). The
    live scoring (:func:`score_customers`) and the backtest's scoring
    (``int_clv_backtest_predictions``) both choose with this function.
    """
    ok = set(ok_segments)
    chosen = [next((segment for segment in segment_candidates(values) if segment in ok), None)
              for values in segment_values]
    return np.array(chosen, dtype=object)


def score_customers(
    summary: pa.Table,
    fits: pd.DataFrame,
    *,
    segment_columns: Sequence[str],
    horizon_months: int,
    annual_discount_rate: float,
    fit_time_unit: str,
    default_margin_rate: float | None = None,
) -> pa.Table:
    """Score every row of ``summary`` with the fits; one output row per input row, same order.

    ``summary`` (Arrow) has the ``segment_columns`` (coarse to fine),
    ``frequency``, ``recency_days``, ``t_days`` (whole or fractional days),
    ``monetary_value`` (mean repeat-day spend, NULL without repeat purchases)
    and ``margin_rate`` (NULLs take ``default_margin_rate`` when given).
    ``fits`` is the long fits table (segment, model, parameter, value,
    time_unit, status) of ``int_clv_fits`` / :func:`fit_segments`;
    ``fit_time_unit`` applies when it has no fitted row. Returns the columns of
    :data:`SCORE_SCHEMA`; ``prediction_status`` is ``ok``, ``no_spend_fit``
    (purchases, but no usable Gamma-Gamma fit), ``no_fit`` (no usable BG/NBD
    fit on the path), ``invalid_summary`` or ``first_purchase_on_as_of_date``
    (T = 0: the likelihood needs T > 0).
    """
    units = fits["time_unit"].dropna().unique() if len(fits) else []
    unit = normalize_time_unit(units[0] if len(units) else fit_time_unit)
    days_per_unit = DAYS_PER_UNIT[unit]
    monthly_rate = to_monthly_discount_rate(annual_discount_rate=float(annual_discount_rate))

    # the fit each customer uses, decided once per distinct segment combination
    n = summary.num_rows
    codes = np.zeros((n, len(segment_columns)), dtype=np.int64)   # no segment columns: one group, "all"
    for column, name in enumerate(segment_columns):
        codes[:, column] = summary[name].combine_chunks().dictionary_encode().indices.fill_null(-1).to_numpy()
    first_row, group_of_row = distinct_rows(codes)
    group_values = [[summary[name][int(row)].as_py() for name in segment_columns] for row in first_row]
    bg_table = ok_parameters(fits, "bg_nbd", BG_PARAMS)
    gg_table = ok_parameters(fits, "gamma_gamma", GG_PARAMS)
    bg_group = finest_ok_segments(bg_table.index, group_values)
    gg_group = finest_ok_segments(gg_table.index, group_values)

    def numbers(name):
        return summary[name].to_numpy().astype(float)   # NULL -> NaN

    x = numbers("frequency")
    t_x = numbers("recency_days") / days_per_unit
    t_cal = numbers("t_days") / days_per_unit
    money = numbers("monetary_value")                          # NaN for one-time buyers
    margin = numbers("margin_rate") if "margin_rate" in summary.column_names else np.full(n, np.nan)
    if default_margin_rate is not None:
        margin = np.where(np.isnan(margin), float(default_margin_rate), margin)
    valid = valid_summary_rows(x, t_x, t_cal)
    has_bg = valid & (bg_group != None)[group_of_row]          # noqa: E711
    has_gg = has_bg & (gg_group != None)[group_of_row]         # noqa: E711

    def params(table, group_segments, mask, names):
        # per group, then per row: parameters of the segment each row uses
        per_group = table.reindex(group_segments)
        return {name: per_group[name].to_numpy(dtype=float)[group_of_row[mask]] for name in names}

    p_alive = np.full(n, np.nan)
    purchases = np.full(n, np.nan)
    discounted = np.full(n, np.nan)
    aov = np.full(n, np.nan)
    revenue = np.full(n, np.nan)

    bg = params(bg_table, bg_group, has_bg, BG_PARAMS)
    history = dict(frequency=x[has_bg], recency=t_x[has_bg], T=t_cal[has_bg])
    horizon_periods = horizon_months * DAYS_PER_MONTH / days_per_unit
    # E[Y(t)] = head(t; parameters, x, T) x P(alive): the head once per distinct
    # (fit, x, T), the customers' segment group standing for the fit's parameters
    groups = distinct_rows(np.column_stack([group_of_row[has_bg], history["frequency"], history["T"]]))
    alive = p_alive_from_params(**bg, **history)
    p_alive[has_bg] = alive
    first, inverse = groups
    head = purchase_head(*(bg[name][first] for name in BG_PARAMS), history["frequency"][first],
                         history["T"][first], horizon_periods)
    purchases[has_bg] = head[inverse] * alive
    # the discounted monthly sum of expected purchases (BG/NBD only), then spend (Gamma-Gamma)
    discounted[has_bg] = discounted_purchases_from_params(**bg, **history, time_unit=unit,
                                                          horizon_months=horizon_months,
                                                          monthly_rate=monthly_rate, groups=groups)
    gg = params(gg_table, gg_group, has_gg, GG_PARAMS)
    aov[has_gg] = expected_order_value_from_params(**gg, frequency=x[has_gg], monetary_value=money[has_gg])
    revenue[has_gg] = aov[has_gg] * discounted[has_gg]

    statuses = pa.array([PREDICTION_FIRST_PURCHASE_ON_AS_OF_DATE, PREDICTION_INVALID_SUMMARY, PREDICTION_NO_FIT,
                         PREDICTION_NO_SPEND_FIT, PREDICTION_OK], type=pa.string())
    status = statuses.take(pa.array(np.select([t_cal == 0, ~valid, ~has_bg, ~has_gg], [0, 1, 2, 3], 4)
                                    .astype(np.int8)))

    def nullable(values):
        return pa.array(values, type=pa.float64(), from_pandas=True)   # NaN -> NULL

    def segment_column(group_segments, mask):
        per_group = pa.array(list(group_segments), type=pa.string())
        return pc.if_else(pa.array(mask), per_group.take(pa.array(group_of_row)), None)

    columns = {
        "p_alive": nullable(p_alive),
        "expected_purchases": nullable(purchases),
        "horizon_months": pa.array(np.full(n, horizon_months, dtype="int64")),
        "discounted_expected_purchases": nullable(discounted),
        "expected_avg_order_value": nullable(aov),
        "predicted_revenue": nullable(revenue),
        "margin_rate": nullable(margin),
        "predicted_clv": nullable(revenue * margin),
        "annual_discount_rate": pa.array(np.full(n, float(annual_discount_rate))),
        "time_unit": pa.array([unit], type=pa.string()).take(pa.array(np.zeros(n, dtype=np.int8))),
        "bg_nbd_segment": segment_column(bg_group, has_bg),
        "gamma_gamma_segment": segment_column(gg_group, has_gg),
        "prediction_status": status,
    }
    # an explicit schema, so the table has the same column types when there is nobody to score
    return pa.table({name: columns[name] for name in SCORE_SCHEMA.names}).cast(SCORE_SCHEMA)
