with

checked as (

    select * from {{ ref('stg_raw__interactions_checked') }}
    where quarantine_reason is null

),

renamed as (

    select
        ---------- ids
        interaction_id,
        customer_id,
        merchant_id,
        raw_row_id,

        ---------- strings
        interaction_type,
        complaint_reason,

        ---------- numerics
        rating,

        ---------- booleans
        coalesce(cast(occurred_at as date) > {{ as_of_date() }}, false) as is_after_as_of_date,

        ---------- dates and timestamps (UTC)
        occurred_date,
        occurred_at,

        ---------- lineage: the raw file the row came from
        source_file

    from checked

)

select * from renamed
