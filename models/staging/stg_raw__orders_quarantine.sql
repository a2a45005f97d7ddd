{#
  Every orders row that cannot be used, with its reason: the rows parsed from the
  raw file that staging rejected, and the raw lines the landing step could
  not parse at all (source_line_number and raw_line say where and what).
#}

with

checked as (

    select * from {{ ref('stg_raw__orders_checked') }}
    where quarantine_reason is not null

),

rejected_lines as (

    {{ rejected_lines('orders') }}

),

quarantined as (

    select
        raw_row_id,
        quarantine_reason,
        order_id,
        customer_id,
        merchant_id,
        order_status,
        currency_code,
        raw_amount,
        raw_cost,
        raw_ordered_at,
        source_file,
        cast(null as bigint) as source_line_number,
        cast(null as varchar) as raw_line
    from checked

    union all

    select
        raw_row_id,
        quarantine_reason,
        cast(null as varchar) as order_id,
        cast(null as varchar) as customer_id,
        cast(null as varchar) as merchant_id,
        cast(null as varchar) as order_status,
        cast(null as varchar) as currency_code,
        cast(null as varchar) as raw_amount,
        cast(null as varchar) as raw_cost,
        cast(null as varchar) as raw_ordered_at,
        source_file,
        source_line_number,
        raw_line
    from rejected_lines

)

select * from quarantined
