with

checked as (

    select * from {{ ref('stg_raw__acquisition_costs_checked') }}
    where quarantine_reason is null

),

renamed as (

    select
        ---------- ids
        acquisition_channel,
        raw_row_id,

        ---------- numerics (reporting currency)
        spend,

        ---------- dates
        spend_month,

        ---------- lineage: the raw file the row came from
        source_file

    from checked

)

select * from renamed
