"""The fit step of the dbt Python models ``int_clv_fits`` and ``int_clv_backtest_fits``.

Both fit BG/NBD and Gamma-Gamma per segment with :func:`orchestration.clv.fit_segments`
on a buy-till-you-die summary; they differ only in the summary they read (as of
the fit date, or as of the calibration end) and the column holding that date.
Both reuse their last result when the summary and settings are unchanged
(:mod:`orchestration.clv.memo`). The
models keep their ``dbt.ref`` and ``dbt.config.get`` calls (dbt finds refs and
config keys by reading the model file) and hand the relation and the settings here.
"""

from __future__ import annotations

import pandas as pd

FIT_DTYPES = {
    "segment": "string", "segment_level": "string", "model": "string", "parameter": "string",
    "value": "float64", "time_unit": "string", "n_customers": "int64",
    "log_likelihood": "float64", "fitted_as_of": "datetime64[ns]", "status": "string",
    "input_fingerprint": "string",
}


def config_flag(value) -> bool:
    """A dbt config value rendered from a var ("True", "false", 1 ...) as a boolean."""
    return str(value).strip().lower() in ("true", "1", "yes")


def fit_summary(summary_relation, *, as_of_column: str, fit_time_unit, min_customers, min_repeat_buyers,
                flat_priors, max_customers, previous=None) -> pd.DataFrame:
    """Fit every segment of a summary relation (industry, merchant_id, customer_id,
    frequency, recency_days, t_days, monetary_value and ``as_of_column``); the long
    fits table. A segment larger than ``max_customers`` (var clv_fit_max_customers)
    is fitted on a sample drawn from (merchant_id, customer_id), see
    :mod:`orchestration.clv.sampling`.

    The summary is read in a fixed order: DuckDB scans in parallel without
    preserving insertion order, and a different row order changes the
    floating-point sums of the likelihood, so the same data gave fits differing
    in the 7th digit (and a borderline fit flipping between statuses) from one
    build to the next. Through Arrow with the two segment columns as
    categoricals: ~15x faster than ``.df()``'s per-row Python strings at a
    million customers. An empty summary gives a typed empty table.

    ``previous`` (:func:`orchestration.clv.memo.previous_result`) looks up the
    model's last result by the fingerprint of the summary's rows and these
    settings (:func:`orchestration.clv.memo.relation_fingerprint`, computed by
    the engine before anything is read): found, it is returned as it is and
    nothing is read or fitted. The order ends with customer_id so that it is
    total, a function of the rows the fingerprint covers.
    """
    from orchestration.clv.memo import relation_fingerprint, stamped
    from orchestration.clv.sampling import SAMPLE_KEY_COLUMN, max_customers_setting, sample_key_sql
    from orchestration.clv.segments import fit_segments

    settings = {"fit_time_unit": str(fit_time_unit), "min_customers": int(min_customers),
                "min_repeat_buyers": int(min_repeat_buyers), "flat_priors": config_flag(flat_priors),
                "max_customers": max_customers_setting(max_customers) or 0}
    # the rows read below (the sample key is a function of merchant_id and customer_id)
    key = relation_fingerprint(summary_relation, ("industry", "merchant_id", "customer_id", "frequency",
                                                  "recency_days", "t_days", "monetary_value", as_of_column),
                               settings)
    if previous is not None:
        reused = previous(key)
        if reused is not None:
            return reused[list(FIT_DTYPES)].astype(FIT_DTYPES)
    arrow = (
        summary_relation
        .project("industry, merchant_id, customer_id, frequency, recency_days as recency, t_days as T, "
                 f"monetary_value, {as_of_column}, "
                 f"{sample_key_sql('merchant_id', 'customer_id')} as {SAMPLE_KEY_COLUMN}")
        .order("industry, merchant_id, frequency, recency, T, monetary_value, customer_id")
        .to_arrow_table()
    )
    # customer_id only orders the rows (and feeds the sample key, computed above): not
    # converted, a million distinct strings would make a million categories
    summary = arrow.drop_columns(["customer_id"]).to_pandas(strings_to_categorical=True)
    if summary.empty:
        return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in FIT_DTYPES.items()})

    summary["time_unit"] = "days"
    fits = fit_segments(
        summary,
        segment_cols=("industry", "merchant_id"),
        customer_cols=("merchant_id", "customer_id"),
        fit_time_unit=settings["fit_time_unit"],
        min_customers=settings["min_customers"],
        min_repeat_buyers=settings["min_repeat_buyers"],
        fitted_as_of=summary[as_of_column].iloc[0],
        flat_priors=settings["flat_priors"],
        max_customers=settings["max_customers"],
    )
    return stamped(fits, key).astype(FIT_DTYPES)
