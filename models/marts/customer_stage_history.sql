{{ per_customer_incremental(['merchant_id', 'customer_id']) }}
{#
  The lifecycle stage of every customer as contiguous intervals
  [valid_from, valid_to) up to AS_OF_DATE, for BI tools: the view
  int_customer_stage_history (intervals, ids and stage labels) as a table.
  Incremental like the intervals it publishes: a daily build rewrites only
  the customers in int_customers_to_recompute (macros/incremental_lifecycle.sql).
#}

select history.*
from {{ ref('int_customer_stage_history') }} as history
{%- if is_incremental() %}
where exists (
    select 1 from {{ ref('int_customers_to_recompute') }} as recompute
    where recompute.merchant_id = history.merchant_id
        and recompute.customer_id = history.customer_id
)
{%- endif %}
