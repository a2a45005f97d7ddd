{#
  Every acquisition_costs row that cannot be used, with its reason: the rows parsed from the
  raw file that staging rejected, and the raw lines the landing step could
  not parse at all (source_line_number and raw_line say where and what).
#}

with

checked as (

    select * from {{ ref('stg_raw__acquisition_costs_checked') }}
    where quarantine_reason is not null

),

rejected_lines as (

    {{ rejected_lines('acquisition_costs') }}

),

quarantined as (

    select
        raw_row_id,
        quarantine_reason,
        acquisition_channel,
        raw_month,
        raw_spend,
        source_file,
        cast(null as bigint) as source_line_number,
        cast(null as varchar) as raw_line
    from checked

    union all

    select
        raw_row_id,
        quarantine_reason,
        cast(null as varchar) as acquisition_channel,
        cast(null as varchar) as raw_month,
        cast(null as varchar) as raw_spend,
        source_file,
        source_line_number,
        raw_line
    from rejected_lines

)

select * from quarantined
