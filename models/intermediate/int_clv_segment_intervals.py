"""How sure the mean predicted CLV of each segment is, given how sure its fits are.

One row per customer segment ('all', each industry, each industry/merchant_id)
with the mean predicted_clv of its scored customers (int_clv_predictions) and
a 95% interval from the fits' parameter covariances (int_clv_fit_covariances)
by the delta method: var(mean) = sum over the fits used of g' cov g, where g
is the gradient of the mean with respect to that fit's parameters (fits are
estimated separately, so they are taken as independent). Per customer,
predicted_clv = margin_rate x expected_avg_order_value (Gamma-Gamma) x
discounted_expected_purchases (BG/NBD); each factor is differentiated by a
forward difference of 1e-5 in log-parameter. The interval is the parameters'
uncertainty only: what a fit on few customers adds, not the spread of
customers' values. Customers scored with a fit that has no covariance
(likelihood not curved) leave the interval NULL.

Cost: the segments and fits are integer codes (no per-row strings); the
shifted discounted purchases are evaluated once per distinct (fit, frequency,
T) (orchestration.clv.predictions.distinct_rows), as the scoring does; the
sums run over the customers in a fixed order (segment, then their summary
values), so the same input gives the same bits whatever order DuckDB returns
the rows in.
"""

import numpy as np
import pandas as pd

BG_PARAMS = ["r", "alpha", "a", "b"]
GG_PARAMS = ["p", "q", "gamma"]
STEP = 1e-5
COLUMNS = {
    "segment_level": "string", "segment": "string", "customers_scored": "int64",
    "mean_predicted_clv": "float64", "standard_error": "float64",
    "lower_95": "float64", "upper_95": "float64", "fits_used": "int64",
}
SCORED_COLUMNS = ("industry, merchant_id, bg_nbd_segment, gamma_gamma_segment, time_unit, frequency, "
                  "recency_days, t_days, monetary_value, margin_rate, discounted_expected_purchases, "
                  "expected_avg_order_value, predicted_clv")


def _sorted_codes(column):
    """(per-row code, values): codes number the distinct values in sorted order."""
    encoded = column.combine_chunks().dictionary_encode()
    values = encoded.dictionary.to_pylist()
    order = sorted(range(len(values)), key=values.__getitem__)
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.arange(len(values))
    return rank[encoded.indices.to_numpy(zero_copy_only=False)], [values[i] for i in order]


def _ranges(codes: np.ndarray):
    """(code, start, end) of each run of equal codes in a sorted array."""
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    ends = np.r_[starts[1:], len(codes)]
    return [(int(codes[start]), int(start), int(end)) for start, end in zip(starts, ends, strict=True)]


def model(dbt, session):
    from orchestration.clv import (
        DAYS_PER_UNIT,
        discounted_purchases_from_params,
        distinct_rows,
        expected_order_value_from_params,
        normalize_time_unit,
        to_monthly_discount_rate,
    )
    from orchestration.clv.uncertainty import Z_95

    horizon_months = int(dbt.config.get("horizon_months"))
    monthly_rate = to_monthly_discount_rate(annual_discount_rate=float(dbt.config.get("annual_discount_rate")))
    predictions = dbt.ref("int_clv_predictions").project(
        "merchant_id, customer_id, industry, bg_nbd_segment, gamma_gamma_segment, time_unit, predicted_clv, "
        "margin_rate, discounted_expected_purchases, expected_avg_order_value")
    summary = dbt.ref("int_customers_clv_summary").project(
        "merchant_id, customer_id, frequency, recency_days, t_days, monetary_value")
    table = (
        predictions.join(summary, ["merchant_id", "customer_id"])
        .filter("predicted_clv is not null")
        .project(SCORED_COLUMNS)
        .to_arrow_table()
    )
    if table.num_rows == 0:
        return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in COLUMNS.items()})
    fits = dbt.ref("int_clv_fits").df()
    fits = fits[fits["status"] == "ok"]
    covariances = dbt.ref("int_clv_fit_covariances").df()

    def numbers(name):
        return table[name].to_numpy().astype(float)   # NULL -> NaN

    industry, industries = _sorted_codes(table["industry"])
    merchant, merchant_ids = _sorted_codes(table["merchant_id"])
    x, recency_days, t_days = numbers("frequency"), numbers("recency_days"), numbers("t_days")
    money, margin = numbers("monetary_value"), numbers("margin_rate")
    # a fixed order: by segment, then by everything a customer's terms are computed from
    # (customers equal in all of it add equal terms), so the sums do not depend on the scan
    order = np.lexsort((margin, money, t_days, recency_days, x, merchant, industry))
    industry, merchant, x, recency_days, t_days, money, margin = (
        values[order] for values in (industry, merchant, x, recency_days, t_days, money, margin))
    purchases = numbers("discounted_expected_purchases")[order]
    aov = numbers("expected_avg_order_value")[order]
    clv = numbers("predicted_clv")[order]
    fit_code, fit_names = {}, {}
    for kind, column in (("bg_nbd", "bg_nbd_segment"), ("gamma_gamma", "gamma_gamma_segment")):
        codes, names = _sorted_codes(table[column])
        fit_code[kind], fit_names[kind] = codes[order], names

    unit = normalize_time_unit(table["time_unit"][0].as_py())
    t_x = recency_days / DAYS_PER_UNIT[unit]
    t_cal = t_days / DAYS_PER_UNIT[unit]

    def per_row(kind, names):
        values = (fits[fits["model"] == kind]
                  .pivot_table(index="segment", columns="parameter", values="value", aggfunc="first")
                  .reindex(columns=names).reindex(fit_names[kind]))
        return {name: values[name].to_numpy(dtype=float)[fit_code[kind]] for name in names}

    # d predicted_clv / d parameter, per customer, for the parameters of the fits it used;
    # the discounted purchases depend on the parameters, x and T only: once per distinct (fit, x, T)
    bg = per_row("bg_nbd", BG_PARAMS)
    gg = per_row("gamma_gamma", GG_PARAMS)
    groups = distinct_rows(np.column_stack([fit_code["bg_nbd"], x, t_days]))
    gradients = {}
    for name in BG_PARAMS:
        moved = dict(bg, **{name: bg[name] * (1.0 + STEP)})
        shifted = discounted_purchases_from_params(**moved, frequency=x, recency=t_x, T=t_cal, time_unit=unit,
                                                   horizon_months=horizon_months, monthly_rate=monthly_rate,
                                                   groups=groups)
        gradients[("bg_nbd", name)] = margin * aov * (shifted - purchases) / (bg[name] * STEP)
    for name in GG_PARAMS:
        moved = dict(gg, **{name: gg[name] * (1.0 + STEP)})
        shifted = expected_order_value_from_params(**moved, frequency=x, monetary_value=money)
        gradients[("gamma_gamma", name)] = margin * purchases * (shifted - aov) / (gg[name] * STEP)

    cov = {}
    for (segment, kind), rows in covariances.groupby(["segment", "model"]):
        names = BG_PARAMS if kind == "bg_nbd" else GG_PARAMS
        matrix = rows.pivot_table(index="parameter", columns="other_parameter", values="covariance")
        cov[(segment, kind)] = matrix.reindex(index=names, columns=names).to_numpy(dtype=float)

    # the rows are sorted by industry, then merchant: every segment is one range of rows
    n_merchants = len(merchant_ids)
    levels = {
        "all": [("all", 0, len(x))],
        "industry": [(industries[code], start, end) for code, start, end in _ranges(industry)],
        "merchant_id": [(f"{industries[code // n_merchants]}/{merchant_ids[code % n_merchants]}", start, end)
                        for code, start, end in _ranges(industry * n_merchants + merchant)],
    }
    records = []
    for level, segments in levels.items():
        for segment, start, end in sorted(segments):
            n = end - start
            variance, fits_used, known = 0.0, 0, True
            for kind, names in (("bg_nbd", BG_PARAMS), ("gamma_gamma", GG_PARAMS)):
                used = fit_code[kind][start:end]
                for code in np.unique(used):
                    members = start + np.flatnonzero(used == code)
                    fits_used += 1
                    matrix = cov.get((fit_names[kind][code], kind))
                    if matrix is None or not np.all(np.isfinite(matrix)):
                        known = False
                        continue
                    g = np.array([gradients[(kind, name)][members].sum() for name in names]) / n
                    variance += float(g @ matrix @ g)
            mean = float(clv[start:end].mean())
            se = float(np.sqrt(max(variance, 0.0))) if known else np.nan
            records.append({"segment_level": level, "segment": segment, "customers_scored": n,
                            "mean_predicted_clv": mean, "standard_error": se,
                            "lower_95": mean - Z_95 * se, "upper_95": mean + Z_95 * se, "fits_used": fits_used})
    return pd.DataFrame.from_records(records, columns=list(COLUMNS)).astype(COLUMNS)
