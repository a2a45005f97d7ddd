{#
  Validity intervals [valid_from, valid_to) per entity (partition_by columns)
  tile the entity's timeline: every interval is non-empty
  (valid_from < valid_to), each interval starts exactly where the previous
  one ended (no gap, no overlap), and exactly one interval per entity is open
  (valid_to is null), the last one. Returns one row per offending interval.
#}
{% test contiguous_intervals(model, partition_by, valid_from='valid_from', valid_to='valid_to') %}
{%- set partition = partition_by | join(', ') -%}
with

ordered as (

    select
        {{ partition }},
        {{ valid_from }} as interval_start,
        {{ valid_to }} as interval_end,
        lag({{ valid_to }}) over (partition by {{ partition }} order by {{ valid_from }}) as previous_interval_end,
        row_number() over (partition by {{ partition }} order by {{ valid_from }}) as interval_number,
        row_number() over (partition by {{ partition }} order by {{ valid_from }} desc) as intervals_after,
        count(case when {{ valid_to }} is null then 1 end) over (partition by {{ partition }}) as open_intervals
    from {{ model }}

)

select
    *,
    case
        when interval_start is null then 'missing valid_from'
        when interval_end is not null and interval_start >= interval_end then 'empty or reversed interval'
        when interval_number > 1 and previous_interval_end is null then 'open interval before another interval'
        when interval_number > 1 and previous_interval_end <> interval_start then 'gap or overlap with previous interval'
        when open_intervals <> 1 then 'not exactly one open interval'
        when intervals_after = 1 and interval_end is not null then 'last interval is not open'
    end as failure
from ordered
where interval_start is null
    or (interval_end is not null and interval_start >= interval_end)
    or (interval_number > 1 and (previous_interval_end is null or previous_interval_end <> interval_start))
    or open_intervals <> 1
    or (intervals_after = 1 and interval_end is not null)
{% endtest %}
