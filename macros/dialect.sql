{#
  Where DuckDB and Spark SQL differ, models call one of these macros; each
  has a default__ (DuckDB's SQL, also what other adapters get), a duckdb__ and
  a spark__ implementation, chosen by adapter.dispatch as dbt-utils does.
  Models never test target.type themselves. Types that both engines spell
  the same way through dbt's cross-database macros (dbt.type_string(), ...)
  are written with those.
#}

{#
  The materialization of the incremental staging models (*_checked). DuckDB
  stages only the new raw files (delete+insert on raw_row_id,
  macros/incremental_staging.sql); dbt-spark has no delete+insert for Parquet
  tables, and the Spark landing is always a full one, so there they are
  tables rebuilt from every raw row (is_incremental() is then false).
#}
{% macro staging_materialization() -%}
    {{- return(adapter.dispatch('staging_materialization', 'customer_lifecycle')()) -}}
{%- endmacro %}

{% macro default__staging_materialization() -%}
    {{- return('incremental') -}}
{%- endmacro %}

{% macro duckdb__staging_materialization() -%}
    {{- return('incremental') -}}
{%- endmacro %}

{% macro spark__staging_materialization() -%}
    {{- return('table') -}}
{%- endmacro %}
