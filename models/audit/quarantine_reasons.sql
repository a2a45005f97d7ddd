{# Quarantined rows per entity and reason: what to fix in the source systems. #}

{% set entities = ['orders', 'customers', 'merchants', 'interactions', 'acquisition_costs'] %}

with

quarantined as (
{% for entity in entities %}
    select '{{ entity }}' as entity, quarantine_reason
    from {{ ref('stg_raw__' ~ entity ~ '_quarantine') }}
    {% if not loop.last %}union all{% endif %}
{% endfor %}
)

select
    entity,
    quarantine_reason,
    count(*) as quarantined_rows
from quarantined
group by entity, quarantine_reason
