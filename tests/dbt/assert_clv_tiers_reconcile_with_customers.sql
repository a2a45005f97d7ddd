-- Reconciliation: marts.clv_tiers counts and values equal marts.customers
-- per industry and tier, shares of customers sum to 1 per industry, and the
-- tier budgets add up to var clv_budget_total (cent rounding allowed).
with tiers as (
    select industry, tier, customers, value
    from {{ ref('clv_tiers') }}
),

customers as (
    select industry, tier, count(*) as customers, sum(historical_margin) as value
    from {{ ref('customers') }}
    where tier is not null
    group by industry, tier
),

mismatched_tiers as (
    select tiers.industry, tiers.tier, 'counts or value differ from customers' as failure
    from tiers
    left join customers
        on tiers.industry = customers.industry
        and tiers.tier = customers.tier
    where tiers.customers <> coalesce(customers.customers, 0)
        or tiers.value <> coalesce(customers.value, 0)
),

industry_shares as (
    select industry, cast(null as {{ dbt.type_string() }}) as tier, 'shares of customers do not sum to 1' as failure
    from {{ ref('clv_tiers') }}
    group by industry
    having abs(sum(share_of_customers) - 1) > 0.00001
),

budget as (
    select cast(null as {{ dbt.type_string() }}) as industry, cast(null as {{ dbt.type_string() }}) as tier,
        'tier budgets do not add up to clv_budget_total' as failure
    from {{ ref('clv_tiers') }}
    having sum(value) > 0
        and abs(sum(tier_budget) - {{ var('clv_budget_total') }}) > 0.01 * count(*)
)

select * from mismatched_tiers
union all
select * from industry_shares
union all
select * from budget
