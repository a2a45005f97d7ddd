{#
  Where DuckDB and Spark SQL differ, models call one of these macros; each
  has a default__ (DuckDB's SQL, also what other adapters get), a duckdb__ and
  a spark__ implementation, chosen by adapter.dispatch as dbt-utils does.
  Models never test target.type themselves. Types that both engines spell
  the same way through dbt's cross-database macros (dbt.type_string(), ...)
  are written with those.
#}

{#
  The materialization of the incremental models: the staging models
  (*_checked, which stage only the new raw files: delete+insert on
  raw_row_id, macros/incremental_staging.sql) and the per-customer lifecycle
  models (which recompute only some customers, macros/incremental_lifecycle.sql).
  dbt-spark has no delete+insert for Parquet tables, and the Spark landing is
  always a full one, so there they are tables rebuilt in full
  (is_incremental() is then false).
#}
{% macro incremental_materialization() -%}
    {{- return(adapter.dispatch('incremental_materialization', 'customer_lifecycle')()) -}}
{%- endmacro %}

{% macro default__incremental_materialization() -%}
    {{- return('incremental') -}}
{%- endmacro %}

{% macro duckdb__incremental_materialization() -%}
    {{- return('incremental') -}}
{%- endmacro %}

{% macro spark__incremental_materialization() -%}
    {{- return('table') -}}
{%- endmacro %}

{#
  One row per day from start_date up to, not including, end_date, in a
  column named `column_name` (both bounds are date literals 'YYYY-MM-DD').
#}
{% macro day_series(start_date, end_date, column_name) -%}
    {{- return(adapter.dispatch('day_series', 'customer_lifecycle')(start_date, end_date, column_name)) -}}
{%- endmacro %}

{% macro default__day_series(start_date, end_date, column_name) -%}
    select cast(range as date) as {{ column_name }}
    from range(date '{{ start_date }}', date '{{ end_date }}', interval 1 day)
{%- endmacro %}

{% macro duckdb__day_series(start_date, end_date, column_name) -%}
    {{ default__day_series(start_date, end_date, column_name) }}
{%- endmacro %}

{% macro spark__day_series(start_date, end_date, column_name) -%}
    select explode(sequence(date '{{ start_date }}', date_sub(date '{{ end_date }}', 1), interval 1 day)) as {{ column_name }}
{%- endmacro %}

{#
  lag() whose offset is a column (one value per row), over
  (partition by `partition_by` order by `order_by`). DuckDB's lag takes any
  expression as its offset; Spark's only a constant, so there the value is
  read from the running list of the partition's values (negative index from
  the current row, null when there are too few rows). `value` must never be
  null (collect_list skips nulls) and `offset` must be >= 0.
#}
{% macro lag_by_column(value, offset, partition_by, order_by) -%}
    {{- return(adapter.dispatch('lag_by_column', 'customer_lifecycle')(value, offset, partition_by, order_by)) -}}
{%- endmacro %}

{% macro default__lag_by_column(value, offset, partition_by, order_by) -%}
    lag({{ value }}, {{ offset }}) over (partition by {{ partition_by }} order by {{ order_by }})
{%- endmacro %}

{% macro duckdb__lag_by_column(value, offset, partition_by, order_by) -%}
    {{ default__lag_by_column(value, offset, partition_by, order_by) }}
{%- endmacro %}

{% macro spark__lag_by_column(value, offset, partition_by, order_by) -%}
    try_element_at(
        collect_list({{ value }}) over (
            partition by {{ partition_by }} order by {{ order_by }}
            rows between unbounded preceding and current row
        ),
        -1 - ({{ offset }})
    )
{%- endmacro %}

{#
  In a select list: one output row per expression of `expressions` (a list of
  SQL expressions of one type; nulls give rows too), the other columns
  repeated on each.
#}
{% macro values_as_rows(expressions) -%}
    {{- return(adapter.dispatch('values_as_rows', 'customer_lifecycle')(expressions)) -}}
{%- endmacro %}

{% macro default__values_as_rows(expressions) -%}
    unnest([
        {%- for expression in expressions %}
        {{ expression }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    ])
{%- endmacro %}

{% macro duckdb__values_as_rows(expressions) -%}
    {{ default__values_as_rows(expressions) }}
{%- endmacro %}

{% macro spark__values_as_rows(expressions) -%}
    explode(array(
        {%- for expression in expressions %}
        {{ expression }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    ))
{%- endmacro %}

{#
  The distinct non-null values of `expression` in a group, sorted and joined
  by `separator` into one text; null when the group has none. DuckDB's
  string_agg takes DISTINCT and ORDER BY; Spark joins a sorted collect_set.
#}
{% macro distinct_sorted_list(expression, separator) -%}
    {{- return(adapter.dispatch('distinct_sorted_list', 'customer_lifecycle')(expression, separator)) -}}
{%- endmacro %}

{% macro default__distinct_sorted_list(expression, separator) -%}
    string_agg(distinct {{ expression }}, '{{ separator }}' order by {{ expression }})
{%- endmacro %}

{% macro spark__distinct_sorted_list(expression, separator) -%}
    case when count({{ expression }}) > 0
        then array_join(array_sort(collect_set({{ expression }})), '{{ separator }}')
    end
{%- endmacro %}
