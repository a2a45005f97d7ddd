{{ per_customer_incremental_as_of(['merchant_id', 'customer_id'], 'fit_date', 'clv_fit_date') }}
{#
  What the CLV fits see: the buy-till-you-die summary of every customer with
  a completed purchase on or before the fit date (macro clv_fit_date: the
  start of AS_OF_DATE's day, week or month, var clv_refit_every), as of that
  date. The same definitions as int_customers_clv_summary (macros/clv_summary.sql:
  purchase_totals_per_customer and btyd_summary_columns) with the fit date in
  place of AS_OF_DATE, and only the fits' columns. Between two fit dates it
  changes only if late orders dated on or before the fit date arrive, so the
  fit models reuse their last result the rest of the time. Incremental
  (macros/incremental_lifecycle.sql, per_customer_incremental_as_of): while
  the fit date stays, a daily build recomputes only the customers in
  int_customers_to_recompute; when it moves, every customer.
#}

with

customers as (

    select
        customer_key,
        merchant_id,
        customer_id,
        industry
    from {{ ref('int_customers_windowed') }}

),

aggregated as (

    {{ purchase_totals_per_customer(clv_fit_date(), join=join_customers_to_recompute_as_of('customer_key', 'fit_date', clv_fit_date())) }}

),

summarised as (

    select
        ---------- ids
        customers.merchant_id,
        customers.customer_id,

        ---------- strings
        customers.industry,

        ---------- BTYD summary (durations in whole days; macros/clv_summary.sql)
        {{ btyd_summary_columns(
            purchase_days='aggregated.purchase_days',
            first_purchase_date='aggregated.first_purchase_date',
            last_purchase_date='aggregated.last_purchase_date',
            end_date=clv_fit_date(),
            repeat_value='aggregated.repeat_value_reporting'
        ) }},

        ---------- dates
        {{ clv_fit_date() }} as fit_date

    from aggregated
    inner join customers
        on aggregated.customer_key = customers.customer_key

)

select * from summarised
