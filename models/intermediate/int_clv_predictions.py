"""Per-customer predicted CLV from the fits in int_clv_fits (closed form, no refit).

A thin wrapper: the scoring itself is orchestration.clv.scoring.score_customers
(the one prediction path, also what the Python tests call), given the SQL
summary, the fits and the horizon and discount rate from dbt vars. For each
customer and model it uses the finest segment with an ok fit
(industry/merchant, then industry, then 'all'); see that module for the
formulas and the statuses.
"""

import pyarrow as pa

SUMMARY_COLUMNS = ("merchant_id, customer_id, industry, frequency, recency_days, t_days, "
                   "monetary_value, margin_rate, as_of_date")


def model(dbt, session):
    from orchestration.clv.scoring import SCORE_SCHEMA, score_customers

    fits = dbt.ref("int_clv_fits").df()
    # Arrow, not pandas: the id columns pass through untouched, only numbers go to NumPy
    summary = dbt.ref("int_customers_clv_summary").project(SUMMARY_COLUMNS).to_arrow_table()
    scores = score_customers(
        summary,
        fits,
        segment_columns=("industry", "merchant_id"),
        horizon_months=int(dbt.config.get("horizon_months")),
        annual_discount_rate=float(dbt.config.get("annual_discount_rate")),
        fit_time_unit=dbt.config.get("fit_time_unit"),   # used when no fit was made at all
    )
    ids = {name: summary[name] for name in ("merchant_id", "customer_id", "industry")}
    schema = pa.schema([(name, pa.string()) for name in ids] + list(SCORE_SCHEMA)
                       + [("as_of_date", pa.date32())])
    columns = {**ids, **{name: scores[name] for name in SCORE_SCHEMA.names}, "as_of_date": summary["as_of_date"]}
    return pa.table({name: columns[name] for name in schema.names}).cast(schema)
