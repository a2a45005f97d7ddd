"""The CLV backtest's fits: BG/NBD and Gamma-Gamma fitted on the calibration
period only (int_clv_backtest_summary, data up to the CLV fit date -
clv_backtest_holdout_days), one row per segment x model x parameter.

The same function, thresholds and vars as the live fits (int_clv_fits):
orchestration.clv.dbt_fits.fit_summary with the calibration-period summary,
so the backtest has the live build's segments, fallbacks and statuses, only
earlier. fitted_as_of is the calibration end. It may run beside the live
fits (dbt runs Python models in threads of one process): the compiled fitter
they share fits one segment at a time (a lock in orchestration.clv.fitter).
Its input moves only with the CLV fit date, so like the live fits it keeps its
last result while that input and the settings are unchanged.
"""


def model(dbt, session):
    from orchestration.clv.dbt_fits import fit_summary
    from orchestration.clv.memo import previous_result

    return fit_summary(
        dbt.ref("int_clv_backtest_summary"),
        as_of_column="calibration_end_date",
        fit_time_unit=dbt.config.get("fit_time_unit"),
        min_customers=dbt.config.get("min_customers"),
        min_repeat_buyers=dbt.config.get("min_repeat_buyers"),
        flat_priors=dbt.config.get("flat_priors"),
        max_customers=dbt.config.get("fit_max_customers"),
        previous=previous_result(dbt, session),
    )
