{#
  One row per customer (merchant_id, customer_id) as of AS_OF_DATE: where
  they are in the lifecycle and since when (the current interval of
  int_customer_stage_intervals, so there is one stage mechanism), order and
  activity recency, and the customer's own buying rhythm (typical gap,
  expected next order, slipping). marts.customers adds value, CLV, RFM,
  tier and tags (int_customers_scored); marts.interventions reads it too.
#}

with

windowed_customers as (

    select * from {{ ref('int_customers_windowed') }}

),

-- the current interval of the stage history, by key (int_customer_stage_history adds the ids)
current_stages as (

    select customer_key, {{ lifecycle_stage_name('stage_code') }} as lifecycle_stage, valid_from as stage_since
    from {{ ref('int_customer_stage_intervals') }}
    where valid_to is null

),

order_summaries as (

    select
        customer_key,
        completed_orders,
        purchase_days,
        first_order_at,
        last_order_at,
        last_purchase_date as last_order_date,
        purchase_gaps,
        median_gap_days
    from {{ ref('int_purchase_totals_per_customer') }}

),

-- where interactions do not count, the last activity is the last order;
-- only the other customers need their activity timeline scanned
interaction_summaries as (

    select
        customer_key,
        max(activity_date) as last_activity_date,
        max(last_activity_at) as last_activity_at
    from {{ ref('int_activity_days_per_customer') }}
    where customer_key in (
        select customer_key from windowed_customers where counts_interactions
    )
    group by customer_key

),

joined as (

    select
        windowed_customers.*,
        current_stages.lifecycle_stage,
        current_stages.stage_since,
        coalesce(order_summaries.completed_orders, 0) as completed_orders,
        coalesce(order_summaries.purchase_days, 0) as purchase_days,
        order_summaries.first_order_at,
        order_summaries.last_order_at,
        order_summaries.last_order_date,
        coalesce(order_summaries.purchase_gaps, 0) as purchase_gaps,
        order_summaries.median_gap_days,
        case
            when windowed_customers.counts_interactions then interaction_summaries.last_activity_date
            else order_summaries.last_order_date
        end as last_activity_date,
        case
            when windowed_customers.counts_interactions then interaction_summaries.last_activity_at
            else order_summaries.last_order_at
        end as last_activity_at,
        coalesce(order_summaries.purchase_gaps, 0) >= {{ var('rhythm_min_gaps') }} as has_own_rhythm,
        next_stage_changes.next_stage_change_date,
        next_stage_changes.next_stage_code
    from windowed_customers
    inner join current_stages
        on windowed_customers.customer_key = current_stages.customer_key
    left join order_summaries
        on windowed_customers.customer_key = order_summaries.customer_key
    left join interaction_summaries
        on windowed_customers.customer_key = interaction_summaries.customer_key
    left join {{ ref('int_customer_next_stage_changes') }} as next_stage_changes
        on windowed_customers.customer_key = next_stage_changes.customer_key

),

-- the industry's rhythm: the median typical gap of its customers who have their own
industry_rhythms as (

    select
        industry,
        {{ median('median_gap_days') }} as industry_gap_days
    from joined
    where has_own_rhythm
    group by industry

),

rhythms as (

    select
        joined.*,
        case
            when joined.has_own_rhythm then joined.median_gap_days
            when industry_rhythms.industry_gap_days is not null then industry_rhythms.industry_gap_days
            else joined.silent_after_days
        end as typical_gap_days,
        case
            when joined.has_own_rhythm then 'customer'
            when industry_rhythms.industry_gap_days is not null then 'industry'
            else 'silent_after_days'
        end as typical_gap_source,
        {{ days_between('joined.last_order_date', as_of_date()) }} as days_since_last_order,
        {{ days_between('joined.last_activity_date', as_of_date()) }} as days_since_last_activity
    from joined
    left join industry_rhythms
        on joined.industry = industry_rhythms.industry

),

final as (

    select
        ---------- ids
        merchant_id,
        customer_id,

        ---------- strings
        industry,
        lifecycle_stage,
        typical_gap_source,

        ---------- numerics
        completed_orders,
        purchase_days,
        days_since_last_order,
        days_since_last_activity,
        silent_after_days,
        churned_after_days,
        loyal_min_orders_in_window,
        intervention_lead_days,
        cast(typical_gap_days as decimal(10, 1)) as typical_gap_days,
        case
            when {{ stage_in_group('lifecycle_stage', 'in_window') }}
                then silent_after_days - days_since_last_activity
        end as days_until_at_risk,

        ---------- booleans
        coalesce(
            has_own_rhythm
            -- a new customer has one purchase day, so no own rhythm: the group
            -- is the same for both rules (docs block is_slipping)
            and {{ stage_in_group('lifecycle_stage', 'in_window') }}
            and days_since_last_order >= {{ var('slipping_multiplier') }} * typical_gap_days,
            false
        ) as is_slipping,
        has_own_rhythm,
        has_merchant_override,
        is_unknown_industry,
        is_derived_from_orders,

        ---------- dates and timestamps (UTC)
        stage_since,
        -- the next stage change if nothing new arrives (int_customer_next_stage_changes)
        next_stage_change_date,
        {{ lifecycle_stage_name('next_stage_code') }} as next_stage,
        case
            when last_order_date is not null
                then {{ add_days('last_order_date', 'cast(round(typical_gap_days) as integer)') }}
        end as expected_next_order_date,
        registered_at,
        first_order_at,
        last_order_at,
        last_activity_at,
        {{ as_of_date() }} as as_of_date

    from rhythms

)

select * from final
