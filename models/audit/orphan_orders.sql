{#
  Orders whose customer is missing from the customers file. They are real
  purchases: they stay in every model and the customer is derived from them
  (int_customers_unioned). Empty when no customers file was supplied, since
  then every customer is derived by design.
#}

with

orders as (

    select * from {{ ref('stg_raw__orders') }}

),

customers as (

    select merchant_id, customer_id from {{ ref('stg_raw__customers') }}

),

customers_supplied as (

    select count(*) > 0 as has_customers from customers

)

select
    orders.merchant_id,
    orders.customer_id,
    orders.order_id,
    orders.ordered_at,
    orders.order_status,
    orders.raw_row_id
from orders
cross join customers_supplied
left join customers
    on orders.merchant_id = customers.merchant_id
    and orders.customer_id = customers.customer_id
where customers_supplied.has_customers
  and customers.customer_id is null
