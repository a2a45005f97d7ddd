"""BG/NBD and Gamma-Gamma fits per segment (industry, then merchant within it).

One row per segment x model x parameter, the long table behind
marts.clv_model_fits. The fitting itself is orchestration.clv (pymc-marketing
by MAP, flat priors = maximum likelihood); this model only feeds it the SQL
summary and the thresholds from dbt vars (see the YAML beside it).

Merchants are fitted first; an industry, then 'all', only when some of its
customers have no ok fit below it (else status not_needed). A segment below
the thresholds is recorded with status too_few_customers /
too_few_repeat_buyers and never imports PyMC; a fit that fails, does not
converge or runs off to a degenerate point is recorded with that status, and
int_clv_predictions falls back to the parent segment. Nothing here raises for
bad data.
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

    time_unit = str(dbt.config.get("fit_time_unit"))
    min_customers = int(dbt.config.get("min_customers"))
    min_repeat_buyers = int(dbt.config.get("min_repeat_buyers"))
    flat_priors = _flag(dbt.config.get("flat_priors"))

    # In a fixed order: DuckDB scans in parallel without preserving insertion
    # order, and a different row order changes the floating-point sums of the
    # likelihood, so the same data gave fits differing in the 7th digit (and a
    # borderline fit flipping between statuses) from one build to the next.
    # Through Arrow with the two segment columns as categoricals: ~15x faster
    # than .df()'s per-row Python strings at a million customers.
    summary = (
        dbt.ref("int_customers_clv_summary")
        .project("industry, merchant_id, frequency, recency_days as recency, t_days as T, "
                 "monetary_value, as_of_date")
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
        fit_time_unit=time_unit,
        min_customers=min_customers,
        min_repeat_buyers=min_repeat_buyers,
        fitted_as_of=summary["as_of_date"].iloc[0],
        flat_priors=flat_priors,
    )
    return fits.astype(FIT_DTYPES)
