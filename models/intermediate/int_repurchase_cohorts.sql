{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_periods_to_recompute('activity_month', 'month') }}"
) }}
-- depends_on: {{ ref('int_periods_to_recompute') }}
{#
  Repurchase cohorts: customers grouped by the month of their first
  completed order (cohort_month), per industry and merchant, followed for
  months_since_first_order = 1..repurchase_horizon_months (var, 12), each published only once that month is
  complete by AS_OF_DATE (its last day <= AS_OF_DATE).

    cohort_customers                customers whose first completed order fell in cohort_month
    returning_customers             of those, customers with a completed order in
                                    month cohort_month + months_since_first_order
    cumulative_returning_customers  customers with a completed order in any of the
                                    months 1..months_since_first_order
    repurchase_rate                 returning_customers / cohort_customers
    cumulative_repurchase_rate      cumulative_returning_customers / cohort_customers

  Orders in the cohort month itself after the first one do not count as a
  return (month 0 is not published). No customer x month spine: the cohort
  and the first return of each customer come from
  int_purchase_totals_per_customer (first_purchase_date, first_return_date),
  the returns of a month from the orders of that month.
  marts.repurchase_cohorts publishes it; int_customer_health_per_week reads
  its M+1 rows.
  Incremental: a daily build recomputes only the activity months from
  int_periods_to_recompute's date on (macros/incremental_periods.sql): the
  cohorts that reach them, the orders in them.
#}

with

customers as (

    select customer_key, merchant_id, industry
    from {{ ref('int_customers_windowed') }}

),

-- every customer with a completed order: their cohort month and the month
-- of their first return (first_return_date, int_purchase_totals_per_customer)
buyer_months as (

    select
        customer_key,
        cast({{ dbt.date_trunc('month', 'first_purchase_date') }} as date) as cohort_month,
        cast({{ dbt.date_trunc('month', 'first_return_date') }} as date) as first_return_month_start
    from {{ ref('int_purchase_totals_per_customer') }}
    -- the cohorts that reach a recomputed month
    where {{ in_periods_to_recompute(
        'cast(' ~ dbt.dateadd('month', var('repurchase_horizon_months'), 'first_purchase_date') ~ ' as date)', 'month') }}

),

buyers as (

    select
        customer_key,
        cohort_month,
        {{ dbt.datediff('cohort_month', 'first_return_month_start', 'month') }}
            as first_return_month
    from buyer_months

),

-- the orders of the recomputed months
orders as (

    select customer_key, cast({{ dbt.date_trunc('month', 'ordered_date') }} as date) as order_month
    from {{ ref('int_orders_sequenced_per_customer') }}
    where {{ in_periods_to_recompute('ordered_date', 'month') }}

),

-- distinct (customer, month offset 1..repurchase_horizon_months) with a completed order
returns as (

    select distinct
        orders.customer_key,
        {{ dbt.datediff('buyers.cohort_month', 'orders.order_month', 'month') }}
            as months_since_first_order
    from orders
    inner join buyers
        on orders.customer_key = buyers.customer_key
    where orders.order_month > buyers.cohort_month
        and orders.order_month <= cast({{ dbt.dateadd('month', var('repurchase_horizon_months'), 'buyers.cohort_month') }} as date)

),

cohorts as (

    select customers.industry, customers.merchant_id, buyers.cohort_month, count(*) as cohort_customers
    from buyers
    inner join customers
        on buyers.customer_key = customers.customer_key
    group by customers.industry, customers.merchant_id, buyers.cohort_month

),

returning_counts as (

    select
        customers.industry,
        customers.merchant_id,
        buyers.cohort_month,
        returns.months_since_first_order,
        count(*) as returning_customers
    from returns
    inner join buyers
        on returns.customer_key = buyers.customer_key
    inner join customers
        on returns.customer_key = customers.customer_key
    group by customers.industry, customers.merchant_id, buyers.cohort_month, returns.months_since_first_order

),

first_return_counts as (

    select
        customers.industry,
        customers.merchant_id,
        buyers.cohort_month,
        buyers.first_return_month as months_since_first_order,
        count(*) as first_time_returning_customers
    from buyers
    inner join customers
        on buyers.customer_key = customers.customer_key
    where buyers.first_return_month <= {{ var('repurchase_horizon_months') }}
    group by customers.industry, customers.merchant_id, buyers.cohort_month, buyers.first_return_month

),

month_offsets as (

    {% for offset in range(1, var('repurchase_horizon_months') | int + 1) %}
    select {{ offset }} as months_since_first_order
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

-- cohort x offset, only where month cohort_month + offset is complete
spine as (

    select
        cohorts.industry,
        cohorts.merchant_id,
        cohorts.cohort_month,
        month_offsets.months_since_first_order,
        cohorts.cohort_customers
    from cohorts
    cross join month_offsets
    where cast({{ dbt.dateadd('month', 'month_offsets.months_since_first_order + 1', 'cohorts.cohort_month') }} as date)
        <= {{ add_days(as_of_date(), 1) }}

),

counted as (

    select
        spine.industry,
        spine.merchant_id,
        spine.cohort_month,
        spine.months_since_first_order,
        spine.cohort_customers,
        coalesce(returning_counts.returning_customers, 0) as returning_customers,
        sum(coalesce(first_return_counts.first_time_returning_customers, 0)) over (
            partition by spine.industry, spine.merchant_id, spine.cohort_month
            order by spine.months_since_first_order
            rows between unbounded preceding and current row
        ) as cumulative_returning_customers
    from spine
    left join returning_counts
        on spine.industry = returning_counts.industry
        and spine.merchant_id = returning_counts.merchant_id
        and spine.cohort_month = returning_counts.cohort_month
        and spine.months_since_first_order = returning_counts.months_since_first_order
    left join first_return_counts
        on spine.industry = first_return_counts.industry
        and spine.merchant_id = first_return_counts.merchant_id
        and spine.cohort_month = first_return_counts.cohort_month
        and spine.months_since_first_order = first_return_counts.months_since_first_order

)

select
    ---------- ids
    industry,
    merchant_id,

    ---------- dates
    cohort_month,
    cast({{ dbt.dateadd('month', 'months_since_first_order', 'cohort_month') }} as date) as activity_month,

    ---------- numerics
    cast(months_since_first_order as integer) as months_since_first_order,
    cast(cohort_customers as bigint) as cohort_customers,
    cast(returning_customers as bigint) as returning_customers,
    cast(cumulative_returning_customers as bigint) as cumulative_returning_customers,
    cast(1.0 * returning_customers / cohort_customers as decimal(9, 6)) as repurchase_rate,
    cast(1.0 * cumulative_returning_customers / cohort_customers as decimal(9, 6)) as cumulative_repurchase_rate

from counted
where {{ in_periods_to_recompute(
    'cast(' ~ dbt.dateadd('month', 'months_since_first_order', 'cohort_month') ~ ' as date)', 'month') }}
