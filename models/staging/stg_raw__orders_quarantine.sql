{#
  Every orders row that cannot be used, with its reason: the rows parsed from the
  raw file that staging rejected, and the raw lines the landing step could
  not parse at all (source_line_number and raw_line say where and what).
#}

{{ quarantine_with_rejected_lines('orders', [
    'order_id',
    'customer_id',
    'merchant_id',
    'order_status',
    'currency_code',
    'raw_amount',
    'raw_cost',
    'raw_ordered_at'
]) }}
