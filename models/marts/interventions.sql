{#
  Who to contact as of AS_OF_DATE, and why: one row per customer and reason
  (a customer can have several), with the playbook's suggested action for
  their stage, reason and tier (the playbook's row for the tier, else its
  fallback row with an empty tier). Reasons:
    pre_silent_lead_window  days_since_last_activity >= silent_after_days - intervention_lead_days
                            (still new/active/loyal/reactivated, i.e. not yet at_risk)
    slipping                is_slipping (int_customer_lifecycles: silence well past their own rhythm)
    replenishment_due       expected_next_order_date within the next replenishment_lead_days days
                            (0 = today), for a rhythm from the customer or their industry
    newly_registered, first_purchase, newly_loyal, newly_reactivated,
    newly_at_risk, newly_churned
                            entered that stage in the last intervention_newly_days days, today
                            included (the playbook's is_stage_entry rows name the reason per stage)
#}

with

-- the customer's lifecycle, with the tier and predicted value that rank the list
customers as (

    select
        lifecycles.*,
        scored.tier,
        scored.p_alive,
        scored.predicted_clv
    from {{ ref('int_customer_lifecycles') }} as lifecycles
    left join {{ ref('int_customers_scored') }} as scored
        on lifecycles.merchant_id = scored.merchant_id
        and lifecycles.customer_id = scored.customer_id
    where lifecycles.lifecycle_stage is not null

),

playbook as (

    select * from {{ ref('lifecycle_playbook') }}

),

newly_reason_codes as (

    select distinct lifecycle_stage, reason_code
    from playbook
    where is_stage_entry

),

reasons as (

    select customers.merchant_id, customers.customer_id, 'pre_silent_lead_window' as reason_code
    from customers
    where {{ stage_in_group('lifecycle_stage', 'in_window') }}
        and days_since_last_activity >= silent_after_days - intervention_lead_days

    union all

    select customers.merchant_id, customers.customer_id, 'slipping' as reason_code
    from customers
    where is_slipping

    union all

    select customers.merchant_id, customers.customer_id, 'replenishment_due' as reason_code
    from customers
    where {{ stage_in_group('lifecycle_stage', 'in_window') }}
        and typical_gap_source in ('customer', 'industry')
        and {{ days_between(as_of_date(), 'expected_next_order_date') }}
            between 0 and {{ var('replenishment_lead_days') }}

    union all

    select customers.merchant_id, customers.customer_id, newly_reason_codes.reason_code
    from customers
    inner join newly_reason_codes
        on customers.lifecycle_stage = newly_reason_codes.lifecycle_stage
    where {{ days_between('customers.stage_since', as_of_date()) }} < {{ var('intervention_newly_days') }}

)

select
    ---------- ids
    customers.merchant_id,
    customers.customer_id,

    ---------- strings
    customers.industry,
    customers.lifecycle_stage,
    reasons.reason_code,
    coalesce(tier_playbook.suggested_action, fallback_playbook.suggested_action) as suggested_action,

    ---------- numerics
    customers.days_since_last_activity,
    customers.days_until_at_risk,
    customers.silent_after_days,
    customers.typical_gap_days,

    ---------- dates
    customers.stage_since,
    customers.expected_next_order_date,
    customers.as_of_date,

    ---------- value, for prioritising the list
    customers.tier,
    customers.p_alive,
    customers.predicted_clv

from reasons
inner join customers
    on reasons.merchant_id = customers.merchant_id
    and reasons.customer_id = customers.customer_id
left join playbook as tier_playbook
    on customers.lifecycle_stage = tier_playbook.lifecycle_stage
    and reasons.reason_code = tier_playbook.reason_code
    and customers.tier = tier_playbook.tier
left join playbook as fallback_playbook
    on customers.lifecycle_stage = fallback_playbook.lifecycle_stage
    and reasons.reason_code = fallback_playbook.reason_code
    and fallback_playbook.tier is null
