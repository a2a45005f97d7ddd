{#
  Bucket reconciliation: for every period in stage_transitions, every
  industry and every stage,
    customers in the stage at the period end
      = customers in it at the period start + moves into it - moves out of it.
  Stage counts on a day come straight from customer_stage_history
  (intervals started on or before the day minus intervals ended on or before
  it); the moves come from stage_transitions. "Start" is the day before
  period_start, "end" the period's last day or AS_OF_DATE. Returns the
  periods that do not reconcile.
#}

with

history as (

    select industry, lifecycle_stage, valid_from, valid_to
    from {{ ref('customer_stage_history') }}

),

as_of as (

    select {{ as_of_date() }} as as_of_date

),

daily_changes as (

    select industry, lifecycle_stage, valid_from as change_date, count(*) as delta
    from history
    group by industry, lifecycle_stage, valid_from
    union all
    select industry, lifecycle_stage, valid_to as change_date, -count(*) as delta
    from history
    where valid_to is not null
    group by industry, lifecycle_stage, valid_to

),

periods as (

    select distinct period_type, period_start, industry
    from {{ ref('stage_transitions') }}

),

stages as (

    select distinct lifecycle_stage from history

),

bounds as (

    select
        periods.period_type,
        periods.period_start,
        periods.industry,
        stages.lifecycle_stage,
        {{ add_days('periods.period_start', -1) }} as start_day,
        least(
            case periods.period_type
                when 'week' then {{ add_days('periods.period_start', 6) }}
                else {{ add_days('cast(' ~ dbt.dateadd('month', 1, 'periods.period_start') ~ ' as date)', -1) }}
            end,
            as_of.as_of_date
        ) as end_day
    from periods
    cross join stages
    cross join as_of

),

counts as (

    select
        bounds.period_type,
        bounds.period_start,
        bounds.industry,
        bounds.lifecycle_stage,
        coalesce(sum(case when daily_changes.change_date <= bounds.start_day then daily_changes.delta end), 0) as at_start,
        coalesce(sum(case when daily_changes.change_date <= bounds.end_day then daily_changes.delta end), 0) as at_end
    from bounds
    left join daily_changes
        on bounds.industry = daily_changes.industry
        and bounds.lifecycle_stage = daily_changes.lifecycle_stage
        and daily_changes.change_date <= bounds.end_day
    group by bounds.period_type, bounds.period_start, bounds.industry, bounds.lifecycle_stage

),

moves as (

    select period_type, period_start, industry, to_stage as lifecycle_stage, customers as moved_in, 0 as moved_out
    from {{ ref('stage_transitions') }}
    union all
    select period_type, period_start, industry, from_stage as lifecycle_stage, 0 as moved_in, customers as moved_out
    from {{ ref('stage_transitions') }}
    where from_stage <> 'none'

),

move_totals as (

    select period_type, period_start, industry, lifecycle_stage,
        sum(moved_in) as moved_in, sum(moved_out) as moved_out
    from moves
    group by period_type, period_start, industry, lifecycle_stage

)

select
    counts.*,
    coalesce(move_totals.moved_in, 0) as moved_in,
    coalesce(move_totals.moved_out, 0) as moved_out
from counts
left join move_totals
    on counts.period_type = move_totals.period_type
    and counts.period_start = move_totals.period_start
    and counts.industry = move_totals.industry
    and counts.lifecycle_stage = move_totals.lifecycle_stage
where counts.at_end <> counts.at_start + coalesce(move_totals.moved_in, 0) - coalesce(move_totals.moved_out, 0)
