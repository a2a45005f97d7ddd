"""BG/NBD and Gamma-Gamma fits per segment (industry, then merchant within it).

One row per segment x model x parameter, the long table behind
marts.clv_model_fits. The fitting itself is orchestration.clv (pymc-marketing
by MAP, flat priors = maximum likelihood); this model only feeds it the SQL
summary and the thresholds from dbt vars (see the YAML beside it), through
orchestration.clv.dbt_fits.fit_summary, the fit step int_clv_backtest_fits
shares.

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

    return fit_summary(
        dbt.ref("int_customers_clv_summary"),
        as_of_column="as_of_date",
        fit_time_unit=dbt.config.get("fit_time_unit"),
        min_customers=dbt.config.get("min_customers"),
        min_repeat_buyers=dbt.config.get("min_repeat_buyers"),
        flat_priors=dbt.config.get("flat_priors"),
        max_customers=dbt.config.get("fit_max_customers"),
    )
