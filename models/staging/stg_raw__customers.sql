with

checked as (

    select * from {{ ref('stg_raw__customers_checked') }}
    where quarantine_reason is null

),

renamed as (

    select
        ---------- ids
        customer_id,
        merchant_id,
        raw_row_id,

        ---------- strings
        acquisition_channel,
        industry,

        ---------- hashed personal data
        email_hash,
        phone_hash,

        ---------- booleans
        coalesce(cast(registered_at as date) > {{ as_of_date() }}, false) as is_after_as_of_date,

        ---------- dates and timestamps (UTC)
        registered_date,
        registered_at,

        ---------- lineage: the raw file the row came from
        source_file

    from checked

)

select * from renamed
