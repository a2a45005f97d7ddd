{#
  Clean rows dated after AS_OF_DATE. They are kept in staging (a later as-of
  date will count them) but no model counts them as of this date.
#}

with

orders as (
    select 'orders' as entity, raw_row_id, merchant_id, customer_id, order_id as row_key, ordered_at as dated_at
    from {{ ref('stg_raw__orders') }}
    where is_after_as_of_date
),

customers as (
    select 'customers' as entity, raw_row_id, merchant_id, customer_id, customer_id as row_key, registered_at as dated_at
    from {{ ref('stg_raw__customers') }}
    where is_after_as_of_date
),

interactions as (
    select 'interactions' as entity, raw_row_id, merchant_id, customer_id, interaction_id as row_key, occurred_at as dated_at
    from {{ ref('stg_raw__interactions') }}
    where is_after_as_of_date
)

select *, {{ as_of_date() }} as as_of_date from orders
union all
select *, {{ as_of_date() }} as as_of_date from customers
union all
select *, {{ as_of_date() }} as as_of_date from interactions
