{{ per_customer_incremental(['customer_key']) }}
{#
  One row per customer and UTC day with activity, as of AS_OF_DATE.
  Activity is a completed purchase (int_orders_sequenced_per_customer) and,
  only where the customer's windows say counts_interactions, an interaction
  (visit, open, click, review, complaint) not after AS_OF_DATE. Several
  events on one day collapse into one row: the stage engine works at day grain.

  For customers whose interactions do not count, each purchase day is simply
  the day's last order (no aggregation needed); only customers whose
  interactions count go through a group by. Each day carries the customer's
  previous and next activity day (int_activity_churn_per_period classifies
  the customer per period from them, so it needs no pass over all days).
  Incremental: a daily build recomputes only the customers in
  int_customers_to_recompute (macros/incremental_lifecycle.sql).
#}

with

customers as (

    select customer_key, merchant_id, customer_id, counts_interactions
    from {{ ref('int_customers_windowed') }} as windowed
    {{ join_customers_to_recompute('windowed.customer_key') }}

),

purchase_days as (

    select
        orders.customer_key,
        orders.ordered_date as activity_date,
        orders.order_number as completed_orders_through,
        orders.loyal_until_date,
        orders.ordered_at as last_activity_at,
        customers.counts_interactions
    from {{ ref('int_orders_sequenced_per_customer') }} as orders
    inner join customers
        on orders.customer_key = customers.customer_key
    where orders.is_last_order_of_day

),

interaction_events as (

    select
        customers.customer_key,
        interactions.occurred_date as activity_date,
        cast(null as {{ dbt.type_bigint() }}) as completed_orders_through,
        cast(null as date) as loyal_until_date,
        interactions.occurred_at as last_activity_at
    from {{ ref('stg_raw__interactions') }} as interactions
    inner join customers
        on interactions.merchant_id = customers.merchant_id
        and interactions.customer_id = customers.customer_id
    where customers.counts_interactions
        and not interactions.is_after_as_of_date

),

-- purchases and interactions of customers whose interactions count, one row per day
interacting_days as (

    select
        customer_key,
        activity_date,
        max(completed_orders_through) as completed_orders_through,
        max(loyal_until_date) as loyal_until_date,
        max(last_activity_at) as last_activity_at
    from (
        select customer_key, activity_date, completed_orders_through, loyal_until_date, last_activity_at
        from purchase_days
        where counts_interactions
        union all
        select * from interaction_events
    ) as events
    group by customer_key, activity_date

),

activity_days as (

    select customer_key, activity_date, completed_orders_through, loyal_until_date, last_activity_at
    from purchase_days
    where not counts_interactions
    union all
    select * from interacting_days

)

select
    customer_key,
    activity_date,
    completed_orders_through is not null as is_purchase_day,
    completed_orders_through,
    loyal_until_date,
    last_activity_at,
    lag(activity_date) over by_day as previous_activity_date,
    lead(activity_date) over by_day as next_activity_date
from activity_days
window by_day as (partition by customer_key order by activity_date)
