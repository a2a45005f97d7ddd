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

{#
  Seeds on Spark: dbt-spark's session connection substitutes each binding as
  '<value>' without escaping, so an empty CSV cell arrives as the text 'None'
  and a quote inside a value breaks the statement. The rows are written as
  SQL literals instead: null, numbers and booleans as they are, text quoted
  with Spark's escapes.
#}
{% macro spark_seed_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is sameas true -%}
        true
    {%- elif value is sameas false -%}
        false
    {%- elif value is number -%}
        {{ value }}
    {%- else -%}
        '{{ (value | string).replace("\\", "\\\\").replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}

{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
                    cast({{ spark_seed_literal(row[loop.index0]) }} as {{ type }})
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.index0 == 0 -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}
