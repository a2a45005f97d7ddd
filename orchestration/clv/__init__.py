"""Predicted customer lifetime value (BG/NBD + Gamma-Gamma), the Python core.

* :mod:`orchestration.clv.models`: fits (pymc-marketing, MAP) and closed-form predictions;
* :mod:`orchestration.clv.segments`: per-segment fits with fallback, per-customer predictions;
* :mod:`orchestration.clv.data`: the reference RFM summary (DuckDB SQL) and simulators.

Importing this package is cheap: PyMC/pymc-marketing are imported on the first fit.
"""

from orchestration.clv.models import (  # models first: it sets PyTensor's compiledir
    DAYS_PER_MONTH,
    DAYS_PER_UNIT,
    BGNBDFit,
    GammaGammaFit,
    bgnbd_log_likelihood,
    clv_from_params,
    convert_duration,
    days_to_periods,
    discounted_purchases_from_params,
    distinct_rows,
    expected_order_value,
    expected_order_value_from_params,
    expected_purchases,
    expected_purchases_periods,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
    normalize_time_unit,
    p_alive,
    p_alive_from_params,
    predicted_clv,
    to_monthly_discount_rate,
)
from orchestration.clv.data import rfm_summary, simulate_bgnbd, simulate_gamma_gamma_spend
from orchestration.clv.segments import (
    FIT_COLUMNS,
    PREDICTION_COLUMNS,
    ROOT_SEGMENT,
    SegmentResult,
    fit_and_predict_segments,
    fit_segments,
)

__all__ = [
    "DAYS_PER_MONTH", "DAYS_PER_UNIT", "BGNBDFit", "GammaGammaFit", "bgnbd_log_likelihood",
    "clv_from_params", "convert_duration", "days_to_periods", "discounted_purchases_from_params",
    "distinct_rows", "expected_order_value",
    "expected_order_value_from_params", "expected_purchases", "expected_purchases_periods", "fit_bgnbd",
    "fit_gamma_gamma", "gamma_gamma_log_likelihood", "normalize_time_unit", "p_alive",
    "p_alive_from_params", "predicted_clv", "to_monthly_discount_rate", "rfm_summary", "simulate_bgnbd",
    "simulate_gamma_gamma_spend", "FIT_COLUMNS", "PREDICTION_COLUMNS", "ROOT_SEGMENT", "SegmentResult",
    "fit_and_predict_segments", "fit_segments",
]
