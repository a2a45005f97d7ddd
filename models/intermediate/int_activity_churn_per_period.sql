{#
  Activity churn counts per period (week Monday-Sunday, calendar month),
  industry and merchant, for periods complete by AS_OF_DATE; only
  (merchant, period) pairs with an active or churned customer have a row
  (marts.churn_rates adds the empty periods). Active in a period = at least
  one activity day in it (int_activity_days_per_customer: a completed order,
  or an interaction where the industry counts interactions).

  One window pass over activity days: a customer's first activity day in a
  period decides their status there (new: no earlier activity ever;
  retained: their previous activity was in the previous period;
  reactivated: earlier than that), and their last activity day in a period
  makes them churned in the next period when their next activity is later
  than that. Work is bounded by activity, never a customer x period spine.
  Kept apart from the lifecycle half of churn_rates so it can run while the
  stage history builds.
#}

with

calendar as (

    select * from {{ ref('int_period_calendar') }}

),

customers as (

    select customer_key, merchant_id, industry
    from {{ ref('int_customers_windowed') }}

),

activity as (

    select customer_key, activity_date
    from {{ ref('int_activity_days_per_customer') }}

),

period_types as (

    select 'week' as period_type
    union all
    select 'month' as period_type

),

activity_neighbours as (

    select
        customer_key,
        activity_date,
        lag(activity_date) over by_day as previous_activity_date,
        lead(activity_date) over by_day as next_activity_date
    from activity
    window by_day as (partition by customer_key order by activity_date)

),

-- each activity day in its week and its month, with the periods of the
-- customer's previous and next activity days
activity_periods as (

    select
        activity_neighbours.customer_key,
        period_types.period_type,
        {{ period_start_of('period_types.period_type', 'activity_neighbours.activity_date') }} as period_start,
        {{ period_start_of('period_types.period_type', 'activity_neighbours.previous_activity_date') }} as previous_active_start,
        {{ period_start_of('period_types.period_type', 'activity_neighbours.next_activity_date') }} as next_active_start
    from activity_neighbours
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
    where activity_periods.previous_active_start is null
        or activity_periods.previous_active_start <> activity_periods.period_start

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
    where activity_periods.next_active_start is null
        or activity_periods.next_active_start > next_period.period_start

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
