{#
  dbt's `unique` test on DuckDB: the same failing rows as dbt's own (each
  repeated non-null value, with its number of rows), found through the
  repeated hashes first (repeated_keys, macros/deduplication.sql). dbt looks
  for the adapter's version of its tests in the root project first; other
  engines keep dbt's.
#}
{% macro duckdb__test_unique(model, column_name) %}
select {{ column_name }} as unique_field, n_records
from (
    {{ customer_lifecycle.repeated_keys(model, [column_name], column_name ~ ' is not null', 'n_records') }}
) as repeated_values
{% endmacro %}
