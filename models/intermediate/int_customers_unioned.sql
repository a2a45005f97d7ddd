{{ customer_list_incremental() }}
{#
  One row per customer key (merchant_id, customer_id) known as of AS_OF_DATE:
  the customers file, plus customers seen only in orders (registered at their
  first order). Industry is resolved merchant -> customer -> 'default'; an
  industry not listed in industry_windows falls back to 'default' and the
  audit model unknown_industries lists the customer. Incremental: a daily
  build recomputes only the customers of int_customers_with_new_rows
  (macros/incremental_lifecycle.sql, customer_list_incremental).
#}

with

registered as (

    select merchant_id, customer_id, registered_at, acquisition_channel, industry
    from {{ ref('stg_raw__customers') }}
    {{- join_customers_with_new_rows('merchant_id', 'customer_id') }}
    where not is_after_as_of_date

),

ordering_customers as (

    select merchant_id, customer_id, min(ordered_at) as first_ordered_at
    from {{ ref('stg_raw__orders') }}
    {{- join_customers_with_new_rows('merchant_id', 'customer_id') }}
    where not is_after_as_of_date
    group by merchant_id, customer_id

),

derived as (

    select
        ordering_customers.merchant_id,
        ordering_customers.customer_id,
        ordering_customers.first_ordered_at as registered_at,
        'unknown' as acquisition_channel,
        cast(null as {{ dbt.type_string() }}) as industry
    from ordering_customers
    left join registered
        on ordering_customers.merchant_id = registered.merchant_id
        and ordering_customers.customer_id = registered.customer_id
    where registered.customer_id is null

),

unioned as (

    select *, false as is_derived_from_orders from registered
    union all
    select *, true as is_derived_from_orders from derived

),

merchants as (

    select merchant_id, industry from {{ ref('stg_raw__merchants') }}

),

windows as (

    select industry from {{ ref('industry_windows') }}

),

resolved as (

    select
        unioned.merchant_id,
        unioned.customer_id,
        unioned.registered_at,
        cast(unioned.registered_at as date) as registered_date,
        unioned.acquisition_channel,
        unioned.is_derived_from_orders,
        coalesce(merchants.industry, unioned.industry) as source_industry,
        case
            when merchants.industry is not null then 'merchant'
            when unioned.industry is not null then 'customer'
            else 'none'
        end as industry_source
    from unioned
    left join merchants
        on unioned.merchant_id = merchants.merchant_id

)

select
    resolved.*,
    coalesce(windows.industry, 'default') as industry,
    windows.industry is null and resolved.source_industry is not null as is_unknown_industry
from resolved
left join windows
    on resolved.source_industry = windows.industry
