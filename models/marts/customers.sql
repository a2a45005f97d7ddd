{#
  One row per customer (merchant_id, customer_id) as of AS_OF_DATE: the
  lifecycle (current stage, recency, rhythm: int_customer_lifecycles) with
  value, RFM, predicted CLV, CLV tier and tags (int_customers_scored).
#}

with

lifecycles as (

    select * from {{ ref('int_customer_lifecycles') }}

),

scored as (

    select * from {{ ref('int_customers_scored') }}

)

select
    lifecycles.*,
    scored.historical_value,
    scored.historical_margin,
    scored.allocated_acquisition_cost,
    scored.net_historical_value,
    scored.p_alive,
    scored.expected_purchases,
    scored.clv_horizon_months,
    scored.discounted_expected_purchases,
    scored.expected_avg_order_value,
    scored.predicted_revenue,
    scored.predicted_clv,
    scored.predicted_retention_cost,
    scored.net_clv,
    scored.clv_prediction_status,
    scored.clv_bg_nbd_segment,
    scored.clv_gamma_gamma_segment,
    scored.recency_score,
    scored.frequency_score,
    scored.monetary_score,
    scored.rfm_code,
    scored.rfm_segment,
    scored.tier,
    scored.tier_reason,
    scored.value_percentile,
    scored.predicted_clv_percentile,
    scored.days_since_last_touch,
    scored.registered_not_purchased,
    scored.recently_active,
    scored.long_silent_high_potential,
    scored.has_complained,
    scored.five_star_reviewer
from lifecycles
left join scored
    on lifecycles.merchant_id = scored.merchant_id
    and lifecycles.customer_id = scored.customer_id
