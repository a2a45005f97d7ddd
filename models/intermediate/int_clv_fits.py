"""BG/NBD and Gamma-Gamma fits per segment (industry, then merchant within it).

One row per segment x model x parameter, the long table behind
marts.clv_model_fits. The fitting itself is orchestration.clv (pymc-marketing
by MAP, flat priors = maximum likelihood); this model only feeds it the SQL
summary as of the fit date (int_clv_fit_summary: AS_OF_DATE, or the start of
its week or month, var clv_refit_every) and the thresholds from dbt vars (see
the YAML beside it), through orchestration.clv.dbt_fits.fit_summary, the fit
step int_clv_backtest_fits shares. When that summary and the settings are the
ones of the table being replaced (column input_fingerprint), its rows are kept
and nothing is fitted (orchestration.clv.memo).

Merchants are fitted first; an industry, then 'all', only when some of its
customers have no ok fit below it (else status not_needed). A segment below
the thresholds is recorded with status too_few_customers /
too_few_repeat_buyers and never imports PyMC; a fit that fails, does not
converge or runs off to a degenerate point is recorded with that status, and
int_clv_predictions falls back to the parent segment. Nothing here raises for
bad data.
"""


def model(dbt, session):
    from orchestration.clv.dbt_fits import fit_summary
    from orchestration.clv.memo import previous_result

    return fit_summary(
        dbt.ref("int_clv_fit_summary"),
        as_of_column="fit_date",
        fit_time_unit=dbt.config.get("fit_time_unit"),
        min_customers=dbt.config.get("min_customers"),
        min_repeat_buyers=dbt.config.get("min_repeat_buyers"),
        flat_priors=dbt.config.get("flat_priors"),
        max_customers=dbt.config.get("fit_max_customers"),
        previous=previous_result(dbt, session),
    )
