-- The per-file reconciliation adds up to the per-entity one, column by
-- column: no file is missing or counted twice. An entity with no file has no
-- per-file row and must reconcile to zero.
with

per_file as (
    select
        entity,
        sum(raw_rows) as raw_rows,
        sum(clean_rows) as clean_rows,
        sum(quarantined_rows) as quarantined_rows,
        sum(rejected_lines) as rejected_lines
    from {{ ref('row_reconciliation_per_file') }}
    group by entity
)

select
    reconciliation.entity,
    reconciliation.raw_rows,
    coalesce(per_file.raw_rows, 0) as sum_of_files_raw_rows,
    reconciliation.clean_rows,
    coalesce(per_file.clean_rows, 0) as sum_of_files_clean_rows,
    reconciliation.quarantined_rows,
    coalesce(per_file.quarantined_rows, 0) as sum_of_files_quarantined_rows,
    reconciliation.rejected_lines,
    coalesce(per_file.rejected_lines, 0) as sum_of_files_rejected_lines
from {{ ref('row_reconciliation') }} as reconciliation
full outer join per_file
    on reconciliation.entity = per_file.entity
where reconciliation.entity is null
    or reconciliation.raw_rows <> coalesce(per_file.raw_rows, 0)
    or reconciliation.clean_rows <> coalesce(per_file.clean_rows, 0)
    or reconciliation.quarantined_rows <> coalesce(per_file.quarantined_rows, 0)
    or reconciliation.rejected_lines <> coalesce(per_file.rejected_lines, 0)
