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

validated as {{ materialized_cte() }} (

    select
        *,
        case when merchant_id is null then 'missing_merchant_id' end as row_error,
        {{ row_fingerprint(['industry', 'merchant_name']) }} as content_fingerprint
    from parsed

),

{{ quarantine_duplicate_keys('validated', ['merchant_id'], 'duplicate_merchant_id') }}

select
    raw_row_id,
    merchant_id,
    industry,
    merchant_name,
    quarantine_reason,
    source_file
from deduplicated
