with

checked as (

    select * from {{ ref('stg_raw__orders_checked') }}
    where quarantine_reason is null

),

renamed as (

    select
        ---------- ids
        order_id,
        customer_id,
        merchant_id,
        raw_row_id,

        ---------- strings
        order_status,
        currency_code,

        ---------- numerics (amount_/cost_reporting: converted to the reporting currency)
        amount,
        cost,
        amount_reporting,
        cost_reporting,

        ---------- booleans
        order_status = 'completed' as is_completed,
        coalesce(cast(ordered_at as date) > {{ as_of_date() }}, false) as is_after_as_of_date,

        ---------- dates and timestamps (UTC)
        ordered_date,
        ordered_at,

        ---------- lineage: the raw file the row came from
        source_file

    from checked

)

select * from renamed
