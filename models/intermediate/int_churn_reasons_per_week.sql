{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_periods_to_recompute('week_start', 'week') }}"
) }}
-- depends_on: {{ ref('int_periods_to_recompute') }}
{#
  Why customers churned: for each complete week and industry (and 'all'),
  the complaint reasons of the customers who entered `churned` that week
  (int_customer_stage_history), counted and ranked; marts.churn_reasons_weekly
  publishes it and int_customer_health_per_week takes each week's rank 1.
  A churned customer's reasons are the reasons of their complaints made in
  the var churn_reason_lookback_days (180) days before the day they churned;
  a customer with complaints of several reasons counts once under each, and
  churned customers without a complaint appear under no reason.
    churned_customers          churned customers with at least one complaint of this reason
    share_of_churned_customers churned_customers / all customers who churned that week
    reason_rank                1 = the reason of most churned customers (ties: alphabetical)
  Incremental: a daily build recomputes only the weeks from
  int_periods_to_recompute's date on (macros/incremental_periods.sql), from
  the churns in them and the complaints within the lookback before them.
#}

with

calendar as (

    select period_start as week_start, period_end as week_end
    from {{ ref('int_period_calendar') }}
    where period_type = 'week'

),

churn_entries as (

    select history.industry, history.merchant_id, history.customer_id, history.valid_from as churned_date, calendar.week_start
    from {{ ref('int_customer_stage_history') }} as history
    inner join calendar
        on cast({{ dbt.date_trunc('week', 'history.valid_from') }} as date) = calendar.week_start
    where history.lifecycle_stage = 'churned'
        and {{ in_periods_to_recompute('history.valid_from', 'week') }}

),

complaints as (

    select merchant_id, customer_id, occurred_date, complaint_reason
    from {{ ref('stg_raw__interactions') }}
    where interaction_type = 'complaint'
        and not is_after_as_of_date
        -- a complaint counts for churns up to churn_reason_lookback_days after it
        and {{ in_periods_to_recompute(add_days('occurred_date', var('churn_reason_lookback_days')), 'week') }}

),

churned_reasons as (

    select distinct
        churn_entries.industry,
        churn_entries.week_start,
        churn_entries.merchant_id,
        churn_entries.customer_id,
        complaints.complaint_reason
    from churn_entries
    inner join complaints
        on churn_entries.merchant_id = complaints.merchant_id
        and churn_entries.customer_id = complaints.customer_id
        and complaints.occurred_date < churn_entries.churned_date
        and complaints.occurred_date >= {{ add_days('churn_entries.churned_date', - var('churn_reason_lookback_days')) }}

),

churned_totals as (

    -- per industry and, rolled up, over all industries ('all'): one aggregation
    select
        case when grouping(industry) = 1 then 'all' else industry end as industry_or_all,
        week_start,
        count(*) as churned_customers
    from churn_entries
    group by week_start, rollup(industry)

),

reason_counts as (

    select
        case when grouping(industry) = 1 then 'all' else industry end as industry_or_all,
        week_start,
        complaint_reason,
        count(*) as churned_customers
    from churned_reasons
    group by week_start, complaint_reason, rollup(industry)

)

select
    reason_counts.week_start,
    reason_counts.industry_or_all as industry,
    reason_counts.complaint_reason,
    cast(reason_counts.churned_customers as bigint) as churned_customers,
    cast(1.0 * reason_counts.churned_customers / churned_totals.churned_customers as decimal(9, 6))
        as share_of_churned_customers,
    cast(row_number() over (
        partition by reason_counts.industry_or_all, reason_counts.week_start
        order by reason_counts.churned_customers desc, reason_counts.complaint_reason
    ) as integer) as reason_rank
from reason_counts
inner join churned_totals
    on reason_counts.industry_or_all = churned_totals.industry_or_all
    and reason_counts.week_start = churned_totals.week_start
