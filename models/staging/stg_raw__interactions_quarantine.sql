select
    raw_row_id, quarantine_reason, interaction_id, customer_id, merchant_id, interaction_type,
    complaint_reason, raw_rating, raw_occurred_at, source_file
from {{ ref('stg_raw__interactions_checked') }}
where quarantine_reason is not null
