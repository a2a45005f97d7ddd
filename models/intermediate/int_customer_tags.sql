{#
  The articles' customer tags, one row per customer of int_customers_windowed,
  as of AS_OF_DATE. A "touch" is a completed order or any interaction (visit,
  message open, coupon click, review, complaint), whatever the industry: the
  tags describe engagement, not the lifecycle stage.

    registered_not_purchased        no completed order yet
    recently_active                 last touch less than var tag_active_days (30) days ago
    is_long_silent                  last touch at least var tag_silent_days (60) days ago
                                    (int_customers_scored combines it with the tier into
                                    long_silent_high_potential, so this model does not
                                    wait for the stage intervals)
    has_complained                  at least one complaint interaction
    five_star_reviewer              at least one rating of 5
#}

with

customers as (

    select customer_key, merchant_id, customer_id, completed_orders, last_order_date
    from {{ ref('int_customer_values') }}

),

interactions as (

    select customer_key, last_interaction_date, complaints, five_star_ratings
    from {{ ref('int_interaction_totals_per_customer') }}

),

touched as (

    select
        customers.customer_key,
        customers.merchant_id,
        customers.customer_id,
        customers.completed_orders,
        coalesce(interactions.complaints, 0) as complaints,
        coalesce(interactions.five_star_ratings, 0) as five_star_ratings,
        {{ days_between(
            'greatest(coalesce(customers.last_order_date, interactions.last_interaction_date), '
                ~ 'coalesce(interactions.last_interaction_date, customers.last_order_date))',
            as_of_date()) }} as days_since_last_touch
    from customers
    left join interactions
        on customers.customer_key = interactions.customer_key

)

select
    customer_key,
    merchant_id,
    customer_id,
    days_since_last_touch,
    completed_orders = 0 as registered_not_purchased,
    coalesce(days_since_last_touch < {{ var('tag_active_days') }}, false) as recently_active,
    coalesce(days_since_last_touch >= {{ var('tag_silent_days') }}, false) as is_long_silent,
    complaints > 0 as has_complained,
    five_star_ratings > 0 as five_star_reviewer
from touched
