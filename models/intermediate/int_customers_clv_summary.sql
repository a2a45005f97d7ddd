{#
  The buy-till-you-die summary of every customer with at least one completed
  purchase, as of AS_OF_DATE: what BG/NBD and Gamma-Gamma are fitted on.

  Purchases are whole UTC days: several completed orders on one day are one
  purchase whose value is their sum. With the first purchase day F, the last
  L and n purchase days:
    frequency      = n - 1 (repeat purchase days)
    recency_days   = L - F
    t_days         = AS_OF_DATE - F
    monetary_value = mean value of the repeat purchase days (first day
                     excluded) = repeat value / frequency; null if frequency = 0
  The mean of the repeat days' sums is their total over their count, so no
  per-day grouping is needed: one join to the first day and one aggregate
  (int_purchase_totals_per_customer; macro purchase_totals_per_customer,
  shared with int_clv_fit_summary).
#}

with

customers as (

    select
        customer_key,
        merchant_id,
        customer_id,
        industry,
        margin_rate as industry_margin_rate
    from {{ ref('int_customers_windowed') }}

),

aggregated as (

    select * from {{ ref('int_purchase_totals_per_customer') }}

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
            end_date=as_of_date(),
            repeat_value='aggregated.repeat_value_reporting'
        ) }},
        {{ repeat_day_mean('aggregated.repeat_margin_reporting', 'aggregated.purchase_days') }} as monetary_margin,

        ---------- margin basis for CLV on margin
        cast(case
            when aggregated.total_value_reporting > 0
                then aggregated.total_margin_reporting / aggregated.total_value_reporting
            else customers.industry_margin_rate
        end as double) as margin_rate,
        aggregated.total_value_reporting = 0 as is_margin_rate_from_industry,

        ---------- numerics (reporting currency)
        aggregated.purchase_days,
        aggregated.completed_orders,
        cast(aggregated.total_value_reporting as decimal(18, 2)) as total_value_reporting,
        cast(aggregated.total_margin_reporting as decimal(18, 2)) as total_margin_reporting,

        ---------- dates
        aggregated.first_purchase_date,
        aggregated.last_purchase_date,
        {{ as_of_date() }} as as_of_date

    from aggregated
    inner join customers
        on aggregated.customer_key = customers.customer_key

)

select * from summarised
