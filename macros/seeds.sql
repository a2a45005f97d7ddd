{#
  Reloading a seed into an existing table: dbt truncates the table and
  dbt-duckdb copies the CSV into it by position, so a renamed or added seed
  column would keep the table's old columns (and models reading the new name
  fail on an existing database). When the CSV header no longer matches the
  table's columns, the table is dropped and created from the CSV instead;
  otherwise dbt's own reset (truncate) runs.
#}
{% macro duckdb__reset_csv_table(model, full_refresh, old_relation, agate_table) %}
    {%- set table_columns = adapter.get_columns_in_relation(old_relation) | map(attribute='name') | map('lower') | list -%}
    {%- set csv_columns = agate_table.column_names | map('lower') | list -%}
    {%- if full_refresh or table_columns != csv_columns -%}
        {{ adapter.drop_relation(old_relation) }}
        {{ return(create_csv_table(model, agate_table)) }}
    {%- endif -%}
    {{ return(dbt.default__reset_csv_table(model, full_refresh, old_relation, agate_table)) }}
{% endmacro %}
