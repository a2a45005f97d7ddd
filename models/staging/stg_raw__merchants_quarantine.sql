{#
  Every merchants row that cannot be used, with its reason: the rows parsed from the
  raw file that staging rejected, and the raw lines the landing step could
  not parse at all (source_line_number and raw_line say where and what).
#}

{{ quarantine_with_rejected_lines('merchants', [
    'merchant_id',
    'industry',
    'merchant_name'
]) }}
