{{ config(materialized='table') }}

with

source as (

    select * from {{ source('raw', 'merchants') }}

),

parsed as (

    select
        _raw_row_id as raw_row_id,
        {{ normalise_id('merchant_id') }} as merchant_id,
        {{ normalise_label('industry') }} as industry,
        nullif(trim(name), '') as merchant_name,
        _source_file as source_file
    from source

),

validated as (

    select
        *,
        case when merchant_id is null then 'missing_merchant_id' end as row_error,
        {{ row_fingerprint(['industry', 'merchant_name']) }} as content_fingerprint
    from parsed

),

sequenced as (

    select
        *,
        row_number() over (partition by merchant_id, row_error is null order by raw_row_id) as key_occurrence,
        first_value(content_fingerprint) over (
            partition by merchant_id, row_error is null order by raw_row_id
        ) as first_content_fingerprint
    from validated

)

select
    raw_row_id,
    merchant_id,
    industry,
    merchant_name,
    case
        when row_error is not null then row_error
        when key_occurrence > 1 and content_fingerprint = first_content_fingerprint then 'exact_duplicate'
        when key_occurrence > 1 then 'duplicate_merchant_id'
    end as quarantine_reason,
    source_file
from sequenced
