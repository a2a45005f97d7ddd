"""Per-customer predicted CLV from the fits in int_clv_fits (closed form, no refit).

For each customer and each model the fit used is the finest segment on the
customer's path whose fit has status 'ok': industry/merchant, else industry,
else 'all'. At that fit's parameters (time unit: the fit's), with recency and
T converted from days:

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

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

BG_PARAMS = ["r", "alpha", "a", "b"]
GG_PARAMS = ["p", "q", "gamma"]
ROOT = "all"
SCHEMA = pa.schema([
    ("merchant_id", pa.string()), ("customer_id", pa.string()), ("industry", pa.string()),
    ("p_alive", pa.float64()), ("expected_purchases", pa.float64()), ("horizon_months", pa.int64()),
    ("discounted_expected_purchases", pa.float64()), ("expected_avg_order_value", pa.float64()),
    ("predicted_revenue", pa.float64()), ("margin_rate", pa.float64()), ("predicted_clv", pa.float64()),
    ("annual_discount_rate", pa.float64()), ("time_unit", pa.string()), ("bg_nbd_segment", pa.string()),
    ("gamma_gamma_segment", pa.string()), ("prediction_status", pa.string()), ("as_of_date", pa.date32()),
])


def _ok_params(fits: pd.DataFrame, model: str, names: list) -> pd.DataFrame:
    """segment -> parameter columns, for the segments whose fit of `model` is ok."""
    rows = fits[(fits["model"] == model) & (fits["status"] == "ok")]
    table = rows.pivot_table(index="segment", columns="parameter", values="value", aggfunc="first")
    return table.reindex(columns=names).dropna()


def _choose(industries: list, merchants: list, ok_segments: set) -> list:
    """Per (industry, merchant_id) pair, the finest segment with an ok fit, or None."""
    chosen = []
    for industry, merchant in zip(industries, merchants):
        for segment in (f"{industry}/{merchant}", str(industry), ROOT):
            if segment in ok_segments:
                chosen.append(segment)
                break
        else:
            chosen.append(None)
    return chosen


def model(dbt, session):
    from orchestration.clv import (
        DAYS_PER_MONTH,
        DAYS_PER_UNIT,
        discounted_purchases_from_params,
        distinct_rows,
        expected_order_value_from_params,
        expected_purchases_periods,
        normalize_time_unit,
        p_alive_from_params,
        to_monthly_discount_rate,
    )

    configured_unit = dbt.config.get("fit_time_unit")   # used when no fit was made at all
    horizon_months = int(dbt.config.get("horizon_months"))
    monthly_rate = to_monthly_discount_rate(
        annual_discount_rate=float(dbt.config.get("annual_discount_rate")))
    fits = dbt.ref("int_clv_fits").df()
    # Arrow, not pandas: the id columns pass through untouched, only numbers go to NumPy
    summary = (
        dbt.ref("int_customers_clv_summary")
        .project("merchant_id, customer_id, industry, frequency, recency_days, t_days, "
                 "monetary_value, margin_rate, as_of_date")
        .to_arrow_table()
    )

    units = fits["time_unit"].dropna().unique()
    unit = normalize_time_unit(units[0] if len(units) else configured_unit)
    days_per_unit = DAYS_PER_UNIT[unit]

    # the fit each customer uses, decided once per (industry, merchant) pair
    segment_codes = np.column_stack([
        summary[name].combine_chunks().dictionary_encode().indices.fill_null(-1).to_numpy()
        for name in ("industry", "merchant_id")
    ])
    first_row_of_pair, pair_of_row = distinct_rows(segment_codes)
    industries = summary["industry"].take(first_row_of_pair).to_pylist()
    merchants = summary["merchant_id"].take(first_row_of_pair).to_pylist()
    bg_table = _ok_params(fits, "bg_nbd", BG_PARAMS)
    gg_table = _ok_params(fits, "gamma_gamma", GG_PARAMS)
    bg_pair = np.array(_choose(industries, merchants, set(bg_table.index)), dtype=object)
    gg_pair = np.array(_choose(industries, merchants, set(gg_table.index)), dtype=object)

    def numbers(name):
        return summary[name].to_numpy().astype(float)   # NULL -> NaN

    x = numbers("frequency")
    t_x = numbers("recency_days") / days_per_unit
    t_cal = numbers("t_days") / days_per_unit
    money = numbers("monetary_value")                          # NaN for one-time buyers
    margin = numbers("margin_rate")
    n = len(x)
    scorable = t_cal > 0                                        # first purchase before AS_OF_DATE
    has_bg = scorable & (bg_pair != None)[pair_of_row]          # noqa: E711
    has_gg = has_bg & (gg_pair != None)[pair_of_row]            # noqa: E711

    def params(table, pair_segments, mask, names):
        # per pair, then per row: parameters of the segment each row uses
        per_pair = table.reindex(pair_segments)
        return {name: per_pair[name].to_numpy(dtype=float)[pair_of_row[mask]] for name in names}

    p_alive = np.full(n, np.nan)
    purchases = np.full(n, np.nan)
    aov = np.full(n, np.nan)
    revenue = np.full(n, np.nan)

    bg = params(bg_table, bg_pair, has_bg, BG_PARAMS)
    history = dict(frequency=x[has_bg], recency=t_x[has_bg], T=t_cal[has_bg])
    horizon_periods = horizon_months * DAYS_PER_MONTH / days_per_unit
    p_alive[has_bg] = p_alive_from_params(**bg, **history)
    purchases[has_bg] = expected_purchases_periods(**bg, **history, horizon_periods=horizon_periods)

    # the discounted monthly sum of expected purchases (BG/NBD only), then spend (Gamma-Gamma)
    discounted = np.full(n, np.nan)
    discounted[has_bg] = discounted_purchases_from_params(**bg, **history, time_unit=unit,
                                                          horizon_months=horizon_months,
                                                          monthly_rate=monthly_rate)
    gg = params(gg_table, gg_pair, has_gg, GG_PARAMS)
    aov[has_gg] = expected_order_value_from_params(**gg, frequency=x[has_gg], monetary_value=money[has_gg])
    revenue[has_gg] = aov[has_gg] * discounted[has_gg]

    status = np.where(~scorable, "first_purchase_on_as_of_date",
                      np.where(~has_bg, "no_fit", np.where(~has_gg, "no_spend_fit", "ok")))

    def nullable(values):
        return pa.array(values, type=pa.float64(), from_pandas=True)   # NaN -> NULL

    def segment_column(pair_segments, mask):
        per_pair = pa.array(list(pair_segments), type=pa.string())
        return pc.if_else(pa.array(mask), per_pair.take(pa.array(pair_of_row)), None)

    columns = {
        "merchant_id": summary["merchant_id"],
        "customer_id": summary["customer_id"],
        "industry": summary["industry"],
        "p_alive": nullable(p_alive),
        "expected_purchases": nullable(purchases),
        "horizon_months": pa.array(np.full(n, horizon_months, dtype="int64")),
        "discounted_expected_purchases": nullable(discounted),
        "expected_avg_order_value": nullable(aov),
        "predicted_revenue": nullable(revenue),
        "margin_rate": nullable(margin),
        "predicted_clv": nullable(revenue * margin),
        "annual_discount_rate": pa.array(np.full(n, float(dbt.config.get("annual_discount_rate")))),
        "time_unit": pa.array(np.full(n, unit, dtype=object), type=pa.string()),
        "bg_nbd_segment": segment_column(bg_pair, has_bg),
        "gamma_gamma_segment": segment_column(gg_pair, has_gg),
        "prediction_status": pa.array(status, type=pa.string()),
        "as_of_date": summary["as_of_date"],
    }
    # an explicit schema, so the table has the same column types when there is nobody to score
    return pa.table({name: columns[name] for name in SCHEMA.names}).cast(SCHEMA)
