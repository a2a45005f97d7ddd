with

checked as (

    select * from {{ ref('stg_raw__merchants_checked') }}
    where quarantine_reason is null

),

renamed as (

    select
        ---------- ids
        merchant_id,
        raw_row_id,

        ---------- strings
        industry,
        merchant_name,

        ---------- lineage: the raw file the row came from
        source_file

    from checked

)

select * from renamed
