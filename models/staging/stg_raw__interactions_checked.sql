{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key='raw_row_id',
    on_schema_change='fail',
    pre_hook="{{ reset_staging_after_full_landing('interactions') }}"
) }}

with

source as (

    {{ raw_rows_to_stage('interactions') }}

),

reasons as (

    select * from {{ ref('complaint_reasons') }}

),

parsed as (

    select
        ---------- ids
        _raw_row_id as raw_row_id,
        {{ normalise_id('interaction_id') }} as source_interaction_id,
        {{ normalise_id('customer_id') }} as customer_id,
        coalesce({{ normalise_id('merchant_id') }}, '{{ var("default_merchant_id") }}') as merchant_id,

        ---------- strings
        {{ normalise_label('interaction_type') }} as interaction_type,
        {{ normalise_label('reason') }} as complaint_reason,

        ---------- numerics
        {{ try_cast("nullif(trim(rating), '')", 'decimal(4, 1)') }} as rating_value,

        ---------- timestamps
        {{ parse_timestamp_utc('occurred_at') }} as occurred_at,

        ---------- lineage
        _source_file as source_file,
        rating as raw_rating,
        occurred_at as raw_occurred_at

    from source

),

validated as (

    select
        parsed.*,
        case
            when customer_id is null then 'missing_customer_id'
            when occurred_at is null then 'unparseable_occurred_at'
            {{ implausible_timestamp_branches('occurred_at') }}
            when interaction_type is null then 'missing_interaction_type'
            when raw_rating is not null and trim(raw_rating) <> ''
                and (rating_value is null or rating_value not in (1, 2, 3, 4, 5)) then 'invalid_rating'
            when complaint_reason is not null and reasons.reason is null then 'unknown_complaint_reason'
        end as row_error,
        {{ row_fingerprint(['customer_id', 'merchant_id', 'interaction_type', 'complaint_reason', 'rating_value', 'occurred_at']) }}
            as content_fingerprint
    from parsed
    left join reasons
        on parsed.complaint_reason = reasons.reason

),

keyed as {{ materialized_cte() }} (

    -- with an interaction_id, the first row of each id wins; without one,
    -- only rows identical in every field are treated as duplicates
    select
        *,
        coalesce(source_interaction_id, 'fingerprint-' || cast(content_fingerprint as {{ dbt.type_string() }})) as dedupe_key
    from validated

),

{{ with_staged_keys('keyed', ['dedupe_key']) }},

{{ quarantine_duplicate_keys('keyed_with_staged', ['dedupe_key'], 'duplicate_interaction_id') }}

select
    raw_row_id,
    coalesce(source_interaction_id, 'row-' || cast(raw_row_id as {{ dbt.type_string() }})) as interaction_id,
    customer_id,
    merchant_id,
    interaction_type,
    case when interaction_type = 'complaint' then coalesce(complaint_reason, 'other') end as complaint_reason,
    cast(rating_value as integer) as rating,
    occurred_at,
    cast(occurred_at as date) as occurred_date,
    quarantine_reason,
    dedupe_key,
    content_fingerprint,
    source_file,
    case when quarantine_reason is not null then raw_rating end as raw_rating,
    case when quarantine_reason is not null then raw_occurred_at end as raw_occurred_at
from deduplicated
where not is_already_staged
