select
    raw_row_id,
    quarantine_reason,
    order_id,
    customer_id,
    merchant_id,
    order_status,
    currency_code,
    raw_amount,
    raw_cost,
    raw_ordered_at,
    source_file
from {{ ref('stg_raw__orders_checked') }}
where quarantine_reason is not null
