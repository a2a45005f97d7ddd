{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_periods_to_recompute('period_start', 'period_type') }}"
) }}
-- depends_on: {{ ref('int_periods_to_recompute') }}
{#
  Lifecycle churn entries per period (week Monday-Sunday, calendar month),
  industry and merchant: customers who entered `churned` during the period
  and were in the live base when it began. A customer who churns during a
  period was in its base unless their live run started in that same period
  (a live stage right after prospect or churned, or a timeline that starts
  live): then they were not live when it began. Only periods of the
  calendar (complete by AS_OF_DATE) with at least one such customer have a
  row; marts.churn_rates adds the empty periods and the base.
  Incremental: a daily build recomputes only the periods from
  int_periods_to_recompute's date on (macros/incremental_periods.sql), from
  the stage intervals starting in them (a churn and the run start that
  excuses it fall in the same period).
#}

with

calendar as (

    select * from {{ ref('int_period_calendar') }}

),

history as (

    select
        customers.industry,
        customers.merchant_id,
        intervals.customer_key,
        intervals.stage_code,
        intervals.previous_stage_code,
        intervals.valid_from
    from {{ ref('int_customer_stage_intervals') }} as intervals
    inner join {{ ref('int_customers_windowed') }} as customers
        on intervals.customer_key = customers.customer_key
    where {{ in_periods_to_recompute('intervals.valid_from', 'week') }}
        or {{ in_periods_to_recompute('intervals.valid_from', 'month') }}

),

period_types as (

    select 'week' as period_type
    union all
    select 'month' as period_type

),

churn_periods as (

    select
        history.industry,
        history.merchant_id,
        history.customer_key,
        period_types.period_type,
        {{ period_start_of('period_types.period_type', 'history.valid_from') }} as period_start,
        history.valid_from as churned_date
    from history
    cross join period_types
    where history.stage_code = {{ lifecycle_stage_code('churned') }}
        and {{ in_periods_to_recompute('history.valid_from', 'period_types.period_type') }}

),

run_start_periods as (

    select
        history.customer_key,
        period_types.period_type,
        {{ period_start_of('period_types.period_type', 'history.valid_from') }} as period_start,
        history.valid_from as run_start_date
    from history
    cross join period_types
    where {{ stage_in_group('history.stage_code', 'live', codes=true) }}
        and {{ in_periods_to_recompute('history.valid_from', 'period_types.period_type') }}
        and (
            history.previous_stage_code is null
            or history.previous_stage_code in (
                {{ lifecycle_stage_code('prospect') }}, {{ lifecycle_stage_code('churned') }}
            )
        )

)

select
    churn_periods.industry,
    churn_periods.merchant_id,
    churn_periods.period_type,
    churn_periods.period_start,
    count(*) as lifecycle_churned
from churn_periods
inner join calendar
    on churn_periods.period_type = calendar.period_type
    and churn_periods.period_start = calendar.period_start
where not exists (
    select 1
    from run_start_periods
    where run_start_periods.customer_key = churn_periods.customer_key
        and run_start_periods.period_type = churn_periods.period_type
        and run_start_periods.period_start = churn_periods.period_start
        and run_start_periods.run_start_date <= churn_periods.churned_date
)
group by churn_periods.industry, churn_periods.merchant_id, churn_periods.period_type, churn_periods.period_start
