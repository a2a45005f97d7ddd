{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_periods_to_recompute('change_date') }}"
) }}
-- depends_on: {{ ref('int_periods_to_recompute') }}
{#
  The running stage count, kept as its changes: one row per (industry,
  merchant, lifecycle stage, change date) with the customers who entered the
  stage that day (a stage interval starts), those who left it (an interval
  ends) and the net change entered - left (+1 / -1 per interval). The number of customers in a stage at
  the end of day D is the sum of the changes dated <= D, so a stock on any
  date is a running sum over this table, never a customer x day spine.
  marts.churn_rates (the live base at period start) and
  marts.customer_health_weekly (active base and at_risk on week_end) both
  sum it over the stage groups of macros/lifecycle.sql.
  Incremental: a daily build recomputes only the change dates from
  int_periods_to_recompute's date on (macros/incremental_periods.sql), from
  the intervals starting or ending on them.
#}

with

intervals as (

    select customer_key, stage_code, valid_from, valid_to
    from {{ ref('int_customer_stage_intervals') }}
    where {{ in_periods_to_recompute('valid_from') }}
        or {{ in_periods_to_recompute('valid_to') }}

),

customers as (

    select customer_key, industry, merchant_id
    from {{ ref('int_customers_windowed') }}

),

changes as (

    select customer_key, stage_code, valid_from as change_date, 1 as entered, 0 as left_stage
    from intervals
    where {{ in_periods_to_recompute('valid_from') }}
    union all
    select customer_key, stage_code, valid_to as change_date, 0 as entered, 1 as left_stage
    from intervals
    where valid_to is not null
        and {{ in_periods_to_recompute('valid_to') }}

),

per_day as (

    select
        customers.industry,
        customers.merchant_id,
        changes.stage_code,
        changes.change_date,
        sum(changes.entered) as customers_entered,
        sum(changes.left_stage) as customers_left
    from changes
    inner join customers
        on changes.customer_key = customers.customer_key
    group by customers.industry, customers.merchant_id, changes.stage_code, changes.change_date

)

select
    industry,
    merchant_id,
    {{ lifecycle_stage_name('stage_code') }} as lifecycle_stage,
    change_date,
    cast(customers_entered as bigint) as customers_entered,
    cast(customers_left as bigint) as customers_left,
    cast(customers_entered - customers_left as bigint) as stage_count_change
from per_day
