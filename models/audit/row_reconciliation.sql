{#
  Every raw row lands in exactly one place: the clean staging model or its
  quarantine. One row per entity; the test on this model checks
  raw_rows = clean_rows + quarantined_rows. A raw CSV line the landing step
  could not parse (raw._rejected_lines) counts as a raw row and as a
  quarantined one.
#}

{% set entities = ['orders', 'customers', 'merchants', 'interactions', 'acquisition_costs'] %}

with

rejected as (

    select entity, count(*) as rejected_lines
    from {{ source('raw', '_rejected_lines') }}
    group by entity

),

counted as (
{% for entity in entities %}
    select
        '{{ entity }}' as entity,
        (select count(*) from {{ source('raw', entity) }}) as parsed_rows,
        (select count(*) from {{ ref('stg_raw__' ~ entity) }}) as clean_rows,
        (select count(*) from {{ ref('stg_raw__' ~ entity ~ '_quarantine') }}) as quarantined_rows
    {% if not loop.last %}union all{% endif %}
{% endfor %}
)

select
    counted.entity,
    counted.parsed_rows + coalesce(rejected.rejected_lines, 0) as raw_rows,
    counted.clean_rows,
    counted.quarantined_rows,
    coalesce(rejected.rejected_lines, 0) as rejected_lines
from counted
left join rejected
    on counted.entity = rejected.entity
