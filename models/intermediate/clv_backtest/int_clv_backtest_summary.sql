{{ per_customer_incremental_as_of(['customer_key'], 'as_of_date', 'clv_backtest_holdout_end') }}
{#
  The CLV backtest's input, one row per customer whose first completed
  purchase is before the calibration end (the holdout end -
  clv_backtest_holdout_days, macro clv_backtest_calibration_end): the
  buy-till-you-die summary as of the calibration end (what the backtest fits
  see, the same definitions as int_customers_clv_summary) and what the
  customer then did in the holdout, the days after the calibration end up to
  and including the holdout end (the CLV fit date, macro clv_fit_date: the
  backtest moves with the live fits, var clv_refit_every).

  Purchases are whole UTC days (several completed orders on a day are one
  purchase whose value is their sum). With F the first purchase day, C the
  calibration end:
    frequency           = purchase days in [F, C] - 1 (calibration repeat purchases)
    recency_days        = last purchase day <= C - F
    t_days              = C - F (> 0: a first purchase on C itself has no history to predict from)
    monetary_value      = mean value of the repeat purchase days in (F, C]; null if frequency = 0
    holdout_purchases   = purchase days in (C, holdout end]
    holdout_value       = value of those days
  Incremental like int_clv_fit_summary (macros/incremental_lifecycle.sql,
  per_customer_incremental_as_of): while the holdout end stays, a daily build
  recomputes only the customers in int_customers_to_recompute.
#}

with

orders as (

    select
        customer_key,
        ordered_date,
        is_last_order_of_day,
        amount_reporting
    from {{ ref('int_orders_sequenced_per_customer') }}
    {{- join_customers_to_recompute_as_of('customer_key', 'as_of_date', clv_backtest_holdout_end()) }}
    where ordered_date <= {{ clv_backtest_holdout_end() }}

),

first_purchases as (

    select
        customer_key,
        ordered_date as first_purchase_date
    from {{ ref('int_orders_sequenced_per_customer') }}
    {{- join_customers_to_recompute_as_of('customer_key', 'as_of_date', clv_backtest_holdout_end()) }}
    where order_number = 1
        and ordered_date < {{ clv_backtest_calibration_end() }}

),

customers as (

    select
        customer_key,
        merchant_id,
        customer_id,
        industry
    from {{ ref('int_customers_windowed') }}

),

aggregated as (

    select
        orders.customer_key,
        min(first_purchases.first_purchase_date) as first_purchase_date,
        count(case when orders.is_last_order_of_day
            and orders.ordered_date <= {{ clv_backtest_calibration_end() }} then 1 end) as calibration_purchase_days,
        max(case when orders.ordered_date <= {{ clv_backtest_calibration_end() }}
            then orders.ordered_date end) as last_calibration_purchase_date,
        sum(case when orders.ordered_date > first_purchases.first_purchase_date
            and orders.ordered_date <= {{ clv_backtest_calibration_end() }}
            then orders.amount_reporting end) as calibration_repeat_value,
        count(case when orders.is_last_order_of_day
            and orders.ordered_date > {{ clv_backtest_calibration_end() }} then 1 end) as holdout_purchases,
        sum(case when orders.ordered_date > {{ clv_backtest_calibration_end() }}
            then orders.amount_reporting end) as holdout_value
    from orders
    inner join first_purchases
        on orders.customer_key = first_purchases.customer_key
    group by orders.customer_key

),

summarised as (

    select
        ---------- ids
        customers.customer_key,
        customers.merchant_id,
        customers.customer_id,

        ---------- strings
        customers.industry,

        ---------- calibration summary (durations in whole days; macros/clv_summary.sql)
        {{ btyd_summary_columns(
            purchase_days='aggregated.calibration_purchase_days',
            first_purchase_date='aggregated.first_purchase_date',
            last_purchase_date='aggregated.last_calibration_purchase_date',
            end_date=clv_backtest_calibration_end(),
            repeat_value='aggregated.calibration_repeat_value'
        ) }},

        ---------- holdout actuals
        aggregated.holdout_purchases,
        cast(coalesce(aggregated.holdout_value, 0) as decimal(18, 2)) as holdout_value,

        ---------- dates
        aggregated.first_purchase_date,
        {{ clv_backtest_calibration_end() }} as calibration_end_date,
        {{ clv_backtest_holdout_end() }} as as_of_date,
        cast({{ clv_backtest_holdout_days() }} as integer) as holdout_days

    from aggregated
    inner join customers
        on aggregated.customer_key = customers.customer_key

)

select * from summarised
