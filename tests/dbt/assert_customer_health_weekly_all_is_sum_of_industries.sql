-- The 'all' row of marts.customer_health_weekly is the sum of the industry
-- rows for every count.
with industries as (
    select
        week_start,
        sum(new_customers) as new_customers,
        sum(churned_customers) as churned_customers,
        sum(reactivated_customers) as reactivated_customers,
        sum(active_base) as active_base,
        sum(at_risk_customers) as at_risk_customers,
        sum(rated_interactions) as rated_interactions,
        sum(promoters) as promoters,
        sum(detractors) as detractors
    from {{ ref('customer_health_weekly') }}
    where industry <> 'all'
    group by week_start
)

select all_rows.week_start
from {{ ref('customer_health_weekly') }} as all_rows
left join industries
    on all_rows.week_start = industries.week_start
where all_rows.industry = 'all'
    and (
        industries.week_start is null
        or all_rows.new_customers <> industries.new_customers
        or all_rows.churned_customers <> industries.churned_customers
        or all_rows.reactivated_customers <> industries.reactivated_customers
        or all_rows.active_base <> industries.active_base
        or all_rows.at_risk_customers <> industries.at_risk_customers
        or all_rows.rated_interactions <> industries.rated_interactions
        or all_rows.promoters <> industries.promoters
        or all_rows.detractors <> industries.detractors
    )
