{#
  Every raw row lands in exactly one place: the clean staging model or its
  quarantine. One row per entity; the test on this model checks
  raw_rows = clean_rows + quarantined_rows.
#}

{% set entities = ['orders', 'customers', 'merchants', 'interactions', 'acquisition_costs'] %}

{% for entity in entities %}
select
    '{{ entity }}' as entity,
    (select count(*) from {{ source('raw', entity) }}) as raw_rows,
    (select count(*) from {{ ref('stg_raw__' ~ entity) }}) as clean_rows,
    (select count(*) from {{ ref('stg_raw__' ~ entity ~ '_quarantine') }}) as quarantined_rows
{% if not loop.last %}union all{% endif %}
{% endfor %}
