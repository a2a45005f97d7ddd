{{ customer_list_incremental() }}
{#
  One row per customer (merchant_id, customer_id) with the lifecycle windows
  that apply to them: the merchant's override where it sets a value, else the
  row of industry_windows for the customer's resolved industry (which
  int_customers_unioned already maps to 'default' when missing or unknown).
  customer_key is the integer key the heavy per-customer passes downstream
  join and partition on: a hash of (merchant_id, customer_id) that never
  changes for a customer across builds (macros/customer_key.sql), so
  incremental per-customer models can keep rows keyed by it. Incremental
  like int_customers_unioned: a daily build recomputes only the customers of
  int_customers_with_new_rows.
#}

with

customers as (

    select unioned.*
    from {{ ref('int_customers_unioned') }} as unioned
    {{- join_customers_with_new_rows('unioned.merchant_id', 'unioned.customer_id') }}

),

industry_windows as (

    select * from {{ ref('industry_windows') }}

),

overrides as (

    select * from {{ ref('merchant_window_overrides') }}

),

margin_rates as (

    select * from {{ ref('industry_margin_rates') }}

),

default_margin_rate as (

    select margin_rate from margin_rates where industry = 'default'

),

windowed as (

    select
        ---------- ids
        {{ stable_customer_key('customers.merchant_id', 'customers.customer_id') }} as customer_key,
        customers.merchant_id,
        customers.customer_id,

        ---------- strings
        customers.industry,

        ---------- windows: merchant override, else the industry row
        coalesce(overrides.silent_after_days, industry_windows.silent_after_days) as silent_after_days,
        coalesce(overrides.churned_after_days, industry_windows.churned_after_days) as churned_after_days,
        coalesce(overrides.counts_interactions, industry_windows.counts_interactions) as counts_interactions,
        coalesce(overrides.loyal_min_orders_in_window, industry_windows.loyal_min_orders_in_window) as loyal_min_orders_in_window,
        coalesce(overrides.intervention_lead_days, industry_windows.intervention_lead_days) as intervention_lead_days,

        ---------- numerics
        coalesce(margin_rates.margin_rate, (select margin_rate from default_margin_rate)) as margin_rate,

        ---------- booleans
        overrides.merchant_id is not null as has_merchant_override,
        customers.is_unknown_industry,
        customers.is_derived_from_orders,

        ---------- dates and timestamps (UTC)
        customers.registered_date,
        customers.registered_at

    from customers
    inner join industry_windows
        on customers.industry = industry_windows.industry
    left join overrides
        on customers.merchant_id = overrides.merchant_id
    left join margin_rates
        on customers.industry = margin_rates.industry

)

select * from windowed
