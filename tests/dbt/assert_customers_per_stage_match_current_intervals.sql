-- Reconciliation: customers per (industry, stage) in marts.customers equal
-- the current intervals per (industry, stage) in marts.customer_stage_history.
with customers as (
    select industry, lifecycle_stage, count(*) as customers
    from {{ ref('customers') }}
    group by industry, lifecycle_stage
),

history as (
    select industry, lifecycle_stage, count(*) as customers
    from {{ ref('customer_stage_history') }}
    where is_current
    group by industry, lifecycle_stage
)

select
    coalesce(customers.industry, history.industry) as industry,
    coalesce(customers.lifecycle_stage, history.lifecycle_stage) as lifecycle_stage,
    customers.customers as in_customers,
    history.customers as in_stage_history
from customers
full outer join history
    on customers.industry = history.industry
    and customers.lifecycle_stage = history.lifecycle_stage
where coalesce(customers.customers, -1) <> coalesce(history.customers, -1)
