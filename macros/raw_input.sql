{#
  Helpers for the staging of raw input lines and timestamps.
#}

{#
  The raw lines of one entity that the landing step could not parse (wrong
  field count, unclosed quote, invalid encoding, NUL byte): raw._rejected_lines.
  Every quarantine model is this one macro (staging's rejected rows plus these
  lines), so raw = clean + quarantined counts them.
  Their raw_row_id is negative (minus the line number, plus 10^12 per file of
  a folder), so it never collides with a parsed row's.
#}
{% macro quarantine_with_rejected_lines(entity, columns) -%}
{#- The body of stg_raw__<entity>_quarantine: the rows staging rejected
    (stg_raw__<entity>_checked with a reason) and the raw lines the landing step
    could not parse at all (raw._rejected_lines, whose entity columns are null
    and whose source_line_number and raw_line say where and what). `columns`:
    the entity's columns, in the order the quarantine publishes them. -#}
with

checked as (

    select * from {{ ref('stg_raw__' ~ entity ~ '_checked') }}
    where quarantine_reason is not null

),

rejected_lines as (

    select
        _raw_row_id as raw_row_id,
        reason as quarantine_reason,
        _source_file as source_file,
        line_number as source_line_number,
        raw_line
    from {{ source('raw', '_rejected_lines') }}
    where entity = '{{ entity }}'

),

quarantined as (

    select
        raw_row_id,
        quarantine_reason,
        {%- for column in columns %}
        {{ column }},
        {%- endfor %}
        source_file,
        cast(null as bigint) as source_line_number,
        cast(null as {{ dbt.type_string() }}) as raw_line
    from checked

    union all

    select
        raw_row_id,
        quarantine_reason,
        {%- for column in columns %}
        cast(null as {{ dbt.type_string() }}) as {{ column }},
        {%- endfor %}
        source_file,
        source_line_number,
        raw_line
    from rejected_lines

)

select * from quarantined
{%- endmacro %}

{#
  Two branches of a quarantine CASE for a parsed timestamp that cannot be a
  real event: a placeholder an export writes for "unknown" (var
  placeholder_dates: 1900-01-01, 1970-01-01, 9999-12-31) gives
  'placeholder_<column>', anything before the var min_plausible_date gives
  'implausible_<column>'. Use inside `case ... end` after the null check.
#}
{% macro implausible_timestamp_branches(column) -%}
    when cast({{ column }} as date) in (
        {%- for value in var('placeholder_dates') %}cast('{{ value }}' as date){% if not loop.last %}, {% endif %}{% endfor -%}
    ) then 'placeholder_{{ column }}'
    when {{ column }} < cast('{{ var("min_plausible_date") }}' as {{ api.Column.translate_type('timestamp') }})
        then 'implausible_{{ column }}'
{%- endmacro %}
