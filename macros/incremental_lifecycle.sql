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

{#
  Per-customer models as of a date that moves less often than AS_OF_DATE
  (the CLV fit date, var clv_refit_every): `{{ per_customer_incremental_as_of(
  ['merchant_id', 'customer_id'], 'fit_date', 'clv_fit_date') }}` (the
  date column and the macro giving the date it must hold). While the stored
  rows are as of that same date, a customer's row can only change when the
  customer is in int_customers_to_recompute (new rows, or rows dated since
  the last build: those are after the date when it did not move; a new
  registration that may change the industry is a new row), so an incremental
  run deletes and recomputes those customers only
  (join_customers_to_recompute_as_of on its inputs). When the date moved, or
  the table is empty, it deletes every row and recomputes every customer.
  The choice is made once, from the table as the last build left it
  (rows_kept_as_of), for the pre-hook and the model's SQL alike.
#}
{% macro per_customer_incremental_as_of(key_columns, date_column, date_macro) -%}
    {{ config(
        materialized=incremental_materialization(),
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_customers_to_recompute_as_of(" ~ (key_columns | tojson) ~ ", '"
            ~ date_column ~ "', " ~ date_macro ~ "()) }}"
    ) }}
    -- depends_on: {{ ref('int_customers_to_recompute') }}
{%- endmacro %}

{% macro rows_kept_as_of(date_column, date_sql) -%}
    {%- if not (execute and is_incremental()) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set query -%}
        select 1 from {{ this }} where {{ date_column }} = {{ date_sql }} limit 1
    {%- endset -%}
    {{ return(run_query(query).rows | length > 0) }}
{%- endmacro %}

{% macro delete_customers_to_recompute_as_of(key_columns, date_column, date_sql) -%}
    {%- if is_incremental() -%}
        {%- if rows_kept_as_of(date_column, date_sql) -%}
            {{ delete_customers_to_recompute(key_columns) }}
        {%- else -%}
            delete from {{ this }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro join_customers_to_recompute_as_of(customer_key_expression, date_column, date_sql) -%}
    {%- if rows_kept_as_of(date_column, date_sql) -%}
        {{ join_customers_to_recompute(customer_key_expression) }}
    {%- endif -%}
{%- endmacro %}

{#
  The customer list (int_customers_unioned, int_customers_windowed). A
  customer's row there depends only on their own orders and customers rows
  (the merchants file and the seeds are the same in an incremental build: a
  change to either is a full refresh), so in a build the landing planned as
  incremental as of this date, the customers of int_customers_with_new_rows
  are the only ones whose row can change or appear. Such a model is
  incremental (`{{ customer_list_incremental() }}` at its top): the pre-hook
  deletes those customers' rows, then it appends what its SQL computes for
  them (join_customers_with_new_rows on its inputs). In an incremental run
  without such a plan (dbt run by hand after a full landing) it deletes every
  row and recomputes every customer.
#}
{% macro customer_list_is_partial() -%}
    {%- if not (execute and is_incremental()) -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(run_query(incremental_build_plan()).rows | length > 0) }}
{%- endmacro %}

{% macro delete_customers_with_new_rows() -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        {%- if customer_list_is_partial() %}
        where exists (
            select 1 from {{ ref('int_customers_with_new_rows') }} as new_rows
            where new_rows.merchant_id = {{ this }}.merchant_id
                and new_rows.customer_id = {{ this }}.customer_id
        )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{# an inner join (the list is small, the planner builds its hash table on it), or nothing #}
{% macro join_customers_with_new_rows(merchant_id_expression, customer_id_expression) -%}
    {%- if customer_list_is_partial() %}
    inner join (
        select merchant_id as new_rows_merchant_id, customer_id as new_rows_customer_id
        from {{ ref('int_customers_with_new_rows') }}
    ) as customers_with_new_rows
        on {{ merchant_id_expression }} = customers_with_new_rows.new_rows_merchant_id
        and {{ customer_id_expression }} = customers_with_new_rows.new_rows_customer_id
    {%- endif -%}
{%- endmacro %}

{% macro customer_list_incremental() -%}
    {{ config(
        materialized=incremental_materialization(),
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_customers_with_new_rows() }}"
    ) }}
    -- depends_on: {{ ref('int_customers_with_new_rows') }}
{%- endmacro %}
