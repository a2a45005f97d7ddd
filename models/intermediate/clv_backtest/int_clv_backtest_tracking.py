"""The tracking plot of the CLV backtest (Fader, Hardie and Lee 2005, figure 2),
per segment: cumulative repeat purchases week by week through the calibration
period and the holdout, actual and as the calibration fit expects.

One row per segment (all, industry, industry/merchant) x week_number. Week k
ends on week_end_date = calibration end + 7k days (the last week ends on
the holdout end at the latest); weeks k <= 0 are calibration, k >= 1 holdout.

* actual_cumulative_repeat_purchases: repeat purchase days up to and including
  week_end_date (int_clv_backtest_weekly_purchases, summed);
* expected_cumulative_repeat_purchases: sum over the segment's customers of
  the BG/NBD unconditional expectation E[X(t)] (eq. 9) at their fit's
  parameters, t = week_end_date - first purchase day, in the fit's unit.

Both cover the same customers: those of int_clv_backtest_scored with a BG/NBD
fit. The expectation is evaluated once per distinct (fit, age in days) and
weighted by the customers of each (industry, merchant, fit, first purchase
day) cohort.
"""

import numpy as np
import pandas as pd

BG_PARAMS = ["r", "alpha", "a", "b"]
COLUMNS = {
    "segment_level": "string", "segment": "string", "week_number": "int64",
    "week_end_date": "datetime64[ns]", "customers": "int64",
    "actual_cumulative_repeat_purchases": "int64", "expected_cumulative_repeat_purchases": "float64",
    "calibration_end_date": "datetime64[ns]", "time_unit": "string",
}


def _rollup(frame: pd.DataFrame, values: list) -> pd.DataFrame:
    """Sum `values` per week at the three segment levels (all, industry, industry/merchant)."""
    levels = []
    for level, keys in (("all", []), ("industry", ["industry"]), ("merchant_id", ["industry", "merchant_id"])):
        summed = frame.groupby(keys + ["week_number"], as_index=False, observed=True)[values].sum()
        if level == "all":
            summed["segment"] = "all"
        elif level == "industry":
            summed["segment"] = summed["industry"].astype(str)
        else:
            summed["segment"] = summed["industry"].astype(str) + "/" + summed["merchant_id"].astype(str)
        summed["segment_level"] = level
        levels.append(summed[["segment_level", "segment", "week_number", *values]])
    return pd.concat(levels, ignore_index=True)


def model(dbt, session):
    from orchestration.clv import DAYS_PER_UNIT, distinct_rows, normalize_time_unit
    from orchestration.clv.backtest import expected_cumulative_purchases

    cohorts = (
        dbt.ref("int_clv_backtest_scored")
        .filter("bg_nbd_segment is not null")
        .aggregate("industry, merchant_id, bg_nbd_segment, time_unit, first_purchase_date, "
                   "calibration_end_date, as_of_date, count(*) as customers",
                   "industry, merchant_id, bg_nbd_segment, time_unit, first_purchase_date, "
                   "calibration_end_date, as_of_date")
        .order("industry, merchant_id, bg_nbd_segment, first_purchase_date")
        .df()
    )
    if cohorts.empty:
        return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in COLUMNS.items()})
    purchases = dbt.ref("int_clv_backtest_weekly_purchases").df()
    fits = dbt.ref("int_clv_backtest_fits").df()
    params = (fits[(fits["model"] == "bg_nbd") & (fits["status"] == "ok")]
              .pivot_table(index="segment", columns="parameter", values="value", aggfunc="first")
              .reindex(columns=BG_PARAMS))

    unit = normalize_time_unit(cohorts["time_unit"].iloc[0])
    calibration_end = pd.Timestamp(cohorts["calibration_end_date"].iloc[0])
    as_of = pd.Timestamp(cohorts["as_of_date"].iloc[0])
    first_dates = pd.to_datetime(cohorts["first_purchase_date"])
    # weeks from the one holding the earliest first purchase to the one holding the holdout end
    first_week = int(np.floor((first_dates.min() - calibration_end).days / 7.0))
    last_week = int(np.ceil((as_of - calibration_end).days / 7.0))
    weeks = np.arange(first_week, last_week + 1)
    week_ends = calibration_end + pd.to_timedelta(7 * weeks, unit="D")
    week_ends = week_ends.where(week_ends <= as_of, as_of)
    end_days = ((week_ends - calibration_end) / pd.Timedelta(days=1)).to_numpy(dtype=float)

    # expected: E[X(age)] x customers, per cohort and week; E[X] depends on the fit and
    # the age only, so it is evaluated once per distinct (fit, age in days)
    first_days = ((first_dates - calibration_end) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    age_days = end_days[None, :] - first_days[:, None]
    fit_of_cohort, fit_names = pd.factorize(cohorts["bg_nbd_segment"])
    first, inverse = distinct_rows(np.column_stack([np.repeat(fit_of_cohort, len(weeks)), age_days.ravel()]))
    p = params.reindex(fit_names).to_numpy(dtype=float)[np.repeat(fit_of_cohort, len(weeks))[first]]
    expected = expected_cumulative_purchases(p[:, 0], p[:, 1], p[:, 2], p[:, 3],
                                             age_days.ravel()[first] / DAYS_PER_UNIT[unit])
    expected = expected[inverse].reshape(age_days.shape) * cohorts["customers"].to_numpy(dtype=float)[:, None]
    # customers counted in a week: those whose first purchase is on or before its end
    present = (first_days[:, None] <= end_days[None, :]) * cohorts["customers"].to_numpy()[:, None]
    n_cohorts = len(cohorts)
    long = pd.DataFrame({
        "industry": np.repeat(cohorts["industry"].to_numpy(dtype=object), len(weeks)),
        "merchant_id": np.repeat(cohorts["merchant_id"].to_numpy(dtype=object), len(weeks)),
        "week_number": np.tile(weeks, n_cohorts),
        "expected_cumulative_repeat_purchases": expected.ravel(),
        "customers": present.ravel(),
    })
    expected_rolled = _rollup(long, ["expected_cumulative_repeat_purchases", "customers"])

    # actual: weekly counts, cumulated per merchant over the full week grid
    grid = (long[["industry", "merchant_id"]].drop_duplicates()
            .merge(pd.DataFrame({"week_number": weeks}), how="cross"))
    weekly = grid.merge(purchases, on=["industry", "merchant_id", "week_number"], how="left")
    weekly["repeat_purchases"] = weekly["repeat_purchases"].fillna(0).astype("int64")
    weekly = weekly.sort_values(["industry", "merchant_id", "week_number"])
    weekly["actual_cumulative_repeat_purchases"] = (
        weekly.groupby(["industry", "merchant_id"], observed=True)["repeat_purchases"].cumsum())
    actual_rolled = _rollup(weekly, ["actual_cumulative_repeat_purchases"])

    out = expected_rolled.merge(actual_rolled, on=["segment_level", "segment", "week_number"],
                                how="left", validate="1:1")
    out["actual_cumulative_repeat_purchases"] = out["actual_cumulative_repeat_purchases"].fillna(0)
    out["week_end_date"] = out["week_number"].map(dict(zip(weeks, week_ends, strict=True)))
    out["calibration_end_date"] = calibration_end
    out["time_unit"] = unit
    out = out.sort_values(["segment_level", "segment", "week_number"]).reset_index(drop=True)
    return out[list(COLUMNS)].astype(COLUMNS)
