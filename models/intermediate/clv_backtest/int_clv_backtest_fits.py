"""The CLV backtest's fits: BG/NBD and Gamma-Gamma fitted on the calibration
period only (int_clv_backtest_summary, data up to AS_OF_DATE -
clv_backtest_holdout_days), one row per segment x model x parameter.

The same function, thresholds and vars as the live fits (int_clv_fits):
orchestration.clv.fit_segments with the calibration-period summary, so the
backtest has the live build's segments, fallbacks and statuses, only earlier.
fitted_as_of is the calibration end.
"""

import pandas as pd

FIT_DTYPES = {
    "segment": "string", "segment_level": "string", "model": "string", "parameter": "string",
    "value": "float64", "time_unit": "string", "n_customers": "int64",
    "log_likelihood": "float64", "fitted_as_of": "datetime64[ns]", "status": "string",
}


def _flag(value) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes")


def model(dbt, session):
    from orchestration.clv import fit_segments

    # Runs after the live fits, never beside them: dbt runs Python models in
    # threads of one process, and the package's compiled fitter (one per model
    # kind and process) swaps each segment's data into a shared PyMC model, so
    # two fits at once would optimise on each other's data. This ref is the
    # dependency that orders them.
    dbt.ref("int_clv_fits")

    # a fixed row order, so two builds give bit-identical fits (see int_clv_fits)
    summary = (
        dbt.ref("int_clv_backtest_summary")
        .project("industry, merchant_id, frequency, recency_days as recency, t_days as T, "
                 "monetary_value, calibration_end_date")
        .order("industry, merchant_id, frequency, recency, T, monetary_value")
        .to_arrow_table()
        .to_pandas(strings_to_categorical=True)
    )
    if summary.empty:
        return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in FIT_DTYPES.items()})

    summary["time_unit"] = "days"
    fits = fit_segments(
        summary,
        segment_cols=("industry", "merchant_id"),
        fit_time_unit=str(dbt.config.get("fit_time_unit")),
        min_customers=int(dbt.config.get("min_customers")),
        min_repeat_buyers=int(dbt.config.get("min_repeat_buyers")),
        fitted_as_of=summary["calibration_end_date"].iloc[0],
        flat_priors=_flag(dbt.config.get("flat_priors")),
    )
    return fits.astype(FIT_DTYPES)
