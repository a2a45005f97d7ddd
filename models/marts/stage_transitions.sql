{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_periods_to_recompute('period_start', 'period_type') }}"
) }}
-- depends_on: {{ ref('int_periods_to_recompute') }}
{#
  Stage transitions per week and per month and industry: how many customers
  moved from one stage to another, by the period in which the new stage
  started. from_stage 'none' counts customers entering the population
  (their first interval). Every move is counted, also several moves of one
  customer within a period, so for each stage:
    customers in stage at period end = customers in stage at period start
      + transitions into it - transitions out of it
  (tests/dbt/assert_stage_transitions_reconcile.sql checks exactly that).
  Incremental: a daily build recomputes only the periods from
  int_periods_to_recompute's date on (macros/incremental_periods.sql).
#}

with

history as (

    select industry, previous_stage, lifecycle_stage, valid_from
    from {{ ref('int_customer_stage_history') }}
    where {{ in_periods_to_recompute('valid_from', 'week') }}
        or {{ in_periods_to_recompute('valid_from', 'month') }}

),

period_types as (

    select 'week' as period_type
    union all
    select 'month' as period_type

),

assigned as (

    select
        period_types.period_type,
        case period_types.period_type
            when 'week' then cast({{ dbt.date_trunc('week', 'history.valid_from') }} as date)
            else cast({{ dbt.date_trunc('month', 'history.valid_from') }} as date)
        end as period_start,
        history.industry,
        coalesce(history.previous_stage, 'none') as from_stage,
        history.lifecycle_stage as to_stage
    from history
    cross join period_types
    where {{ in_periods_to_recompute('history.valid_from', 'period_types.period_type') }}

)

select
    period_type,
    period_start,
    industry,
    from_stage,
    to_stage,
    count(*) as customers
from assigned
group by period_type, period_start, industry, from_stage, to_stage
