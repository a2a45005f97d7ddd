{#
  Everything the BI marts add to a customer, one row per customer of
  int_customers_windowed: realised value (int_customer_values), RFM
  (int_customer_rfm_scores), predicted CLV (int_clv_predictions), CLV tier
  (int_customer_tiers) and tags (int_customer_tags). marts.customers joins
  this one model; marts.interventions (tier, p_alive, predicted_clv) and
  marts.clv_tiers (per industry and tier) read it too.

  Net CLV (the articles' definition: future margin weighted by survival,
  discounted, minus acquisition and retention cost):
    predicted_retention_cost = retention_cost_per_purchase (seeds/industry_retention_costs.csv,
                               `default` row for industries not listed)
                               x discounted_expected_purchases
    net_clv                  = predicted_clv - allocated_acquisition_cost - predicted_retention_cost
#}

with

retention_costs as (

    select * from {{ ref('industry_retention_costs') }}

),

values_with_costs as (

    select
        values_.*,
        coalesce(industry_costs.retention_cost_per_purchase, default_costs.retention_cost_per_purchase)
            as retention_cost_per_purchase
    from {{ ref('int_customer_values') }} as values_
    left join retention_costs as industry_costs
        on values_.industry = industry_costs.industry
    cross join (select * from retention_costs where industry = 'default') as default_costs

)

select
    values_.merchant_id,
    values_.customer_id,
    values_.industry,
    values_.historical_value,
    values_.historical_margin,
    values_.allocated_acquisition_cost,
    values_.net_historical_value,
    rfm.recency_score,
    rfm.frequency_score,
    rfm.monetary_score,
    rfm.rfm_code,
    rfm.rfm_segment,
    -- predicted CLV in the published types (marts.customers, interventions and
    -- clv_tiers read these, so every mart sums and shows the same rounding)
    cast(predictions.p_alive as decimal(7, 6)) as p_alive,
    cast(predictions.expected_purchases as decimal(12, 4)) as expected_purchases,
    cast(predictions.horizon_months as integer) as clv_horizon_months,
    cast(predictions.discounted_expected_purchases as decimal(12, 4)) as discounted_expected_purchases,
    cast(predictions.expected_avg_order_value as decimal(18, 2)) as expected_avg_order_value,
    cast(predictions.predicted_revenue as decimal(18, 2)) as predicted_revenue,
    cast(predictions.predicted_clv as decimal(18, 2)) as predicted_clv,
    cast(values_.retention_cost_per_purchase * predictions.discounted_expected_purchases as decimal(18, 2))
        as predicted_retention_cost,
    cast(
        predictions.predicted_clv - values_.allocated_acquisition_cost
        - values_.retention_cost_per_purchase * predictions.discounted_expected_purchases
        as decimal(18, 2)
    ) as net_clv,
    predictions.bg_nbd_segment as clv_bg_nbd_segment,
    predictions.gamma_gamma_segment as clv_gamma_gamma_segment,
    case
        when values_.completed_orders = 0 then 'no_purchase'
        else coalesce(predictions.prediction_status, 'no_summary')
    end as clv_prediction_status,
    tiers.tier,
    tiers.tier_reason,
    tiers.value_percentile,
    tiers.predicted_clv_percentile,
    tags.days_since_last_touch,
    tags.registered_not_purchased,
    tags.recently_active,
    -- tag: silent for var tag_silent_days (60) days and tier high or potential
    coalesce(tags.is_long_silent and tiers.tier in ('high', 'potential'), false)
        as long_silent_high_potential,
    tags.has_complained,
    tags.five_star_reviewer
from values_with_costs as values_
left join {{ ref('int_customer_rfm_scores') }} as rfm
    on values_.customer_key = rfm.customer_key
-- one join on the customer's natural key (int_clv_predictions carries no customer_key)
left join {{ ref('int_clv_predictions') }} as predictions
    on values_.merchant_id = predictions.merchant_id
    and values_.customer_id = predictions.customer_id
left join {{ ref('int_customer_tiers') }} as tiers
    on values_.customer_key = tiers.customer_key
left join {{ ref('int_customer_tags') }} as tags
    on values_.customer_key = tags.customer_key
