{#
  Incremental per-customer models. Between two builds as of a and b (b >= a;
  an earlier date is a full refresh, orchestration/incremental.py), a
  customer's per-customer rows (their orders in sequence, activity days,
  stage intervals, next stage change) can only change when the customer is
  in int_customers_to_recompute: new rows, rows dated in (a, b], or a stage
  change due in (a, b]. Every other customer's rows at b are their rows at a.

  A model recomputed that way is incremental (a table on adapters without
  incremental builds, see incremental_materialization) with the `append`
  strategy and this pre-hook: an incremental run first deletes the rows of
  the customers to recompute, then appends what its SQL computes for them
  (its inputs filtered with customers_to_recompute). Deleting by the set
  rather than by the new rows (delete+insert) also clears a customer whose
  recomputed rows are none. Pre-hook and insert run in one transaction.

  `key_columns`: the model's columns identifying the customer, either
  customer_key or merchant_id and customer_id; int_customers_to_recompute
  has all three. A model using these macros also names that model in a
  `-- depends_on:` comment: dbt parses with is_incremental() false and would
  not see the ref otherwise.
#}

{% macro delete_customers_to_recompute(key_columns=['customer_key']) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where exists (
            select 1 from {{ ref('int_customers_to_recompute') }} as recompute
            where
            {%- for column in key_columns %}
                {% if not loop.first %}and {% endif %}recompute.{{ column }} = {{ this }}.{{ column }}
            {%- endfor %}
        )
    {%- endif -%}
{%- endmacro %}

{# A condition on `customer_key_expression`: every customer in a full build, those to recompute in an incremental one. #}
{% macro customers_to_recompute(customer_key_expression) -%}
    {%- if is_incremental() -%}
        {{ customer_key_expression }} in (select customer_key from {{ ref('int_customers_to_recompute') }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
