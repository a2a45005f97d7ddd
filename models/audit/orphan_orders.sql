{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key='raw_row_id',
    on_schema_change='fail',
    pre_hook="{{ delete_orphan_orders_now_registered() }}"
) }}

{#
  Orders whose customer is missing from the customers file. They are real
  purchases: they stay in every model and the customer is derived from them
  (int_customers_unioned). Empty when no customers file was supplied, since
  then every customer is derived by design.

  Incremental (orders and customers rows are only added between two
  incremental builds; a changed file is a full landing): a pre-hook deletes
  the orphans whose customer now has a row (or every row, when the orders are
  staged again in full), then the run judges the orders of the files this
  build stages, on raw_row_id, so a file a failed build had judged is
  replaced, not doubled. Every order is judged again when the orders are
  staged again in full, or when no customers row came before this build (the
  table was empty by the rule above).
#}

with

orders as (

    select * from {{ ref('stg_raw__orders') }}
    {%- if is_incremental() %}
    where source_file in ({{ files_to_stage('orders') }})
        or not exists ({{ files_staged('orders') }})
        or not exists (
            select 1 from {{ ref('stg_raw__customers') }}
            where source_file in ({{ files_staged('customers') }})
        )
    {%- endif %}

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
