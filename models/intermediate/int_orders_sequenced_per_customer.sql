{#
  Completed purchases per customer, in order, as of AS_OF_DATE.

  A purchase is an order whose (final) status is 'completed' and whose UTC
  date is not after AS_OF_DATE. Status is the order's final state: 'refunded'
  means refunded in full and 'cancelled' never happened, so neither is a
  purchase nor adds value; that is how refunds reduce value.
  Orders are numbered by (ordered_at, order_id) within the customer.

  The customer is identified by customer_key only (join int_customers_windowed
  for merchant_id and customer_id): not writing two id strings on every one of
  millions of order rows saves about a fifth of this model's build time.
#}

with

orders as (

    select
        merchant_id,
        customer_id,
        order_id,
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
        loyal_min_orders_365d,
        margin_rate
    from {{ ref('int_customers_windowed') }}

),

priced as (

    select
        customers.customer_key,
        orders.order_id,
        orders.ordered_at,
        orders.ordered_date,
        orders.amount_reporting,
        cast(
            case
                when orders.cost_reporting is not null then orders.amount_reporting - orders.cost_reporting
                else orders.amount_reporting * customers.margin_rate
            end
        as decimal(18, 2)) as margin_reporting,
        orders.cost_reporting is null as is_margin_estimated,
        customers.loyal_min_orders_365d
    from orders
    inner join customers
        on orders.merchant_id = customers.merchant_id
        and orders.customer_id = customers.customer_id

),

sequenced as (

    select
        ---------- ids
        customer_key,
        order_id,

        ---------- numerics
        row_number() over customer_orders as order_number,
        amount_reporting,
        margin_reporting,
        sum(amount_reporting) over customer_orders as running_value_reporting,
        sum(margin_reporting) over customer_orders as running_margin_reporting,

        ---------- booleans
        is_margin_estimated,

        ---------- dates and timestamps (UTC)
        ordered_at,
        ordered_date,
        lag(ordered_date) over customer_orders as previous_ordered_date,
        lead(ordered_date) over customer_orders as next_ordered_date,
        -- the date of the order loyal_min_orders_365d - 1 orders back: from this
        -- order until that date + 365 (exclusive) the customer has at least
        -- loyal_min_orders_365d completed orders in the trailing 365 days
        lag(ordered_date, loyal_min_orders_365d - 1) over customer_orders as loyal_window_start_date

    from priced
    window customer_orders as (
        partition by customer_key
        order by ordered_at, order_id
        rows between unbounded preceding and current row
    )

)

select
    customer_key,
    order_id,
    order_number,
    amount_reporting,
    margin_reporting,
    cast(running_value_reporting as decimal(18, 2)) as running_value_reporting,
    cast(running_margin_reporting as decimal(18, 2)) as running_margin_reporting,
    {{ days_between('previous_ordered_date', 'ordered_date') }} as days_since_previous_order,
    order_number = 1 as is_first_order,
    order_number > 1 as is_repeat_order,
    -- the customer's last completed order of that UTC day (one per purchase day)
    next_ordered_date is null or next_ordered_date > ordered_date as is_last_order_of_day,
    is_margin_estimated,
    ordered_at,
    ordered_date,
    previous_ordered_date,
    {{ add_days('loyal_window_start_date', 365) }} as loyal_until_date
from sequenced
