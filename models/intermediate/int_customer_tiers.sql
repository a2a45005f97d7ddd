{#
  CLV tier per customer with at least one completed order, as of AS_OF_DATE
  (prospects are not tiered). Rules are per industry in
  seeds/clv_tier_rules.csv (the `default` row applies to industries not
  listed); the first matching rule wins:

    high       value_percentile >= high_min_value_percentile
    potential  not churned, predicted_clv >= potential_min_clv_ratio x
               historical_margin, and predicted_clv_percentile >=
               potential_min_clv_percentile
    low        churned (when low_includes_churned) or
               value_percentile < low_max_value_percentile
    general    everyone else

  value_percentile is percent_rank() of historical_margin within the
  industry, predicted_clv_percentile that of predicted_clv among the
  industry's customers who have one (0 = lowest, 1 = highest; ties share a
  percentile). "Potential" is the articles' definition: the value the model
  expects over the CLV horizon is well above what the customer has brought so
  far (a young or accelerating customer), and large enough to matter. A
  customer without a prediction (no usable fit) cannot be potential.
#}

with

customers as (

    select customer_key, merchant_id, customer_id, industry, historical_margin
    from {{ ref('int_customer_values') }}
    where completed_orders > 0

),

stages as (

    select customer_key, {{ lifecycle_stage_name('stage_code') }} as lifecycle_stage
    from {{ ref('int_customer_stage_intervals') }}
    where valid_to is null

),

predictions as (

    select merchant_id, customer_id, predicted_clv
    from {{ ref('int_clv_predictions') }}

),

rules as (

    select * from {{ ref('clv_tier_rules') }}

),

joined as (

    select
        customers.*,
        stages.lifecycle_stage,
        predictions.predicted_clv,
        coalesce(industry_rules.high_min_value_percentile, default_rules.high_min_value_percentile)
            as high_min_value_percentile,
        coalesce(industry_rules.potential_min_clv_ratio, default_rules.potential_min_clv_ratio)
            as potential_min_clv_ratio,
        coalesce(industry_rules.potential_min_clv_percentile, default_rules.potential_min_clv_percentile)
            as potential_min_clv_percentile,
        coalesce(industry_rules.low_max_value_percentile, default_rules.low_max_value_percentile)
            as low_max_value_percentile,
        coalesce(industry_rules.low_includes_churned, default_rules.low_includes_churned)
            as low_includes_churned
    from customers
    inner join stages
        on customers.customer_key = stages.customer_key
    left join predictions
        on customers.merchant_id = predictions.merchant_id
        and customers.customer_id = predictions.customer_id
    left join rules as industry_rules
        on customers.industry = industry_rules.industry
    cross join (select * from rules where industry = 'default') as default_rules

),

ranked as (

    select
        *,
        percent_rank() over (partition by industry order by historical_margin) as value_percentile,
        case
            when predicted_clv is not null
                then percent_rank() over (
                    partition by industry, predicted_clv is null order by predicted_clv
                )
        end as predicted_clv_percentile
    from joined

),

flagged as (

    select
        *,
        coalesce(
            lifecycle_stage <> 'churned'
            and predicted_clv >= potential_min_clv_ratio * historical_margin
            and predicted_clv_percentile >= potential_min_clv_percentile,
            false
        ) as has_potential
    from ranked

)

select
    customer_key,
    merchant_id,
    customer_id,
    industry,
    lifecycle_stage,
    cast(value_percentile as decimal(5, 4)) as value_percentile,
    cast(predicted_clv_percentile as decimal(5, 4)) as predicted_clv_percentile,
    has_potential,
    case
        when value_percentile >= high_min_value_percentile then 'high'
        when has_potential then 'potential'
        when (low_includes_churned and lifecycle_stage = 'churned')
            or value_percentile < low_max_value_percentile then 'low'
        else 'general'
    end as tier,
    case
        when value_percentile >= high_min_value_percentile then 'top_value'
        when has_potential then 'predicted_growth'
        when low_includes_churned and lifecycle_stage = 'churned' then 'churned'
        when value_percentile < low_max_value_percentile then 'low_value'
        else 'mid_value'
    end as tier_reason
from flagged
