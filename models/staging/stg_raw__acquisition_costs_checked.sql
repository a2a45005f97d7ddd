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

validated as (

    select
        *,
        case
            when acquisition_channel is null then 'missing_acquisition_channel'
            when spend_month is null then 'unparseable_month'
            when spend is null then 'invalid_spend'
            when spend < 0 then 'negative_spend'
        end as row_error
    from parsed

),

sequenced as (

    select
        *,
        row_number() over (
            partition by acquisition_channel, spend_month, row_error is null order by raw_row_id
        ) as key_occurrence,
        first_value(spend) over (
            partition by acquisition_channel, spend_month, row_error is null order by raw_row_id
        ) as first_spend
    from validated

)

select
    raw_row_id,
    acquisition_channel,
    spend_month,
    spend,
    case
        when row_error is not null then row_error
        when key_occurrence > 1 and spend = first_spend then 'exact_duplicate'
        when key_occurrence > 1 then 'duplicate_channel_month'
    end as quarantine_reason,
    source_file,
    raw_month,
    raw_spend
from sequenced
