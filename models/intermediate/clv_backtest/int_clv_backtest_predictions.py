"""What the calibration-period fits predicted for each backtest customer's holdout.

One row per customer of int_clv_backtest_summary. Each customer is scored, per
model, with the finest segment on their path whose backtest fit is ok
(industry/merchant, else industry, else all: the live fallback, chosen by the
live path's orchestration.clv.scoring.finest_ok_segments), at the
calibration end, over the holdout (holdout_days, converted to the fit's unit):

* p_alive: P(alive) at the calibration end;
* predicted_holdout_purchases: E[Y(t) | x, t_x, T], the expected repeat
  purchase days in the holdout (Fader, Hardie and Lee 2005, eq. 10);
* holdout_purchase_probability: P(at least one purchase in the holdout);
* expected_avg_order_value: Gamma-Gamma conditional mean spend per purchase day.
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SCHEMA = pa.schema([
    ("merchant_id", pa.string()), ("customer_id", pa.string()), ("industry", pa.string()),
    ("p_alive", pa.float64()), ("predicted_holdout_purchases", pa.float64()),
    ("holdout_purchase_probability", pa.float64()), ("expected_avg_order_value", pa.float64()),
    ("time_unit", pa.string()), ("bg_nbd_segment", pa.string()), ("gamma_gamma_segment", pa.string()),
    ("prediction_status", pa.string()), ("calibration_end_date", pa.date32()),
])


def model(dbt, session):
    from orchestration.clv import (
        DAYS_PER_UNIT,
        distinct_rows,
        expected_order_value_from_params,
        expected_purchases_periods,
        normalize_time_unit,
        p_alive_from_params,
    )
    from orchestration.clv.backtest import holdout_purchase_probability
    from orchestration.clv.scoring import BG_PARAMS, GG_PARAMS, finest_ok_segments, ok_parameters

    fits = dbt.ref("int_clv_backtest_fits").df()
    summary = (
        dbt.ref("int_clv_backtest_summary")
        .project("merchant_id, customer_id, industry, frequency, recency_days, t_days, monetary_value, "
                 "holdout_days, calibration_end_date")
        .to_arrow_table()
    )
    if summary.num_rows == 0:   # AS_OF_DATE too early for a calibration period: a typed empty table
        return SCHEMA.empty_table()
    units = fits["time_unit"].dropna().unique()
    unit = normalize_time_unit(units[0] if len(units) else dbt.config.get("fit_time_unit"))
    days_per_unit = DAYS_PER_UNIT[unit]

    # the fits each (industry, merchant) pair uses, decided once per pair
    codes = np.column_stack([
        summary[name].combine_chunks().dictionary_encode().indices.fill_null(-1).to_numpy()
        for name in ("industry", "merchant_id")
    ])
    first_row_of_pair, pair_of_row = distinct_rows(codes)
    pairs = list(zip(summary["industry"].take(first_row_of_pair).to_pylist(),
                     summary["merchant_id"].take(first_row_of_pair).to_pylist(), strict=True))
    bg_table = ok_parameters(fits, "bg_nbd", BG_PARAMS)
    gg_table = ok_parameters(fits, "gamma_gamma", GG_PARAMS)
    bg_pair = finest_ok_segments(bg_table.index, pairs)
    gg_pair = finest_ok_segments(gg_table.index, pairs)

    def numbers(name):
        return summary[name].to_numpy().astype(float)

    x = numbers("frequency")
    t_x = numbers("recency_days") / days_per_unit
    t_cal = numbers("t_days") / days_per_unit
    money = numbers("monetary_value")
    holdout = numbers("holdout_days") / days_per_unit
    n = len(x)
    has_bg = (bg_pair != None)[pair_of_row]             # noqa: E711
    has_gg = has_bg & (gg_pair != None)[pair_of_row]    # noqa: E711

    def params(table, pair_segments, mask, names):
        per_pair = table.reindex(pair_segments)
        return {name: per_pair[name].to_numpy(dtype=float)[pair_of_row[mask]] for name in names}

    p_alive, purchases, buying, aov = (np.full(n, np.nan) for _ in range(4))
    bg = params(bg_table, bg_pair, has_bg, BG_PARAMS)
    history = dict(frequency=x[has_bg], recency=t_x[has_bg], T=t_cal[has_bg])
    p_alive[has_bg] = p_alive_from_params(**bg, **history)
    purchases[has_bg] = expected_purchases_periods(**bg, **history, horizon_periods=holdout[has_bg])
    buying[has_bg] = holdout_purchase_probability(**bg, **history, holdout_periods=holdout[has_bg])
    gg = params(gg_table, gg_pair, has_gg, GG_PARAMS)
    aov[has_gg] = expected_order_value_from_params(**gg, frequency=x[has_gg], monetary_value=money[has_gg])
    status = pa.array(["no_fit", "no_spend_fit", "ok"], type=pa.string()).take(
        pa.array(np.where(~has_bg, 0, np.where(~has_gg, 1, 2)).astype(np.int8)))

    def nullable(values):
        return pa.array(values, type=pa.float64(), from_pandas=True)

    def segment_column(pair_segments, mask):
        per_pair = pa.array(list(pair_segments), type=pa.string())
        return pc.if_else(pa.array(mask, type=pa.bool_()), per_pair.take(pa.array(pair_of_row)), None)

    columns = {
        "merchant_id": summary["merchant_id"],
        "customer_id": summary["customer_id"],
        "industry": summary["industry"],
        "p_alive": nullable(p_alive),
        "predicted_holdout_purchases": nullable(purchases),
        "holdout_purchase_probability": nullable(buying),
        "expected_avg_order_value": nullable(aov),
        "time_unit": pa.array([unit], type=pa.string()).take(pa.array(np.zeros(n, dtype=np.int8))),
        "bg_nbd_segment": segment_column(bg_pair, has_bg),
        "gamma_gamma_segment": segment_column(gg_pair, has_gg),
        "prediction_status": status,
        "calibration_end_date": summary["calibration_end_date"],
    }
    return pa.table({name: columns[name] for name in SCHEMA.names}).cast(SCHEMA)
