-- Reconciliation: repeat_customer_rates counts equal marts.customers.
with rates as (
    select industry, merchant_id, purchasing_customers, repeat_customers
    from {{ ref('repeat_customer_rates') }}
),

customers as (
    select
        industry,
        merchant_id,
        count(*) as purchasing_customers,
        count(case when completed_orders >= 2 then 1 end) as repeat_customers
    from {{ ref('customers') }}
    where completed_orders > 0
    group by industry, merchant_id
)

select rates.*, customers.purchasing_customers as customers_purchasing, customers.repeat_customers as customers_repeat
from rates
full outer join customers
    on rates.industry = customers.industry
    and rates.merchant_id = customers.merchant_id
where coalesce(rates.purchasing_customers, -1) <> coalesce(customers.purchasing_customers, -1)
    or coalesce(rates.repeat_customers, -1) <> coalesce(customers.repeat_customers, -1)
