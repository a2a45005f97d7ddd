-- The value, RFM, tier and tag columns of marts.customers agree with each
-- other and with the lifecycle columns. Returns offending customers.
select merchant_id, customer_id, lifecycle_stage, completed_orders, tier, rfm_segment
from {{ ref('customers') }}
where
    -- prospects (and only they) are untiered, unscored and tagged registered_not_purchased
    (completed_orders = 0) <> (tier is null)
    or (completed_orders = 0) <> (rfm_segment is null)
    or (completed_orders = 0) <> registered_not_purchased
    or registered_not_purchased <> (lifecycle_stage = 'prospect')
    -- no value without orders; net = margin - acquisition cost
    or (completed_orders = 0 and (historical_value <> 0 or historical_margin <> 0))
    or net_historical_value <> historical_margin - allocated_acquisition_cost
    -- potential means a customer still alive (the rules exclude churned)
    or (lifecycle_stage = 'churned' and tier = 'potential')
    -- the two recency tags cannot both hold
    or (recently_active and long_silent_high_potential)
