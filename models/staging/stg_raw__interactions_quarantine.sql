{#
  Every interactions row that cannot be used, with its reason: the rows parsed from the
  raw file that staging rejected, and the raw lines the landing step could
  not parse at all (source_line_number and raw_line say where and what).
#}

{{ quarantine_with_rejected_lines('interactions', [
    'interaction_id',
    'customer_id',
    'merchant_id',
    'interaction_type',
    'complaint_reason',
    'raw_rating',
    'raw_occurred_at'
]) }}
