-- Reconciliation: per industry and merchant, the cohort sizes
-- (months_since_first_order = 1 rows) add up to the customers in
-- marts.customers whose first completed order fell in a month whose next
-- month is complete by AS_OF_DATE (exactly the cohorts with an M+1 row).
with cohorts as (
    select industry, merchant_id, sum(cohort_customers) as customers
    from {{ ref('repurchase_cohorts') }}
    where months_since_first_order = 1
    group by industry, merchant_id
),

customers as (
    select industry, merchant_id, count(*) as customers
    from {{ ref('customers') }}
    where first_order_at is not null
        and cast({{ dbt.dateadd('month', 2, dbt.date_trunc('month', 'first_order_at')) }} as date)
            <= {{ add_days(as_of_date(), 1) }}
    group by industry, merchant_id
)

select
    coalesce(cohorts.industry, customers.industry) as industry,
    coalesce(cohorts.merchant_id, customers.merchant_id) as merchant_id,
    cohorts.customers as in_cohorts,
    customers.customers as in_customers
from cohorts
full outer join customers
    on cohorts.industry = customers.industry
    and cohorts.merchant_id = customers.merchant_id
where coalesce(cohorts.customers, -1) <> coalesce(customers.customers, -1)
