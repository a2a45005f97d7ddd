{#
  CLV tier per customer with at least one completed order, as of AS_OF_DATE
  (prospects are not tiered). Rules are per industry in
  seeds/clv_tier_rules.csv (the `default` row applies to industries not
  listed); the first matching rule wins:

    high       value_percentile >= high_min_value_percentile
    potential  not churned, and young (first order less than
               young_customer_days ago) or accelerating (at least
               acceleration_min_orders orders in the last
               acceleration_window_days, at a daily rate at least
               acceleration_min_ratio x their lifetime daily rate, for
               customers older than the window)
    low        churned (when low_includes_churned) or
               value_percentile < low_max_value_percentile
    general    everyone else

  value_percentile is percent_rank() of historical_margin within the
  industry (0 = lowest, 1 = highest; ties share a percentile).

  INTERIM: "potential" should mean predicted value well above realised value.
  Until predicted CLV exists (issue 5), young and accelerating customers
  whose realised value is not yet high stand in for it.
#}

with

customers as (

    select customer_key, merchant_id, customer_id, industry, completed_orders, historical_margin, first_order_date
    from {{ ref('int_customer_values') }}
    where completed_orders > 0

),

stages as (

    select merchant_id, customer_id, lifecycle_stage
    from {{ ref('customer_stage_history') }}
    where is_current

),

rules as (

    select * from {{ ref('clv_tier_rules') }}

),

ruled as (

    select
        customers.*,
        stages.lifecycle_stage,
        coalesce(industry_rules.high_min_value_percentile, default_rules.high_min_value_percentile) as high_min_value_percentile,
        coalesce(industry_rules.young_customer_days, default_rules.young_customer_days) as young_customer_days,
        coalesce(industry_rules.acceleration_window_days, default_rules.acceleration_window_days) as acceleration_window_days,
        coalesce(industry_rules.acceleration_min_ratio, default_rules.acceleration_min_ratio) as acceleration_min_ratio,
        coalesce(industry_rules.acceleration_min_orders, default_rules.acceleration_min_orders) as acceleration_min_orders,
        coalesce(industry_rules.low_max_value_percentile, default_rules.low_max_value_percentile) as low_max_value_percentile,
        coalesce(industry_rules.low_includes_churned, default_rules.low_includes_churned) as low_includes_churned,
        percent_rank() over (partition by customers.industry order by customers.historical_margin) as value_percentile,
        {{ days_between('customers.first_order_date', as_of_date()) }} + 1 as customer_age_days
    from customers
    inner join stages
        on customers.merchant_id = stages.merchant_id
        and customers.customer_id = stages.customer_id
    left join rules as industry_rules
        on customers.industry = industry_rules.industry
    cross join (select * from rules where industry = 'default') as default_rules

),

recent_orders as (

    select
        orders.customer_key,
        count(*) as recent_orders
    from {{ ref('int_orders_sequenced_per_customer') }} as orders
    inner join ruled
        on orders.customer_key = ruled.customer_key
    where orders.ordered_date > {{ add_days(as_of_date(), '-ruled.acceleration_window_days') }}
    group by orders.customer_key

),

flagged as (

    select
        ruled.*,
        coalesce(recent_orders.recent_orders, 0) as recent_orders,
        ruled.customer_age_days <= ruled.young_customer_days as is_young,
        coalesce(
            ruled.customer_age_days > ruled.acceleration_window_days
            and recent_orders.recent_orders >= ruled.acceleration_min_orders
            and 1.0 * recent_orders.recent_orders / ruled.acceleration_window_days
                >= ruled.acceleration_min_ratio * ruled.completed_orders / ruled.customer_age_days,
            false
        ) as is_accelerating
    from ruled
    left join recent_orders
        on ruled.customer_key = recent_orders.customer_key

)

select
    customer_key,
    merchant_id,
    customer_id,
    industry,
    lifecycle_stage,
    cast(value_percentile as decimal(5, 4)) as value_percentile,
    customer_age_days,
    recent_orders,
    is_young,
    is_accelerating,
    case
        when value_percentile >= high_min_value_percentile then 'high'
        when lifecycle_stage <> 'churned' and (is_young or is_accelerating) then 'potential'
        when (low_includes_churned and lifecycle_stage = 'churned')
            or value_percentile < low_max_value_percentile then 'low'
        else 'general'
    end as tier,
    case
        when value_percentile >= high_min_value_percentile then 'top_value'
        when lifecycle_stage <> 'churned' and is_young then 'young'
        when lifecycle_stage <> 'churned' and is_accelerating then 'accelerating'
        when low_includes_churned and lifecycle_stage = 'churned' then 'churned'
        when value_percentile < low_max_value_percentile then 'low_value'
        else 'mid_value'
    end as tier_reason
from flagged
