{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key='raw_row_id',
    on_schema_change='fail',
    pre_hook="{{ reset_staging_after_full_landing('orders') }}"
) }}

{#
  Every raw order row, parsed, with the reason it cannot be used (or null).
  stg_raw__orders and stg_raw__orders_quarantine split this table, so each raw
  row lands in exactly one of them. Incremental: a run stages the rows of the
  raw files not staged yet (macros/incremental_staging.sql).
#}

with

source as (

    {{ raw_rows_to_stage('orders') }}

),

currencies as (

    select * from {{ ref('currencies') }}

),

parsed as (

    select
        ----------  ids
        _raw_row_id as raw_row_id,
        {{ normalise_id('order_id') }} as order_id,
        {{ normalise_id('customer_id') }} as customer_id,
        coalesce({{ normalise_id('merchant_id') }}, '{{ var("default_merchant_id") }}') as merchant_id,

        ---------- strings
        coalesce({{ normalise_label('status') }}, 'completed') as order_status,
        coalesce(nullif(upper(trim(currency)), ''), '{{ var("reporting_currency") }}') as currency_code,

        ---------- numerics
        {{ parse_money('amount') }} as amount,
        {{ parse_money('cost') }} as cost,

        ---------- timestamps
        {{ parse_timestamp_utc('ordered_at') }} as ordered_at,

        ---------- lineage: the source file, and the raw text kept for the quarantine
        _source_file as source_file,
        amount as raw_amount,
        cost as raw_cost,
        ordered_at as raw_ordered_at

    from source

),

validated as {{ materialized_cte() }} (

    select
        parsed.*,
        currencies.rate_to_reporting_currency,
        case
            when order_id is null then 'missing_order_id'
            when customer_id is null then 'missing_customer_id'
            when ordered_at is null then 'unparseable_ordered_at'
            {{ implausible_timestamp_branches('ordered_at') }}
            when amount is null then 'invalid_amount'
            when amount < 0 then 'negative_amount'
            when amount > {{ var('max_order_amount') }} then 'absurd_amount'
            when raw_cost is not null and trim(raw_cost) <> '' and cost is null then 'invalid_cost'
            when cost < 0 then 'negative_cost'
            when order_status not in ('completed', 'refunded', 'cancelled') then 'unknown_status'
            when currencies.currency_code is null then 'unknown_currency'
        end as row_error,
        {{ row_fingerprint(['customer_id', 'merchant_id', 'order_status', 'parsed.currency_code', 'amount', 'cost', 'ordered_at']) }}
            as content_fingerprint
    from parsed
    left join currencies
        on parsed.currency_code = currencies.currency_code

),

{{ with_staged_keys('validated', ['order_id']) }},

{{ quarantine_duplicate_keys('validated_with_staged', ['order_id'], 'duplicate_order_id') }}

select
    raw_row_id,
    order_id,
    customer_id,
    merchant_id,
    order_status,
    currency_code,
    amount,
    cost,
    cast(amount * rate_to_reporting_currency as decimal(18, 2)) as amount_reporting,
    cast(cost * rate_to_reporting_currency as decimal(18, 2)) as cost_reporting,
    ordered_at,
    cast(ordered_at as date) as ordered_date,
    quarantine_reason,
    content_fingerprint,
    source_file,
    case when quarantine_reason is not null then raw_amount end as raw_amount,
    case when quarantine_reason is not null then raw_cost end as raw_cost,
    case when quarantine_reason is not null then raw_ordered_at end as raw_ordered_at
from deduplicated
where not is_already_staged
