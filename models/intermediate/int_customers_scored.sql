{#
  Everything the BI marts add to a customer, one row per customer of
  int_customers_windowed: realised value (int_customer_values), RFM
  (int_customer_rfm_scores), CLV tier (int_customer_tiers) and tags
  (int_customer_tags). marts.customers joins this one model.
#}

select
    values_.merchant_id,
    values_.customer_id,
    values_.historical_value,
    values_.historical_margin,
    values_.allocated_acquisition_cost,
    values_.net_historical_value,
    rfm.recency_score,
    rfm.frequency_score,
    rfm.monetary_score,
    rfm.rfm_code,
    rfm.rfm_segment,
    tiers.tier,
    tiers.tier_reason,
    tiers.value_percentile,
    tags.days_since_last_touch,
    tags.registered_not_purchased,
    tags.active_last_30_days,
    -- tag: silent for var tag_silent_days (60) days and tier high or potential
    coalesce(tags.is_silent_60_days and tiers.tier in ('high', 'potential'), false)
        as silent_60_days_high_potential,
    tags.has_complained,
    tags.five_star_reviewer
from {{ ref('int_customer_values') }} as values_
left join {{ ref('int_customer_rfm_scores') }} as rfm
    on values_.customer_key = rfm.customer_key
left join {{ ref('int_customer_tiers') }} as tiers
    on values_.customer_key = tiers.customer_key
left join {{ ref('int_customer_tags') }} as tags
    on values_.customer_key = tags.customer_key
