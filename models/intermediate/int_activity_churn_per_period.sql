{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_periods_to_recompute('period_start', 'period_type') }}"
) }}
-- depends_on: {{ ref('int_periods_to_recompute') }}
{#
  Activity churn counts per period (week Monday-Sunday, calendar month),
  industry and merchant, for periods complete by AS_OF_DATE; only
  (merchant, period) pairs with an active or churned customer have a row
  (marts.churn_rates adds the empty periods). Active in a period = at least
  one activity day in it (int_activity_days_per_customer: a completed order,
  or an interaction where the industry counts interactions).

  From the activity days and their neighbours (previous and next activity
  day, carried by int_activity_days_per_customer): a customer's first
  activity day in a period decides their status there (new: no earlier
  activity ever; retained: their previous activity was in the previous
  period; reactivated: earlier than that), and their last activity day in a
  period makes them churned in the next period when their next activity is
  later than that. Work is bounded by activity, never a customer x period
  spine. Kept apart from the lifecycle half of churn_rates so it can run
  while the stage history builds.
  Incremental: a daily build recomputes only the periods from
  int_periods_to_recompute's date on (macros/incremental_periods.sql): the
  activity days in them, and those of the period before (their churn lands
  in the first recomputed period).
#}

with

calendar as (

    select * from {{ ref('int_period_calendar') }}

),

customers as (

    select customer_key, merchant_id, industry
    from {{ ref('int_customers_windowed') }}

),

period_types as (

    select 'week' as period_type
    union all
    select 'month' as period_type

),

activity as (

    select customer_key, activity_date, previous_activity_date, next_activity_date
    from {{ ref('int_activity_days_per_customer') }}
    -- the days whose period or next period is recomputed, in either period type
    where {{ in_periods_to_recompute(next_period_start_of("'week'", 'activity_date'), 'week') }}
        or {{ in_periods_to_recompute(next_period_start_of("'month'", 'activity_date'), 'month') }}

),

-- each activity day in its week and its month, with the periods of the
-- customer's previous and next activity days
activity_periods as (

    select
        activity.customer_key,
        period_types.period_type,
        {{ period_start_of('period_types.period_type', 'activity.activity_date') }} as period_start,
        {{ period_start_of('period_types.period_type', 'activity.previous_activity_date') }} as previous_active_start,
        {{ period_start_of('period_types.period_type', 'activity.next_activity_date') }} as next_active_start
    from activity
    cross join period_types

),

classified as (

    -- the first activity day of an active period decides the customer's status in it
    select
        activity_periods.customer_key,
        activity_periods.period_type,
        activity_periods.period_start,
        case
            when activity_periods.previous_active_start is null then 'new'
            when activity_periods.previous_active_start = calendar.previous_period_start then 'retained'
            else 'reactivated'
        end as status
    from activity_periods
    inner join calendar
        on activity_periods.period_type = calendar.period_type
        and activity_periods.period_start = calendar.period_start
    where (
        activity_periods.previous_active_start is null
        or activity_periods.previous_active_start <> activity_periods.period_start
    )
        and {{ in_periods_to_recompute('activity_periods.period_start', 'activity_periods.period_type') }}

    union all

    -- the last activity day of an active period: churned in the next period
    -- when the customer has no activity there
    select
        activity_periods.customer_key,
        activity_periods.period_type,
        next_period.period_start,
        'churned' as status
    from activity_periods
    inner join calendar as next_period
        on activity_periods.period_type = next_period.period_type
        and activity_periods.period_start = next_period.previous_period_start
    where (
        activity_periods.next_active_start is null
        or activity_periods.next_active_start > next_period.period_start
    )
        and {{ in_periods_to_recompute('next_period.period_start', 'next_period.period_type') }}

),

activity_counts as (

    select
        customers.industry,
        customers.merchant_id,
        classified.period_type,
        classified.period_start,
        count(case when classified.status <> 'churned' then 1 end) as active,
        count(case when classified.status = 'retained' then 1 end) as retained,
        count(case when classified.status = 'churned' then 1 end) as churned,
        count(case when classified.status = 'new' then 1 end) as new_customers,
        count(case when classified.status = 'reactivated' then 1 end) as reactivated
    from classified
    inner join customers
        on classified.customer_key = customers.customer_key
    group by customers.industry, customers.merchant_id, classified.period_type, classified.period_start

)

select
    industry,
    merchant_id,
    period_type,
    period_start,
    active,
    retained,
    churned,
    new_customers,
    reactivated
from activity_counts
