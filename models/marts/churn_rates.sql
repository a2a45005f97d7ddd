{#
  Churn per period (week Monday-Sunday, calendar month), industry and
  merchant, for periods complete by AS_OF_DATE, from the merchant's first
  period with activity on (empty periods included, with zeros).

  Activity churn (the articles' formula). Active in a period = at least one
  activity day in it (a completed order, or an interaction where the
  industry counts interactions: the lifecycle's definition of activity).
    active            customers active in this period
    active_previous   customers active in the previous period
    retained          active in both
    churned           active in the previous period, not in this one
    new_customers     first activity ever in this period
    reactivated       active now, not in the previous period, active before that
    activity_churn_rate = churned / active_previous;  retention_rate = 1 - it
  Identities: active = retained + new_customers + reactivated,
              active_previous = retained + churned.

  Lifecycle churn (the silence windows of customer_stage_history).
    lifecycle_customers_at_start  customers with a purchase who were not churned
                                  when the period began (stage new, active, loyal,
                                  at_risk or reactivated on the day before period_start)
    lifecycle_churned             of those, customers who entered `churned`
                                  during the period
    lifecycle_churn_rate = lifecycle_churned / lifecycle_customers_at_start

  The activity counts come from int_activity_churn_per_period (bounded by
  activity, never a customer x period spine), the base from the running
  stage count int_stage_count_changes, the churn entries from
  int_lifecycle_churn_per_period; this model adds the empty periods and the
  rates.
#}

with

calendar as (

    select * from {{ ref('int_period_calendar') }}

),

activity_counts as (

    select * from {{ ref('int_activity_churn_per_period') }}

),

period_types as (

    select 'week' as period_type
    union all
    select 'month' as period_type

),

---------- lifecycle churn

-- the live base at the end of the day before period_start: the running stage
-- count of the live stages, a change dated d first counting in the period
-- after the one containing d
live_changes_per_period as (

    select
        stage_counts.industry,
        stage_counts.merchant_id,
        period_types.period_type,
        {{ next_period_start_of('period_types.period_type', 'stage_counts.change_date') }} as period_start,
        sum(stage_counts.stage_count_change) as change
    from {{ ref('int_stage_count_changes') }} as stage_counts
    cross join period_types
    where {{ stage_in_group('stage_counts.lifecycle_stage', 'live') }}
    group by 1, 2, 3, 4

),

lifecycle_churn_counts as (

    select * from {{ ref('int_lifecycle_churn_per_period') }}

),

---------- one row per merchant and period, from its first active period

merchant_starts as (

    select industry, merchant_id, period_type, min(period_start) as first_period_start
    from activity_counts
    group by industry, merchant_id, period_type

),

spine as (

    select
        merchant_starts.industry,
        merchant_starts.merchant_id,
        calendar.period_type,
        calendar.period_start,
        calendar.period_end
    from merchant_starts
    inner join calendar
        on merchant_starts.period_type = calendar.period_type
        and calendar.period_start >= merchant_starts.first_period_start

),

combined as (

    select
        spine.*,
        coalesce(activity_counts.active, 0) as active,
        coalesce(lag(activity_counts.active) over by_period, 0) as active_previous,
        coalesce(activity_counts.retained, 0) as retained,
        coalesce(activity_counts.churned, 0) as churned,
        coalesce(activity_counts.new_customers, 0) as new_customers,
        coalesce(activity_counts.reactivated, 0) as reactivated,
        sum(coalesce(live_changes_per_period.change, 0)) over (
            partition by spine.industry, spine.merchant_id, spine.period_type
            order by spine.period_start
            rows between unbounded preceding and current row
        ) as lifecycle_customers_at_start,
        coalesce(lifecycle_churn_counts.lifecycle_churned, 0) as lifecycle_churned
    from spine
    left join activity_counts
        on spine.industry = activity_counts.industry
        and spine.merchant_id = activity_counts.merchant_id
        and spine.period_type = activity_counts.period_type
        and spine.period_start = activity_counts.period_start
    left join live_changes_per_period
        on spine.industry = live_changes_per_period.industry
        and spine.merchant_id = live_changes_per_period.merchant_id
        and spine.period_type = live_changes_per_period.period_type
        and spine.period_start = live_changes_per_period.period_start
    left join lifecycle_churn_counts
        on spine.industry = lifecycle_churn_counts.industry
        and spine.merchant_id = lifecycle_churn_counts.merchant_id
        and spine.period_type = lifecycle_churn_counts.period_type
        and spine.period_start = lifecycle_churn_counts.period_start
    window by_period as (partition by spine.industry, spine.merchant_id, spine.period_type order by spine.period_start)

)

select
    ---------- strings
    period_type,

    ---------- dates
    period_start,
    period_end,

    ---------- ids
    industry,
    merchant_id,

    ---------- activity churn
    cast(active as bigint) as active,
    cast(active_previous as bigint) as active_previous,
    cast(retained as bigint) as retained,
    cast(churned as bigint) as churned,
    cast(new_customers as bigint) as new_customers,
    cast(reactivated as bigint) as reactivated,
    cast(case when active_previous > 0 then 1.0 * churned / active_previous end as decimal(9, 6)) as activity_churn_rate,
    -- 1 minus the published (rounded) churn rate, so the two always sum to 1
    cast(1 - cast(case when active_previous > 0 then 1.0 * churned / active_previous end as decimal(9, 6))
        as decimal(9, 6)) as retention_rate,

    ---------- lifecycle churn
    cast(lifecycle_customers_at_start as bigint) as lifecycle_customers_at_start,
    cast(lifecycle_churned as bigint) as lifecycle_churned,
    cast(case when lifecycle_customers_at_start > 0 then 1.0 * lifecycle_churned / lifecycle_customers_at_start end
        as decimal(9, 6)) as lifecycle_churn_rate

from combined
