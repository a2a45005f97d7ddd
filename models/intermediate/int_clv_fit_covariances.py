"""How sure each CLV fit is: the covariance of its parameters, from the
curvature of the log-likelihood at the fitted point (observed information).

One row per ok fit of int_clv_fits x pair of its parameters (segment, model,
parameter, other_parameter, covariance); standard_error is filled on the
diagonal rows (other_parameter = parameter). The segment's customers are
rebuilt from int_clv_fit_summary (what the fits saw) by the fits' segment names ('all',
industry, 'industry/merchant_id'), in the fit's time unit, and where the fit saw a
sample (a segment above var clv_fit_max_customers), the same sample
(orchestration.clv.sampling), so the standard errors are those of the fit as
made; see orchestration.clv.uncertainty for the method. A fit whose likelihood is not
curved at its point (a flat or saddle point) gets no rows, and
marts.clv_model_fits shows a NULL standard error for it.

Its input is the fits' (their input_fingerprint) and the cap, so while the fits
are reused the covariances are too (orchestration.clv.memo).
"""

import numpy as np
import pandas as pd

COLUMNS = {"segment": "string", "model": "string", "parameter": "string", "other_parameter": "string",
           "covariance": "float64", "standard_error": "float64", "input_fingerprint": "string"}


def model(dbt, session):
    from orchestration.clv import DAYS_PER_UNIT, normalize_time_unit
    from orchestration.clv.memo import combined_fingerprint, previous_result, stamped
    from orchestration.clv.sampling import capped_rows, max_customers_setting, sample_key_sql
    from orchestration.clv.uncertainty import (
        BG_NBD_PARAMETERS,
        GAMMA_GAMMA_PARAMETERS,
        bgnbd_covariance,
        gamma_gamma_covariance,
    )

    fits = dbt.ref("int_clv_fits").df()
    ok = fits[fits["status"] == "ok"]
    if ok.empty:
        return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in COLUMNS.items()})
    cap = max_customers_setting(dbt.config.get("fit_max_customers"))
    key = combined_fingerprint(fits["input_fingerprint"].astype(str).tolist(), {"fit_max_customers": cap or 0})
    reused = previous_result(dbt, session)(key)
    if reused is not None:
        return reused[list(COLUMNS)].astype(COLUMNS)
    summary = (
        dbt.ref("int_clv_fit_summary")
        .filter("t_days > 0")
        .project("industry, merchant_id, customer_id, frequency, recency_days, t_days, monetary_value, "
                 f"{sample_key_sql('merchant_id', 'customer_id')} as sample_key")
        .order("industry, merchant_id, frequency, recency_days, t_days, monetary_value, customer_id")
        .to_arrow_table()
        .to_pandas(strings_to_categorical=True)   # ~15x faster than .df() on strings
    )
    keys = None
    industry = summary["industry"].astype(str).to_numpy(dtype=object)
    merchant = (summary["industry"].astype(str) + "/" + summary["merchant_id"].astype(str)).to_numpy(dtype=object)
    x = summary["frequency"].to_numpy(dtype=float)
    money = summary["monetary_value"].to_numpy(dtype=float)

    records = []
    for (segment, level, kind), rows in ok.groupby(["segment", "segment_level", "model"], sort=True):
        values = rows.set_index("parameter")["value"]
        if level == "all":
            members = np.ones(len(summary), dtype=bool)
        elif level == "industry":
            members = industry == segment
        else:
            members = merchant == segment
        members = np.flatnonzero(members)
        if cap is not None and len(members) > cap:
            if keys is None:
                keys = summary["sample_key"].to_numpy(dtype=np.uint64)
            members = capped_rows(members, keys, cap)
        if kind == "bg_nbd":
            names = BG_NBD_PARAMETERS
            days = DAYS_PER_UNIT[normalize_time_unit(rows["time_unit"].iloc[0])]
            cov = bgnbd_covariance(*(float(values[n]) for n in names), frequency=x[members],
                                   recency=summary["recency_days"].to_numpy(dtype=float)[members] / days,
                                   T=summary["t_days"].to_numpy(dtype=float)[members] / days)
        else:
            names = GAMMA_GAMMA_PARAMETERS
            cov = gamma_gamma_covariance(*(float(values[n]) for n in names), frequency=x[members],
                                         monetary_value=money[members])
        if cov is None:
            continue
        for i, first in enumerate(names):
            for j, second in enumerate(names):
                records.append({"segment": segment, "model": kind, "parameter": first, "other_parameter": second,
                                "covariance": float(cov[i, j]),
                                "standard_error": float(np.sqrt(cov[i, i])) if i == j else None})
    covariances = pd.DataFrame.from_records(records, columns=[c for c in COLUMNS if c != "input_fingerprint"])
    return stamped(covariances, key).astype(COLUMNS)
