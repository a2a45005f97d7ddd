{#
  Realised value per customer as of AS_OF_DATE, one row per customer of
  int_customers_windowed (prospects included, with zero value).

  historical_value   sum of completed order amounts in the reporting currency.
                     An order's status is its final state: 'refunded' means
                     refunded in full and 'cancelled' never happened, so
                     neither is in int_orders_sequenced_per_customer; that is
                     how value is net of refunds.
  historical_margin  sum of order margins: amount - cost where the order has a
                     cost, else amount x the industry's margin rate
                     (seeds/industry_margin_rates.csv).
  allocated_acquisition_cost
                     the acquisition channel's spend in the customer's
                     registration month divided by the customers registered
                     through that channel in that month (all merchants: the
                     spend file has no merchant). 0 when no spend is recorded.
  net_historical_value = historical_margin - allocated_acquisition_cost.
#}

with

customers as (

    select customer_key, merchant_id, customer_id, industry, registered_date
    from {{ ref('int_customers_windowed') }}

),

channels as (

    select merchant_id, customer_id, acquisition_channel
    from {{ ref('int_customers_unioned') }}

),

orders as (

    select
        customer_key,
        completed_orders,
        first_purchase_date as first_order_date,
        last_purchase_date as last_order_date,
        total_value_reporting as historical_value,
        total_margin_reporting as historical_margin
    from {{ ref('int_purchase_totals_per_customer') }}

),

acquired as (

    select
        customers.customer_key,
        channels.acquisition_channel,
        cast({{ dbt.date_trunc('month', 'customers.registered_date') }} as date) as registration_month
    from customers
    inner join channels
        on customers.merchant_id = channels.merchant_id
        and customers.customer_id = channels.customer_id

),

channel_months as (

    select acquisition_channel, registration_month, count(*) as customers_acquired
    from acquired
    group by acquisition_channel, registration_month

),

spend as (

    select acquisition_channel, spend_month, sum(spend) as spend
    from {{ ref('stg_raw__acquisition_costs') }}
    group by acquisition_channel, spend_month

),

cost_per_customer as (

    select
        channel_months.acquisition_channel,
        channel_months.registration_month,
        spend.spend / channel_months.customers_acquired as acquisition_cost_per_customer
    from channel_months
    inner join spend
        on channel_months.acquisition_channel = spend.acquisition_channel
        and channel_months.registration_month = spend.spend_month

),

valued as (

    select
        ---------- ids
        customers.customer_key,
        customers.merchant_id,
        customers.customer_id,

        ---------- strings
        customers.industry,
        acquired.acquisition_channel,

        ---------- numerics
        coalesce(orders.completed_orders, 0) as completed_orders,
        cast(coalesce(orders.historical_value, 0) as decimal(18, 2)) as historical_value,
        cast(coalesce(orders.historical_margin, 0) as decimal(18, 2)) as historical_margin,
        cast(coalesce(cost_per_customer.acquisition_cost_per_customer, 0) as decimal(18, 2))
            as allocated_acquisition_cost,

        ---------- dates
        acquired.registration_month,
        orders.first_order_date,
        orders.last_order_date

    from customers
    left join acquired
        on customers.customer_key = acquired.customer_key
    left join orders
        on customers.customer_key = orders.customer_key
    left join cost_per_customer
        on acquired.acquisition_channel = cost_per_customer.acquisition_channel
        and acquired.registration_month = cost_per_customer.registration_month

)

select
    *,
    cast(historical_margin - allocated_acquisition_cost as decimal(18, 2)) as net_historical_value
from valued
