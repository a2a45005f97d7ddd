{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key='raw_row_id',
    on_schema_change='fail',
    pre_hook="{{ reset_staging_after_full_landing('customers') }}"
) }}

{#
  Every raw customer row, parsed, with the reason it cannot be used (or null).
  Personal data (email, phone) is hashed here and never leaves staging raw.
#}

with

source as (

    {{ raw_rows_to_stage('customers') }}

),

parsed as (

    select
        ---------- ids
        _raw_row_id as raw_row_id,
        {{ normalise_id('customer_id') }} as customer_id,
        coalesce({{ normalise_id('merchant_id') }}, '{{ var("default_merchant_id") }}') as merchant_id,

        ---------- strings
        coalesce({{ normalise_label('acquisition_channel') }}, 'unknown') as acquisition_channel,
        {{ normalise_label('industry') }} as industry,
        {{ hash_personal_data("nullif(lower(trim(email)), '')") }} as email_hash,
        {{ hash_personal_data("nullif(regexp_replace(phone, '[^0-9+]', '', 'g'), '')") }} as phone_hash,

        ---------- timestamps
        {{ parse_timestamp_utc('registered_at') }} as registered_at,

        ---------- lineage
        _source_file as source_file,
        registered_at as raw_registered_at

    from source

),

validated as {{ materialized_cte() }} (

    select
        *,
        case
            when customer_id is null then 'missing_customer_id'
            when registered_at is null then 'unparseable_registered_at'
            {{ implausible_timestamp_branches('registered_at') }}
        end as row_error,
        {{ row_fingerprint(['acquisition_channel', 'industry', 'email_hash', 'phone_hash', 'registered_at']) }}
            as content_fingerprint
    from parsed

),

{{ with_staged_keys('validated', ['merchant_id', 'customer_id']) }},

{{ quarantine_duplicate_keys('validated_with_staged', ['merchant_id', 'customer_id'], 'duplicate_customer_id') }}

select
    raw_row_id,
    customer_id,
    merchant_id,
    acquisition_channel,
    industry,
    email_hash,
    phone_hash,
    registered_at,
    cast(registered_at as date) as registered_date,
    quarantine_reason,
    content_fingerprint,
    source_file,
    case when quarantine_reason is not null then raw_registered_at end as raw_registered_at
from deduplicated
where not is_already_staged
