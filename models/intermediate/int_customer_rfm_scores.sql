{#
  RFM scores within industry, one row per customer with at least one
  completed order as of AS_OF_DATE (prospects have no scores).

  Each score is a tie-aware quantile, 1 (worst) to bins = var rfm_score_bins
  (5: quintiles) (best), within the customer's industry:
      score = 1 + floor(bins x (rank - 1) / customers_in_industry)
  where rank orders customers from worst to best and tied values share the
  lowest rank. Unlike ntile(bins), customers with the same value always get
  the same score (ntile would split e.g. the many one-order customers across
  F = 1..3 by id). For distinct values it matches ntile's quantiles.
    recency    last completed order date: the more recent, the higher
    frequency  completed orders
    monetary   historical_value (completed amounts, reporting currency)
  The named segment comes from seeds/rfm_segments.csv by recency and
  frequency score ranges (the classic R x F grid).
#}

with

values_ as (

    select customer_key, merchant_id, customer_id, industry, completed_orders, historical_value, last_order_date
    from {{ ref('int_customer_values') }}
    where completed_orders > 0

),

ranked as (

    select
        *,
        count(*) over (partition by industry) as industry_customers,
        rank() over (partition by industry order by last_order_date) as recency_rank,
        rank() over (partition by industry order by completed_orders) as frequency_rank,
        rank() over (partition by industry order by historical_value) as monetary_rank
    from values_

),

scored as (

    select
        customer_key,
        merchant_id,
        customer_id,
        industry,
        cast(1 + floor({{ var('rfm_score_bins') }}.0 * (recency_rank - 1) / industry_customers) as integer) as recency_score,
        cast(1 + floor({{ var('rfm_score_bins') }}.0 * (frequency_rank - 1) / industry_customers) as integer) as frequency_score,
        cast(1 + floor({{ var('rfm_score_bins') }}.0 * (monetary_rank - 1) / industry_customers) as integer) as monetary_score
    from ranked

),

segments as (

    select * from {{ ref('rfm_segments') }}

)

select
    scored.customer_key,
    scored.merchant_id,
    scored.customer_id,
    scored.industry,
    scored.recency_score,
    scored.frequency_score,
    scored.monetary_score,
    cast(scored.recency_score as {{ dbt.type_string() }})
        || cast(scored.frequency_score as {{ dbt.type_string() }})
        || cast(scored.monetary_score as {{ dbt.type_string() }}) as rfm_code,
    segments.rfm_segment
from scored
left join segments
    on scored.recency_score between segments.recency_score_min and segments.recency_score_max
    and scored.frequency_score between segments.frequency_score_min and segments.frequency_score_max
