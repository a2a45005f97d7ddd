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
  per-day grouping is needed: one join to the first day and one aggregate.
#}

with

orders as (

    select
        customer_key,
        order_number,
        ordered_date,
        is_last_order_of_day,
        amount_reporting,
        margin_reporting
    from {{ ref('int_orders_sequenced_per_customer') }}

),

first_purchases as (

    select
        customer_key,
        ordered_date as first_purchase_date
    from orders
    where order_number = 1

),

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

    select
        orders.customer_key,
        min(first_purchases.first_purchase_date) as first_purchase_date,
        max(orders.ordered_date) as last_purchase_date,
        count(case when orders.is_last_order_of_day then 1 end) as purchase_days,
        count(*) as completed_orders,
        sum(orders.amount_reporting) as total_value_reporting,
        sum(orders.margin_reporting) as total_margin_reporting,
        sum(case when orders.ordered_date > first_purchases.first_purchase_date
            then orders.amount_reporting end) as repeat_value_reporting,
        sum(case when orders.ordered_date > first_purchases.first_purchase_date
            then orders.margin_reporting end) as repeat_margin_reporting
    from orders
    inner join first_purchases
        on orders.customer_key = first_purchases.customer_key
    group by orders.customer_key

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
