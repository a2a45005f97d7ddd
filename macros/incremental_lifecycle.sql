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

{#
  The landing's plan for this build when it is incremental as of AS_OF_DATE
  (one row: previous_as_of_date, as_of_date), else no row. The one reading of
  raw._build_plan: int_customers_to_recompute and int_periods_to_recompute
  both fall back to recomputing everything when it has no row. It ends with
  its where clause, so a caller may add a condition.
#}
{% macro incremental_build_plan() -%}
    select previous_as_of_date, as_of_date
    from {{ source('raw', '_build_plan') }}
    where path = 'incremental'
        and as_of_date = {{ as_of_date() }}
        and previous_as_of_date is not null
{%- endmacro %}

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

{#
  Two ways to keep only the customers to recompute; both keep every customer
  outside an incremental run. customers_to_recompute is a condition, for a
  filter on one table (DuckDB runs it as a semi join). Where the filtered
  customers are then joined to a large table (their orders, interactions),
  use join_customers_to_recompute on the customers instead: as an inner join
  the planner sees how few customers remain and builds its hash table on
  them, while with the semi join it built on the orders first (3x slower at
  10M orders).
#}
{% macro join_customers_to_recompute(customer_key_expression) -%}
    {%- if is_incremental() %}
    inner join (
        select customer_key as recomputed_customer_key
        from {{ ref('int_customers_to_recompute') }}
    ) as customers_to_recompute
        on {{ customer_key_expression }} = customers_to_recompute.recomputed_customer_key
    {%- endif -%}
{%- endmacro %}

{% macro customers_to_recompute(customer_key_expression) -%}
    {%- if is_incremental() -%}
        {{ customer_key_expression }} in (select customer_key from {{ ref('int_customers_to_recompute') }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#
  The configuration every per-customer incremental model shares, in one
  place: `{{ per_customer_incremental(['customer_key']) }}` at the top of the
  model. It also records the dependency on int_customers_to_recompute, which
  the pre-hook and the filter read only in incremental runs.
#}
{% macro per_customer_incremental(key_columns=['customer_key']) -%}
    {{ config(
        materialized=incremental_materialization(),
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_customers_to_recompute(" ~ (key_columns | tojson) ~ ") }}"
    ) }}
    -- depends_on: {{ ref('int_customers_to_recompute') }}
{%- endmacro %}
