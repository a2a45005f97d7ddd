-- Reconciliation: summed over all periods, new_customers in marts.churn_rates
-- equals the customers whose first activity day falls in a complete period
-- (per period type, industry and merchant).
with first_activity as (
    select customers.industry, customers.merchant_id, min(activity.activity_date) as first_activity_date
    from {{ ref('int_activity_days_per_customer') }} as activity
    inner join {{ ref('int_customers_windowed') }} as customers
        on activity.customer_key = customers.customer_key
    group by customers.customer_key, customers.industry, customers.merchant_id
),

last_complete as (
    select period_type, max(period_end) as last_period_end
    from {{ ref('int_period_calendar') }}
    group by period_type
),

expected as (
    select last_complete.period_type, first_activity.industry, first_activity.merchant_id, count(*) as new_customers
    from first_activity
    inner join last_complete
        on first_activity.first_activity_date <= last_complete.last_period_end
    group by last_complete.period_type, first_activity.industry, first_activity.merchant_id
),

published as (
    select period_type, industry, merchant_id, sum(new_customers) as new_customers
    from {{ ref('churn_rates') }}
    group by period_type, industry, merchant_id
)

select
    coalesce(expected.period_type, published.period_type) as period_type,
    coalesce(expected.industry, published.industry) as industry,
    coalesce(expected.merchant_id, published.merchant_id) as merchant_id,
    expected.new_customers as expected_new_customers,
    published.new_customers as published_new_customers
from expected
full outer join published
    on expected.period_type = published.period_type
    and expected.industry = published.industry
    and expected.merchant_id = published.merchant_id
where coalesce(expected.new_customers, -1) <> coalesce(published.new_customers, -1)
