{#
  CLV tiers per industry: how many customers and how much realised value
  each tier holds, and the budget the articles' split suggests for it.
  One row per industry (with at least one purchasing customer) and tier
  (all four tiers, also when empty). Prospects are not tiered.

    value              sum of historical_margin (realised margin, reporting currency)
    predicted_value    sum of predicted_clv (margin expected over the CLV horizon)
    net_predicted_value sum of net_clv (predicted_clv - acquisition - retention cost)
    share_of_customers customers / tiered customers of the industry
    share_of_value     value / value of the industry
    industry_budget    var clv_budget_total x the industry's share of all realised margin
    budget_share       the tier's share (seeds/clv_tier_budget_shares.csv, 80/15/4/1)
    tier_budget        industry_budget x budget_share
    suggested_budget_per_customer = tier_budget / customers (null for an empty tier)
#}

with

customers as (

    select industry, tier, historical_value, historical_margin, predicted_clv, net_clv
    from {{ ref('int_customers_scored') }}
    where tier is not null

),

shares as (

    select tier, budget_share, tier_order from {{ ref('clv_tier_budget_shares') }}

),

industries as (

    select
        industry,
        count(*) as industry_customers,
        sum(historical_margin) as industry_value,
        sum(predicted_clv) as industry_predicted_value
    from customers
    group by industry

),

totals as (

    select sum(historical_margin) as total_value from customers

),

per_tier as (

    select
        industry,
        tier,
        count(*) as customers,
        sum(historical_value) as historical_value,
        sum(historical_margin) as value,
        sum(predicted_clv) as predicted_value,
        sum(net_clv) as net_predicted_value,
        count(predicted_clv) as predicted_customers
    from customers
    group by industry, tier

),

spine as (

    select
        industries.industry,
        industries.industry_customers,
        industries.industry_value,
        industries.industry_predicted_value,
        shares.tier,
        shares.tier_order,
        shares.budget_share,
        {{ var('clv_budget_total') }} * case
            when totals.total_value > 0 then 1.0 * industries.industry_value / totals.total_value
        end as industry_budget
    from industries
    cross join shares
    cross join totals

)

select
    ---------- strings
    spine.industry,
    spine.tier,

    ---------- numerics
    cast(spine.tier_order as integer) as tier_order,
    cast(coalesce(per_tier.customers, 0) as bigint) as customers,
    cast(1.0 * coalesce(per_tier.customers, 0) / spine.industry_customers as decimal(9, 6)) as share_of_customers,
    cast(coalesce(per_tier.value, 0) as decimal(18, 2)) as value,
    cast(case when spine.industry_value <> 0 then coalesce(per_tier.value, 0) / spine.industry_value end
        as decimal(9, 6)) as share_of_value,
    cast(coalesce(per_tier.historical_value, 0) as decimal(18, 2)) as historical_value,
    cast(coalesce(per_tier.predicted_customers, 0) as bigint) as predicted_customers,
    cast(coalesce(per_tier.predicted_value, 0) as decimal(18, 2)) as predicted_value,
    cast(case
        when spine.industry_predicted_value <> 0
            then coalesce(per_tier.predicted_value, 0) / spine.industry_predicted_value
    end as decimal(9, 6)) as share_of_predicted_value,
    cast(coalesce(per_tier.net_predicted_value, 0) as decimal(18, 2)) as net_predicted_value,
    cast(spine.budget_share as decimal(6, 4)) as budget_share,
    cast(spine.industry_budget as decimal(18, 2)) as industry_budget,
    cast(spine.industry_budget * spine.budget_share as decimal(18, 2)) as tier_budget,
    cast(spine.industry_budget * spine.budget_share / nullif(per_tier.customers, 0) as decimal(18, 2))
        as suggested_budget_per_customer,
    {{ as_of_date() }} as as_of_date

from spine
left join per_tier
    on spine.industry = per_tier.industry
    and spine.tier = per_tier.tier
