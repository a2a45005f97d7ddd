select raw_row_id, quarantine_reason, merchant_id, industry, merchant_name, source_file
from {{ ref('stg_raw__merchants_checked') }}
where quarantine_reason is not null
