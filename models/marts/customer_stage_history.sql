{#
  The lifecycle stage of every customer as contiguous intervals
  [valid_from, valid_to) up to AS_OF_DATE, for BI tools: the view
  int_customer_stage_history (intervals, ids and stage labels) as a table.
#}

select * from {{ ref('int_customer_stage_history') }}
