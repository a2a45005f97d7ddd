{#
  Repeat-customer rate per industry and merchant as of AS_OF_DATE: of the
  customers with at least one completed order, the share with two or more
  (several orders on one day count as several orders).
    repeat_customer_rate = repeat_customers / purchasing_customers
#}

with

customers as (

    select merchant_id, industry, completed_orders
    from {{ ref('int_customer_values') }}
    where completed_orders > 0

)

select
    industry,
    merchant_id,
    cast(count(*) as bigint) as purchasing_customers,
    cast(count(case when completed_orders >= 2 then 1 end) as bigint) as repeat_customers,
    cast(1.0 * count(case when completed_orders >= 2 then 1 end) / count(*) as decimal(9, 6)) as repeat_customer_rate,
    {{ as_of_date() }} as as_of_date
from customers
group by industry, merchant_id
