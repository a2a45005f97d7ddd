{{ config(materialized='table') }}

with

source as (

    select * from {{ source('raw', 'acquisition_costs') }}

),

parsed as (

    select
        _raw_row_id as raw_row_id,
        {{ normalise_label('acquisition_channel') }} as acquisition_channel,
        cast({{ dbt.date_trunc('month', parse_timestamp_utc('month')) }} as date) as spend_month,
        {{ parse_money('spend') }} as spend,
        _source_file as source_file,
        month as raw_month,
        spend as raw_spend
    from source

),

validated as {{ materialized_cte() }} (

    select
        *,
        case
            when acquisition_channel is null then 'missing_acquisition_channel'
            when spend_month is null then 'unparseable_month'
            when spend is null then 'invalid_spend'
            when spend < 0 then 'negative_spend'
        end as row_error,
        {{ row_fingerprint(['spend']) }} as content_fingerprint
    from parsed

),

{{ quarantine_duplicate_keys('validated', ['acquisition_channel', 'spend_month'], 'duplicate_channel_month') }}

select
    raw_row_id,
    acquisition_channel,
    spend_month,
    spend,
    quarantine_reason,
    source_file,
    case when quarantine_reason is not null then raw_month end as raw_month,
    case when quarantine_reason is not null then raw_spend end as raw_spend
from deduplicated
