{{ per_customer_incremental(['customer_key']) }}
{#
  Completed purchases per customer, in order, as of AS_OF_DATE.

  A purchase is an order whose (final) status is 'completed' and whose UTC
  date is not after AS_OF_DATE. Status is the order's final state: 'refunded'
  means refunded in full and 'cancelled' never happened, so neither is a
  purchase nor adds value; that is how refunds reduce value.
  Orders are numbered by (ordered_at, raw_row_id) within the customer: two
  orders at the same instant keep their order in the file, as duplicates do
  in staging.

  Narrow on purpose: this is the widest table of the build (one row per
  order), read by five models. The customer is identified by customer_key only
  (int_customers_windowed maps it to merchant_id and customer_id) and the
  order by raw_row_id (stg_raw__orders has order_id); running totals are left
  to whoever needs them. See DECISIONLOG "Build time at 10 million orders".
  Incremental: a daily build recomputes only the customers in
  int_customers_to_recompute (macros/incremental_lifecycle.sql).
#}

with

orders as (

    select
        merchant_id,
        customer_id,
        raw_row_id,
        ordered_at,
        ordered_date,
        amount_reporting,
        cost_reporting
    from {{ ref('stg_raw__orders') }}
    where is_completed
        and not is_after_as_of_date

),

customers as (

    select
        customer_key,
        merchant_id,
        customer_id,
        loyal_min_orders_in_window,
        margin_rate
    from {{ ref('int_customers_windowed') }} as windowed
    {{ join_customers_to_recompute('windowed.customer_key') }}

),

priced as (

    select
        customers.customer_key,
        orders.raw_row_id,
        orders.ordered_at,
        orders.ordered_date,
        orders.amount_reporting,
        -- each branch cast on its own: cast outside the case, the branches'
        -- common type is wider than 18 digits and DuckDB computes every row in
        -- 128-bit decimals (20 x slower)
        case
            when orders.cost_reporting is not null
                then cast(orders.amount_reporting - orders.cost_reporting as decimal(18, 2))
            else cast(orders.amount_reporting * customers.margin_rate as decimal(18, 2))
        end as margin_reporting,
        orders.cost_reporting is null as is_margin_estimated,
        customers.loyal_min_orders_in_window
    from orders
    inner join customers
        on orders.merchant_id = customers.merchant_id
        and orders.customer_id = customers.customer_id

),

sequenced as (

    select
        ---------- ids
        customer_key,
        raw_row_id,

        ---------- numerics
        row_number() over customer_orders as order_number,
        amount_reporting,
        margin_reporting,

        ---------- booleans
        is_margin_estimated,

        ---------- dates and timestamps (UTC)
        ordered_at,
        ordered_date,
        lag(ordered_date) over customer_orders as previous_ordered_date,
        lead(ordered_date) over customer_orders as next_ordered_date,
        -- the date of the order loyal_min_orders_in_window - 1 orders back: from this
        -- order until that date + loyalty_window_days (exclusive) the customer has at least
        -- loyal_min_orders_in_window completed orders in the trailing loyalty_window_days
        {{ lag_by_column('ordered_date', 'loyal_min_orders_in_window - 1', 'customer_key', 'ordered_at, raw_row_id') }}
            as loyal_window_start_date

    from priced
    window customer_orders as (
        partition by customer_key
        order by ordered_at, raw_row_id
    )

)

select
    customer_key,
    raw_row_id,
    order_number,
    amount_reporting,
    margin_reporting,
    {{ days_between('previous_ordered_date', 'ordered_date') }} as days_since_previous_order,
    order_number = 1 as is_first_order,
    -- the customer's last completed order of that UTC day (one per purchase day)
    next_ordered_date is null or next_ordered_date > ordered_date as is_last_order_of_day,
    is_margin_estimated,
    ordered_at,
    ordered_date,
    previous_ordered_date,
    {{ add_days('loyal_window_start_date', var('loyalty_window_days')) }} as loyal_until_date
from sequenced
