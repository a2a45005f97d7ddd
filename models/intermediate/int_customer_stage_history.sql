{{ config(materialized='view') }}
{#
  The lifecycle stage of every customer as contiguous intervals
  [valid_from, valid_to) up to AS_OF_DATE: int_customer_stage_intervals
  (where the stage rule is evaluated) with the customer's ids and the stage
  labels. A view: marts.customer_stage_history publishes it as a table, and
  the models that need stages by id and label (int_customer_lifecycles,
  int_churn_reasons_per_week, marts.stage_transitions) read it here, so the
  labels and ids are joined in one place without a second copy on disk.
#}

with

intervals as (

    select * from {{ ref('int_customer_stage_intervals') }}

),

windowed_customers as (

    select customer_key, merchant_id, customer_id, industry
    from {{ ref('int_customers_windowed') }}

)

select
    ---------- ids
    windowed_customers.merchant_id,
    windowed_customers.customer_id,

    ---------- strings
    windowed_customers.industry,
    {{ lifecycle_stage_name('intervals.stage_code') }} as lifecycle_stage,
    {{ lifecycle_stage_name('intervals.previous_stage_code') }} as previous_stage,

    ---------- booleans
    intervals.valid_to is null as is_current,

    ---------- dates
    intervals.valid_from,
    intervals.valid_to

from intervals
inner join windowed_customers
    on intervals.customer_key = windowed_customers.customer_key
