-- Reconciliation between the two marts that read the running stage count
-- (int_stage_count_changes) with their own period arithmetic: the customers
-- live (stage group `live`) on a week's Sunday in marts.customer_health_weekly
-- equal the lifecycle base at the start of the next week in
-- marts.churn_rates, per industry. Also: churned_customers per
-- week and industry are at least the lifecycle_churned of churn_rates
-- (which only counts customers already live when the week began).
with health as (
    select week_start, industry, active_base + at_risk_customers as live_customers, churned_customers
    from {{ ref('customer_health_weekly') }}
    where industry <> 'all'
),

churn as (
    select
        period_start,
        industry,
        sum(lifecycle_customers_at_start) as live_customers,
        sum(lifecycle_churned) as lifecycle_churned
    from {{ ref('churn_rates') }}
    where period_type = 'week'
    group by period_start, industry
)

select health.week_start, health.industry, health.live_customers, next_week.live_customers as next_week_base
from health
inner join churn as next_week
    on health.industry = next_week.industry
    and next_week.period_start = {{ add_days('health.week_start', 7) }}
where health.live_customers <> next_week.live_customers

union all

select health.week_start, health.industry, health.churned_customers, same_week.lifecycle_churned
from health
inner join churn as same_week
    on health.industry = same_week.industry
    and same_week.period_start = health.week_start
where health.churned_customers < same_week.lifecycle_churned
