-- The per-reason quarantine counts add up to the quarantined rows of the
-- reconciliation, entity by entity (an entity with no quarantine has no
-- reason rows and must reconcile to zero).
with

by_reason as (
    select entity, sum(quarantined_rows) as quarantined_rows
    from {{ ref('quarantine_reasons') }}
    group by entity
)

select
    reconciliation.entity,
    reconciliation.quarantined_rows,
    coalesce(by_reason.quarantined_rows, 0) as sum_of_reasons
from {{ ref('row_reconciliation') }} as reconciliation
left join by_reason
    on reconciliation.entity = by_reason.entity
where reconciliation.quarantined_rows <> coalesce(by_reason.quarantined_rows, 0)
