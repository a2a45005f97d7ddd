{#
  Every customers row that cannot be used, with its reason: the rows parsed from the
  raw file that staging rejected, and the raw lines the landing step could
  not parse at all (source_line_number and raw_line say where and what).
#}

with

checked as (

    select * from {{ ref('stg_raw__customers_checked') }}
    where quarantine_reason is not null

),

rejected_lines as (

    {{ rejected_lines('customers') }}

),

quarantined as (

    select
        raw_row_id,
        quarantine_reason,
        customer_id,
        merchant_id,
        raw_registered_at,
        source_file,
        cast(null as bigint) as source_line_number,
        cast(null as varchar) as raw_line
    from checked

    union all

    select
        raw_row_id,
        quarantine_reason,
        cast(null as varchar) as customer_id,
        cast(null as varchar) as merchant_id,
        cast(null as varchar) as raw_registered_at,
        source_file,
        source_line_number,
        raw_line
    from rejected_lines

)

select * from quarantined
