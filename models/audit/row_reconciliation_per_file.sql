{#
  row_reconciliation, one level down: one row per raw entity and source file
  (a folder such as orders/ holds several). Every count is grouped by the file
  the row came from: raw.<entity>._source_file, raw._rejected_lines, and the
  source_file column the clean and quarantine models carry. A file with no
  data row (header only) has no row here. The tests on this model check
  raw_rows = clean_rows + quarantined_rows on every row, and that the files
  add up to row_reconciliation's totals.
#}

{% set entities = ['orders', 'customers', 'merchants', 'interactions', 'acquisition_costs'] %}

with

parsed as (
{% for entity in entities %}
    select '{{ entity }}' as entity, _source_file as source_file, count(*) as parsed_rows
    from {{ source('raw', entity) }}
    group by _source_file
    {% if not loop.last %}union all{% endif %}
{% endfor %}
),

rejected as (

    select entity, _source_file as source_file, count(*) as rejected_lines
    from {{ source('raw', '_rejected_lines') }}
    group by entity, _source_file

),

clean as (
{% for entity in entities %}
    select '{{ entity }}' as entity, source_file, count(*) as clean_rows
    from {{ ref('stg_raw__' ~ entity) }}
    group by source_file
    {% if not loop.last %}union all{% endif %}
{% endfor %}
),

quarantined as (
{% for entity in entities %}
    select '{{ entity }}' as entity, source_file, count(*) as quarantined_rows
    from {{ ref('stg_raw__' ~ entity ~ '_quarantine') }}
    group by source_file
    {% if not loop.last %}union all{% endif %}
{% endfor %}
),

files as (

    select entity, source_file from parsed
    union distinct
    select entity, source_file from rejected
    union distinct
    select entity, source_file from clean
    union distinct
    select entity, source_file from quarantined

)

select
    files.entity,
    files.source_file,
    coalesce(parsed.parsed_rows, 0) + coalesce(rejected.rejected_lines, 0) as raw_rows,
    coalesce(clean.clean_rows, 0) as clean_rows,
    coalesce(quarantined.quarantined_rows, 0) as quarantined_rows,
    coalesce(rejected.rejected_lines, 0) as rejected_lines
from files
left join parsed
    on files.entity = parsed.entity
    and files.source_file is not distinct from parsed.source_file
left join rejected
    on files.entity = rejected.entity
    and files.source_file is not distinct from rejected.source_file
left join clean
    on files.entity = clean.entity
    and files.source_file is not distinct from clean.source_file
left join quarantined
    on files.entity = quarantined.entity
    and files.source_file is not distinct from quarantined.source_file
