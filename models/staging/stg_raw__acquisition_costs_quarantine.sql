select raw_row_id, quarantine_reason, acquisition_channel, raw_month, raw_spend, source_file
from {{ ref('stg_raw__acquisition_costs_checked') }}
where quarantine_reason is not null
