"""Predicted customer lifetime value (BG/NBD + Gamma-Gamma), the Python core.

* :mod:`orchestration.clv.time_units`: days, weeks, months and their conversions;
* :mod:`orchestration.clv.statuses`: fit statuses and the fit result classes;
* :mod:`orchestration.clv.likelihoods`: closed-form BG/NBD and Gamma-Gamma log-likelihoods;
* :mod:`orchestration.clv.fitter`: MAP fits (pymc-marketing's models, compiled once per process);
* :mod:`orchestration.clv.predictions`: closed-form predictions at a fitted point;
* :mod:`orchestration.clv.scoring`: scores every customer from a fits table (the one path);
* :mod:`orchestration.clv.segments`: per-segment fits with fallback, then scoring;
* :mod:`orchestration.clv.dbt_fits`: the fit step the dbt models int_clv_fits and int_clv_backtest_fits share;
* :mod:`orchestration.clv.defaults`: CLV settings' defaults, read from dbt_project.yml;
* :mod:`orchestration.clv.data`: the reference RFM summary (DuckDB SQL) and simulators.

Importing this package is cheap and has no side effects: PyMC/pymc-marketing are
imported (and PyTensor's compile directory set) on the first fit.
"""

from orchestration.clv.data import rfm_summary, simulate_bgnbd, simulate_gamma_gamma_spend
from orchestration.clv.fitter import fit_bgnbd, fit_gamma_gamma
from orchestration.clv.likelihoods import bgnbd_log_likelihood, gamma_gamma_log_likelihood
from orchestration.clv.predictions import (
    clv_from_params,
    discounted_purchases_from_params,
    distinct_rows,
    expected_order_value,
    expected_order_value_from_params,
    expected_purchases,
    expected_purchases_periods,
    p_alive,
    p_alive_from_params,
    predicted_clv,
    to_monthly_discount_rate,
)
from orchestration.clv.scoring import score_customers
from orchestration.clv.segments import (
    FIT_COLUMNS,
    PREDICTION_COLUMNS,
    ROOT_SEGMENT,
    SegmentResult,
    fit_and_predict_segments,
    fit_segments,
)
from orchestration.clv.statuses import BGNBDFit, GammaGammaFit
from orchestration.clv.time_units import (
    DAYS_PER_MONTH,
    DAYS_PER_UNIT,
    convert_duration,
    days_to_periods,
    normalize_time_unit,
)

__all__ = [
    "DAYS_PER_MONTH", "DAYS_PER_UNIT", "BGNBDFit", "GammaGammaFit", "bgnbd_log_likelihood",
    "clv_from_params", "convert_duration", "days_to_periods", "discounted_purchases_from_params",
    "distinct_rows", "expected_order_value",
    "expected_order_value_from_params", "expected_purchases", "expected_purchases_periods", "fit_bgnbd",
    "fit_gamma_gamma", "gamma_gamma_log_likelihood", "normalize_time_unit", "p_alive",
    "p_alive_from_params", "predicted_clv", "to_monthly_discount_rate", "rfm_summary", "simulate_bgnbd",
    "simulate_gamma_gamma_spend", "FIT_COLUMNS", "PREDICTION_COLUMNS", "ROOT_SEGMENT", "SegmentResult",
    "fit_and_predict_segments", "fit_segments", "score_customers",
]
