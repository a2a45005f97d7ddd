select
    raw_row_id,
    quarantine_reason,
    customer_id,
    merchant_id,
    raw_registered_at,
    source_file
from {{ ref('stg_raw__customers_checked') }}
where quarantine_reason is not null
