{#
  Repeat purchase days of the backtest customers with a BG/NBD prediction, per
  (industry, merchant_id, week_number): the actual side of the tracking plot.

  Weeks are counted from the calibration end C: week k holds the days in
  (C + 7(k - 1), C + 7k], so calibration weeks are k <= 0 and holdout weeks
  k >= 1, and the boundary between them is a week boundary; the holdout ends
  at the backtest's as_of_date (its holdout end). A repeat purchase day is a
  purchase day after the customer's first.
#}

with

orders as (

    select
        customer_key,
        ordered_date,
        is_last_order_of_day
    from {{ ref('int_orders_sequenced_per_customer') }}

),

scored as (

    select
        customer_key,
        merchant_id,
        industry,
        first_purchase_date,
        calibration_end_date,
        as_of_date
    from {{ ref('int_clv_backtest_scored') }}
    where bg_nbd_segment is not null

),

repeat_days as (

    select
        scored.industry,
        scored.merchant_id,
        cast(ceil({{ days_between('scored.calibration_end_date', 'orders.ordered_date') }} / 7.0) as integer)
            as week_number
    from orders
    inner join scored
        on orders.customer_key = scored.customer_key
    where orders.is_last_order_of_day
        and orders.ordered_date > scored.first_purchase_date
        and orders.ordered_date <= scored.as_of_date

)

select
    industry,
    merchant_id,
    week_number,
    count(*) as repeat_purchases
from repeat_days
group by industry, merchant_id, week_number
